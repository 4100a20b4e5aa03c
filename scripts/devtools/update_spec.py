"""`scripts/update-spec SOURCE`: rebuild `openapi/openai-batches.yaml` from OpenAI's full OpenAPI document.

Extracts the operations of `openapi/operations.txt` and their `$ref` closure, re-applies `openapi/overrides.yaml`,
writes the fragment, regenerates `generated/` and prints what changed. The client is generated into a scratch
directory first, so on any error (a missing operation, a dangling `$ref`, an override that no longer applies, a
generator failure) neither `openapi/` nor `generated/` is touched.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from devtools import regenerate
from devtools.spec import SpecError, build_fragment, parse_operation_ids, parse_yaml, render_fragment, summarize_changes

ROOT = Path(__file__).resolve().parents[2]
OPENAPI_DIR = regenerate.OPENAPI_DIR
GENERATED_DIR = regenerate.GENERATED_DIR
FRAGMENT_NAME = regenerate.FRAGMENT_NAME
DOWNLOAD_TIMEOUT_S = 60  # the document is a few megabytes
HEADER = """\
OpenAI Batch API: the operations this project uses, extracted from OpenAI's OpenAPI document.
Written by scripts/update-spec; do not edit by hand. Corrections to upstream live in overrides.yaml,
the operations taken in operations.txt.
Source: {name} (sha256 {sha256}), OpenAPI {openapi}, info.version {version}.
"""
NO_CHANGES = "No operation, schema, field or enum value was added or removed."


@dataclass(frozen=True)
class Source:
    """An upstream document: where it came from, its bytes (for the hash in the header) and its parsed form."""

    name: str
    raw: bytes
    document: dict[str, Any]


def load_source(source: str) -> Source:
    """Read and parse SOURCE, a local path or an http(s) URL.

    Raises:
        SpecError: SOURCE cannot be read, is not YAML/JSON, or is not an OpenAPI document.
    """
    try:
        if source.startswith(("http://", "https://")):
            with urllib.request.urlopen(source, timeout=DOWNLOAD_TIMEOUT_S) as response:  # noqa: S310 - scheme checked
                raw: bytes = response.read()
        else:
            raw = Path(source).read_bytes()
        document = parse_yaml(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot read {source}: {exc}") from exc
    if not isinstance(document, dict) or "paths" not in document or "openapi" not in document:
        raise SpecError(f"{source} is not an OpenAPI document (no 'openapi' and 'paths')")
    return Source(name=source.rstrip("/").rsplit("/", 1)[-1], raw=raw, document=document)


def update(
    source: str | Source,
    openapi_dir: Path = OPENAPI_DIR,
    generated_dir: Path = GENERATED_DIR,
    *,
    run_generator: bool = True,
) -> list[str]:
    """Rebuild the fragment in `openapi_dir` from `source`, regenerate into `generated_dir`; return the summary.

    `source` may be already loaded (`load_source`), so a caller updating several copies parses it once.

    Raises:
        SpecError: the document lacks an operation, has a dangling `$ref`, or an override no longer applies.
        regenerate.GenerationError: the generator rejected the new fragment.
    """
    loaded = source if isinstance(source, Source) else load_source(source)
    try:
        operation_ids = parse_operation_ids((openapi_dir / "operations.txt").read_text())
        overrides = parse_yaml((openapi_dir / "overrides.yaml").read_text()) or []
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot read the extraction settings in {openapi_dir}: {exc}") from exc
    fragment = build_fragment(loaded.document, operation_ids, overrides)
    header = HEADER.format(
        name=loaded.name,
        sha256=hashlib.sha256(loaded.raw).hexdigest(),
        openapi=loaded.document.get("openapi", "?"),
        version=(loaded.document.get("info") or {}).get("version", "?"),
    )
    text = render_fragment(fragment, header)

    fragment_path = openapi_dir / FRAGMENT_NAME
    previous_text = fragment_path.read_text() if fragment_path.exists() else None
    with tempfile.TemporaryDirectory(prefix="batches-ext-update-") as scratch:
        if run_generator:  # generate before writing anything: a generator failure leaves everything as it was
            candidate = Path(scratch) / FRAGMENT_NAME
            candidate.write_text(text)
            built = regenerate.build(candidate, Path(scratch) / "out" / regenerate.PACKAGE, openapi_dir=openapi_dir)
        _write_atomically(fragment_path, text)
        if run_generator:
            try:
                regenerate.install(built, generated_dir)
            except BaseException:
                _restore(fragment_path, previous_text)
                raise
    previous = parse_yaml(previous_text) if previous_text else None
    return summarize_changes(previous if isinstance(previous, dict) else None, fragment)


def _write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the new one, never half of one."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _restore(path: Path, text: str | None) -> None:
    if text is None:
        path.unlink(missing_ok=True)
    else:
        _write_atomically(path, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/update-spec", description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="path or URL of OpenAI's full OpenAPI document (YAML or JSON)")
    parser.add_argument("--no-regenerate", action="store_true", help="write the fragment only")
    parser.add_argument(
        "--openapi-dir", type=Path, default=OPENAPI_DIR, help="the openapi directory to update (default: %(default)s)"
    )
    parser.add_argument(
        "--generated-dir", type=Path, default=GENERATED_DIR, help="where to regenerate (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    source = args.source
    if not source.startswith(("http://", "https://")):
        source = str(regenerate.from_caller(Path(source)))
    args.openapi_dir, args.generated_dir = (
        regenerate.from_caller(args.openapi_dir),
        regenerate.from_caller(args.generated_dir),
    )
    try:
        changes = update(source, args.openapi_dir, args.generated_dir, run_generator=not args.no_regenerate)
    except (SpecError, regenerate.GenerationError) as exc:
        print(f"update-spec: {exc}", file=sys.stderr)
        print(f"update-spec: nothing was changed in {args.openapi_dir} or {args.generated_dir}.", file=sys.stderr)
        return 1
    print(f"Updated {args.openapi_dir / FRAGMENT_NAME} from {args.source}.")
    print("\n".join(changes) if changes else NO_CHANGES)
    if args.no_regenerate:
        print("The generated client was not rebuilt: run scripts/regenerate.")
    else:
        regenerate.warn_about_layer(args.generated_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
