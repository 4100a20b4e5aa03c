"""Removing credentials from text that may echo them: the one place that knows what a leaked key looks like.

A secret leaks whole, in part (a server quoting its first characters) or masked (OpenAI's 401 says "Incorrect API
key provided: abc12***wxyz"), whatever its prefix: `sk-`, a proxy's, Azure's hex. Standard library only: the CLI
uses it before it imports the client.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

__all__ = ["MIN_FRAGMENT_LEN", "REDACTED", "redact_masked_keys", "redact_secrets"]

REDACTED: Final = "[redacted]"
# This many consecutive characters of a secret count as a leak; shorter runs turn up in ordinary text by chance.
MIN_FRAGMENT_LEN: Final = 8
# A masked key: key characters around a run of asterisks (`sk-abc*****wxyz`, `abc12***mno`), any prefix.
_KEY_CHARS = r"[A-Za-z0-9_\-]"
_MASKED_KEY = re.compile(rf"{_KEY_CHARS}+\*{{3,}}{_KEY_CHARS}*|\*{{3,}}{_KEY_CHARS}+")


def redact_masked_keys(text: str) -> str:
    """`text` with every masked key (`sk-abc*****wxyz`, `abc12***mno`) replaced by `[redacted]`."""
    return _MASKED_KEY.sub(REDACTED, text) if "***" in text else text


def redact_secrets(text: str, secrets: Iterable[str]) -> str:
    """`text` with each secret, and any run of `MIN_FRAGMENT_LEN` or more of its characters, replaced by `[redacted]`.

    A secret shorter than `MIN_FRAGMENT_LEN` is replaced only whole.
    """
    for secret in secrets:
        if len(secret) < MIN_FRAGMENT_LEN:
            text = text.replace(secret, REDACTED) if secret else text
        else:
            text = _without_fragments(text, secret)
    return text


def _without_fragments(text: str, secret: str) -> str:
    spans: list[tuple[int, int]] = []
    for start in range(len(secret) - MIN_FRAGMENT_LEN + 1):
        fragment = secret[start : start + MIN_FRAGMENT_LEN]
        at = text.find(fragment)
        while at >= 0:
            spans.append((at, at + MIN_FRAGMENT_LEN))
            at = text.find(fragment, at + 1)
    if not spans:
        return text
    spans.sort()
    pieces: list[str] = []
    done = 0  # text[:done] is in pieces
    begin, end = spans[0]
    for span_begin, span_end in spans[1:]:
        if span_begin <= end:  # overlapping or touching: one leak
            end = max(end, span_end)
            continue
        pieces += [text[done:begin], REDACTED]
        done, (begin, end) = end, (span_begin, span_end)
    pieces += [text[done:begin], REDACTED, text[end:]]
    return "".join(pieces)
