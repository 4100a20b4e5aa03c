"""`scripts/regenerate [--check]`: write `generated/openai_batches_client/` from `openapi/openai-batches.yaml`.

Runs the pinned openapi-python-client with the committed config and templates into a scratch directory, formats the
result with the pinned ruff (explicitly: the generator's own hooks are skipped silently when ruff is not on PATH),
then replaces `generated/` with it. `--check` compares instead of writing and names every stale file.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRAGMENT = ROOT / "openapi" / "openai-batches.yaml"
CONFIG = ROOT / "openapi" / "generator-config.yaml"
TEMPLATES = ROOT / "openapi" / "templates"
PACKAGE = "openai_batches_client"
GENERATED_DIR = ROOT / "generated"
# Files that tools drop next to the code and that must never count as part of it.
IGNORED_NAMES = frozenset({".ruff_cache", "__pycache__", ".mypy_cache"})


class GenerationError(Exception):
    """The generator or the formatter failed."""


def generate(fragment: Path, out_dir: Path, package: str = PACKAGE) -> Path:
    """Generate the client for `fragment` into `out_dir/package` (replacing it) and return that directory."""
    with tempfile.TemporaryDirectory(prefix="batches-ext-gen-") as scratch:
        built = _build(fragment, Path(scratch) / package)
        target = out_dir / package
        out_dir.mkdir(parents=True, exist_ok=True)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(built, target, ignore=shutil.ignore_patterns(*IGNORED_NAMES))
    return target


def stale_files(fragment: Path, out_dir: Path, package: str = PACKAGE) -> list[str]:
    """Return the files of `out_dir/package` that differ from, lack, or add to what `fragment` produces."""
    with tempfile.TemporaryDirectory(prefix="batches-ext-gen-") as scratch:
        built = _build(fragment, Path(scratch) / package)
        return _differences(built, out_dir / package, f"{out_dir.name}/{package}")


def _build(fragment: Path, destination: Path) -> Path:
    bin_dir = Path(sys.executable).parent
    generator = [
        str(bin_dir / "openapi-python-client"),
        "generate",
        "--path", str(fragment),
        "--config", str(CONFIG),
        "--custom-template-path", str(TEMPLATES),
        "--meta", "none",
        "--output-path", str(destination),
        "--fail-on-warning",
        "--overwrite",
    ]  # fmt: skip
    ruff = [sys.executable, "-m", "ruff"]
    # --isolated: the output must not depend on the project's own lint settings; --no-cache: no .ruff_cache.
    hooks = [
        [*ruff, "check", "--isolated", "--no-cache", "--fix-only", "--extend-select=I", "--quiet", destination.name],
        [*ruff, "format", "--isolated", "--no-cache", "--quiet", destination.name],
    ]
    # Run from the parent: `python -m` puts the working directory on sys.path, and the package's own `types.py`
    # would shadow the standard library's.
    for command in (generator, *hooks):
        _run(command, cwd=destination.parent)
    return destination


def _run(command: list[str], cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise GenerationError(f"{Path(command[0]).name} {' '.join(command[1:3])} failed:\n{output}")


def _differences(expected: Path, actual: Path, label: str) -> list[str]:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/regenerate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 naming stale files instead of writing")
    parser.add_argument("--fragment", type=Path, default=FRAGMENT, help="OpenAPI fragment (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=GENERATED_DIR, help="output directory (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = stale_files(args.fragment, args.out)
            if stale:
                print("generated/ is stale; run scripts/regenerate. Stale files:", file=sys.stderr)
                print("\n".join(f"  {name}" for name in stale), file=sys.stderr)
                return 1
            print(f"{args.out.name}/{PACKAGE} matches {args.fragment.name}.")
            return 0
        target = generate(args.fragment, args.out)
    except GenerationError as exc:
        print(f"regenerate: {exc}", file=sys.stderr)
        return 1
    print(f"Wrote {target}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
