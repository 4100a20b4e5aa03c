"""`scripts/update-spec SOURCE`: rebuild `openapi/openai-batches.yaml` from OpenAI's full OpenAPI document.

Extracts the operations of `openapi/operations.txt` and their `$ref` closure, re-applies `openapi/overrides.yaml`,
writes the fragment, regenerates `generated/` and prints what changed. On any error `openapi/` is left untouched.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import urllib.request
from pathlib import Path
from typing import Any

from tools import regenerate
from tools.spec import SpecError, build_fragment, parse_operation_ids, parse_yaml, render_fragment, summarize_changes

ROOT = Path(__file__).resolve().parent.parent
OPENAPI_DIR = ROOT / "openapi"
FRAGMENT = OPENAPI_DIR / "openai-batches.yaml"
HEADER = """\
OpenAI Batch API: the operations this project uses, extracted from OpenAI's OpenAPI document.
Written by scripts/update-spec; do not edit by hand. Corrections to upstream live in overrides.yaml,
the operations taken in operations.txt.
Source: {name} (sha256 {sha256}), OpenAPI {openapi}, info.version {version}.
"""


def read_source(source: str) -> bytes:
    """Read SOURCE, a local path or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=60) as response:  # noqa: S310 - the scheme is checked above
            data: bytes = response.read()
            return data
    return Path(source).read_bytes()


def update(source: str, openapi_dir: Path = OPENAPI_DIR, *, run_generator: bool = True) -> list[str]:
    """Rebuild the fragment in `openapi_dir` from `source`; return the change summary.

    Raises:
        SpecError: the document lacks an operation, has a dangling `$ref`, or an override no longer applies.
    """
    raw = read_source(source)
    document = parse_yaml(raw.decode("utf-8"))
    if not isinstance(document, dict) or "paths" not in document:
        raise SpecError(f"{source} is not an OpenAPI document (no 'paths')")
    operation_ids = parse_operation_ids((openapi_dir / "operations.txt").read_text())
    overrides = parse_yaml((openapi_dir / "overrides.yaml").read_text()) or []
    fragment = build_fragment(document, operation_ids, overrides)

    fragment_path = openapi_dir / FRAGMENT.name
    previous_text = fragment_path.read_text() if fragment_path.exists() else None
    header = HEADER.format(
        name=Path(source).name,
        sha256=hashlib.sha256(raw).hexdigest(),
        openapi=document.get("openapi", "?"),
        version=document.get("info", {}).get("version", "?"),
    )
    fragment_path.write_text(render_fragment(fragment, header))
    if run_generator:
        try:
            regenerate.generate(fragment_path, regenerate.GENERATED_DIR)
        except BaseException:
            _restore(fragment_path, previous_text)
            raise
    previous: dict[str, Any] | None = parse_yaml(previous_text) if previous_text else None
    return summarize_changes(previous, fragment)


def _restore(path: Path, text: str | None) -> None:
    if text is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/update-spec", description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="path or URL of OpenAI's full OpenAPI document (YAML or JSON)")
    parser.add_argument("--no-regenerate", action="store_true", help="write the fragment only")
    args = parser.parse_args(argv)
    try:
        changes = update(args.source, run_generator=not args.no_regenerate)
    except (SpecError, OSError) as exc:
        print(f"update-spec: {exc}", file=sys.stderr)
        return 1
    print(f"Updated {FRAGMENT.relative_to(ROOT)} from {args.source}.")
    print("\n".join(changes) if changes else "No operation, field or enum value was added or removed.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
