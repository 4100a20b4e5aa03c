"""`scripts/regenerate [--check]`: write `generated/openai_batches_client/` from `openapi/openai-batches.yaml`.

Runs the pinned openapi-python-client with the committed config and templates into a scratch directory, formats the
result with the pinned ruff (explicitly: the generator's own hooks are skipped silently when ruff is not on PATH),
then replaces `generated/` with it. `--check` compares instead of writing and names every stale file.
Either way it then warns, naming them, about generated fields the hand-written layer has no typed accessor for
(they work already, as received; tests/test_wire_objects.py fails on them until the layer types or lists them).
`--openapi-dir` and `--out` point it at another copy of `openapi/` and another output directory (tests and
`scripts/update-spec` use them to regenerate into a scratch directory).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OPENAPI_DIR = ROOT / "openapi"
# Names inside an openapi directory: the fragment, the generator's config and its template overrides.
FRAGMENT_NAME = "openai-batches.yaml"
CONFIG_NAME = "generator-config.yaml"
TEMPLATES_NAME = "templates"
FRAGMENT = OPENAPI_DIR / FRAGMENT_NAME
PACKAGE = "openai_batches_client"
GENERATED_DIR = ROOT / "generated"
# Set by the scripts/ wrappers that support it: they change into the project, so relative paths given on their command
# line are taken from here.
CALLER_CWD_ENV = "BATCHES_EXT_CALLER_CWD"
# Files that tools drop next to the code and that must never count as part of it.
IGNORED_NAMES = frozenset({".ruff_cache", "__pycache__", ".mypy_cache"})


def from_caller(path: Path) -> Path:
    """`path` as the user meant it: relative to where they ran the wrapper script, when it says so."""
    caller = os.environ.get(CALLER_CWD_ENV)
    return Path(caller) / path if caller and not path.is_absolute() else path


class GenerationError(Exception):
    """The generator or the formatter failed."""


def generate(
    fragment: Path = FRAGMENT, out_dir: Path = GENERATED_DIR, package: str = PACKAGE, *, openapi_dir: Path = OPENAPI_DIR
) -> Path:
    """Generate the client for `fragment` into `out_dir/package` (replacing it) and return that directory.

    The generator's config and templates come from `openapi_dir`. Nothing in `out_dir` changes if generation fails.

    Raises:
        GenerationError: the generator or the formatter failed.
    """
    with tempfile.TemporaryDirectory(prefix="batches-ext-gen-") as scratch:
        built = build(fragment, Path(scratch) / package, openapi_dir=openapi_dir)
        return install(built, out_dir, package)


def install(built: Path, out_dir: Path, package: str = PACKAGE) -> Path:
    """Replace `out_dir/package` with a copy of the `built` package directory and return it."""
    target = out_dir / package
    out_dir.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(built, target, ignore=shutil.ignore_patterns(*IGNORED_NAMES))
    return target


def stale_files(
    fragment: Path = FRAGMENT, out_dir: Path = GENERATED_DIR, package: str = PACKAGE, *, openapi_dir: Path = OPENAPI_DIR
) -> list[str]:
    """Return the files of `out_dir/package` that differ from, lack, or add to what `fragment` produces."""
    with tempfile.TemporaryDirectory(prefix="batches-ext-gen-") as scratch:
        built = build(fragment, Path(scratch) / package, openapi_dir=openapi_dir)
        return differences(built, out_dir / package, f"{out_dir.name}/{package}")


def build(fragment: Path, destination: Path, *, openapi_dir: Path = OPENAPI_DIR) -> Path:
    """Run the generator and the formatter for `fragment`, writing the package to `destination`; return it.

    Raises:
        GenerationError: the generator or the formatter failed.
    """
    bin_dir = Path(sys.executable).parent
    generator = [
        str(bin_dir / "openapi-python-client"),
        "generate",
        "--path", str(fragment.resolve()),
        "--config", str((openapi_dir / CONFIG_NAME).resolve()),
        "--custom-template-path", str((openapi_dir / TEMPLATES_NAME).resolve()),
        "--meta", "none",
        "--output-path", str(destination.resolve()),
        "--fail-on-warning",
        "--overwrite",
    ]  # fmt: skip
    ruff = [sys.executable, "-m", "ruff"]
    # --isolated: the output must not depend on the project's own lint settings; --no-cache: no .ruff_cache.
    hooks = [
        [*ruff, "check", "--isolated", "--no-cache", "--fix-only", "--extend-select=I", "--quiet", destination.name],
        [*ruff, "format", "--isolated", "--no-cache", "--quiet", destination.name],
    ]
    destination.parent.mkdir(parents=True, exist_ok=True)
    # Run from the parent: `python -m` puts the working directory on sys.path, and the package's own `types.py`
    # would shadow the standard library's.
    steps = {"openapi-python-client generate": generator, "ruff check --fix": hooks[0], "ruff format": hooks[1]}
    for label, command in steps.items():
        _run(label, command, cwd=destination.parent)
    return destination


def _run(label: str, command: list[str], cwd: Path) -> None:
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as exc:  # the generator is not installed in this environment
        raise GenerationError(f"{label}: cannot run {command[0]}: {exc}") from exc
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise GenerationError(f"{label} failed:\n{output}")


def differences(expected: Path, actual: Path, label: str) -> list[str]:
    """Name the files of `actual` (shown under `label`) that are missing from, added to or differ from `expected`."""

    def files(root: Path) -> set[str]:
        if not root.is_dir():
            return set()
        return {
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file() and not IGNORED_NAMES.intersection(p.relative_to(root).parts)
        }

    want, have = files(expected), files(actual)
    stale = [f"{label}/{name} (missing)" for name in sorted(want - have)]
    stale += [f"{label}/{name} (not produced by the fragment)" for name in sorted(have - want)]
    stale += [
        f"{label}/{name} (differs)"
        for name in sorted(want & have)
        if not filecmp.cmp(expected / name, actual / name, shallow=False)
    ]
    return stale


# Run in a child whose `openai_batches_client` is the one just generated (PYTHONPATH beats the editable install's
# .pth entry): which generated fields do the layer's wire objects neither type nor list as received?
_LAYER_PROBE = (
    "import json, batches_ext\nfrom batches_ext._model import unreviewed_fields\nprint(json.dumps(unreviewed_fields()))"
)


def unreviewed_layer_fields(out_dir: Path = GENERATED_DIR) -> dict[str, list[str]]:
    """The generated fields in `out_dir` that the layer's wire objects neither type nor list in `_AS_RECEIVED`.

    Raises:
        GenerationError: the layer cannot even be imported against that generated package.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(out_dir), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-c", _LAYER_PROBE]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise GenerationError(f"batches_ext does not import against {out_dir}:\n{result.stderr.strip()}")
    report: dict[str, list[str]] = json.loads(result.stdout)
    return report


def layer_warning(report: dict[str, list[str]]) -> str:
    """What `scripts/regenerate` and `scripts/update-spec` print about `report` ("" when there is nothing)."""
    if not report:
        return ""
    lines = ["warning: generated fields without a typed accessor in batches_ext (they work already, as received):"]
    lines += [f"  {cls}: {', '.join(fields)}" for cls, fields in sorted(report.items())]
    lines.append(
        "  Give each a typed, documented property (batches_ext/_batch.py, _file.py, _page.py) or list it in the "
        "class's _AS_RECEIVED (_NESTED_REVIEWED for a nested object); tests/test_wire_objects.py fails until then."
    )
    return "\n".join(lines)


def warn_about_layer(out_dir: Path) -> None:
    """Print `layer_warning` for `out_dir` on stderr; a layer that does not import is reported, not raised."""
    try:
        warning = layer_warning(unreviewed_layer_fields(out_dir))
    except GenerationError as exc:
        warning = f"warning: {exc}"
    if warning:
        print(warning, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/regenerate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 naming stale files instead of writing")
    parser.add_argument(
        "--openapi-dir", type=Path, default=OPENAPI_DIR, help="fragment, config and templates (default: %(default)s)"
    )
    parser.add_argument("--fragment", type=Path, help=f"OpenAPI fragment (default: OPENAPI_DIR/{FRAGMENT_NAME})")
    parser.add_argument("--out", type=Path, default=GENERATED_DIR, help="output directory (default: %(default)s)")
    args = parser.parse_args(argv)
    args.openapi_dir, args.out = from_caller(args.openapi_dir), from_caller(args.out)
    fragment: Path = from_caller(args.fragment) if args.fragment else args.openapi_dir / FRAGMENT_NAME
    try:
        if args.check:
            stale = stale_files(fragment, args.out, openapi_dir=args.openapi_dir)
            if stale:
                print(f"{args.out.name}/ is stale; run scripts/regenerate. Stale files:", file=sys.stderr)
                print("\n".join(f"  {name}" for name in stale), file=sys.stderr)
                return 1
            print(f"{args.out.name}/{PACKAGE} matches {fragment.name}.")
            warn_about_layer(args.out)
            return 0
        target = generate(fragment, args.out, openapi_dir=args.openapi_dir)
    except GenerationError as exc:
        print(f"regenerate: {exc}", file=sys.stderr)
        return 1
    print(f"Wrote {target}.")
    warn_about_layer(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
