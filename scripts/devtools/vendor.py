"""`scripts/vendor DEST [--package NAME]`: copy the client into another codebase as one self-contained package.

DEST/NAME (default `_openai_batches`) gets `batches_ext` at its top, so `from NAME import BatchesClient, errors` works
as `from batches_ext import ...` does, and the generated `openai_batches_client` as `NAME._generated`. Every import
of either name becomes relative, in every module, so the copy works wherever it lands (top level or inside another
package) and next to other copies or the real packages. Docstrings and comments follow the rename; other string
literals (log messages, logger names) are kept, and listed in the provenance file. Nothing else changes.

DEST/NAME/VENDORED.md records where the copy came from and lists its files with their hashes. Re-running replaces
the copy entirely (files gone upstream disappear) but refuses a DEST/NAME without that file, and one whose files
were edited since (`--force` discards the edits).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.metadata
import io
import keyword
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tokenize
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from devtools import regenerate

ROOT = Path(__file__).resolve().parents[2]
LAYER_DIR = ROOT / "batches_ext"
GENERATED_PACKAGE_DIR = regenerate.GENERATED_DIR / regenerate.PACKAGE
LAYER, GENERATED = "batches_ext", regenerate.PACKAGE
DEFAULT_NAME = "_openai_batches"
GENERATED_SUBPACKAGE = "_generated"
PROVENANCE = "VENDORED.md"
MARKER = "<!-- batches-ext scripts/vendor: this directory is generated; re-run scripts/vendor to update it -->"
GENERATOR_DIST = "openapi-python-client"
# Only meaningful inside the batches-ext project: its pytest plugin is registered by the project's own packaging.
EXCLUDED_FILES = frozenset({"pytest_plugin.py"})
EXCLUDED_DIRS = frozenset({"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
# Where the caller stood: scripts/vendor cds into the project before running this module.
CALLER_CWD_ENV = regenerate.CALLER_CWD_ENV
_MANIFEST_LINE = re.compile(r"^- `(?P<path>[^`]+)` (?P<sha256>[0-9a-f]{64})$")


class VendorError(Exception):
    """The copy cannot be made: a bad name, a destination it must not overwrite, or a source it cannot rewrite."""


@dataclass
class Result:
    """What `vendor` wrote."""

    target: Path
    files: dict[str, str]  # relative path -> sha256
    kept_mentions: list[str] = field(default_factory=list)  # "path:line: 'literal'" left as they were
    commit: str = ""


def vendor(
    dest: Path,
    name: str = DEFAULT_NAME,
    *,
    force: bool = False,
    layer_dir: Path = LAYER_DIR,
    generated_dir: Path = GENERATED_PACKAGE_DIR,
) -> Result:
    """Write DEST/NAME: `layer_dir` as the package, `generated_dir` as its `_generated` subpackage.

    Raises:
        VendorError: NAME is not a usable package name; DEST/NAME exists but was not made by this tool, or has local
            edits (unless `force`); a module imports the two packages in a way that cannot be made relative.
    """
    _check_name(name)
    target = dest / name
    for source in (layer_dir, generated_dir):
        if target.resolve().is_relative_to(source.resolve()):
            raise VendorError(f"refusing to vendor into {target}: it is inside the source {source}")
    if target.exists() or target.is_symlink():
        _check_replaceable(target, force=force)
    dest.mkdir(parents=True, exist_ok=True)
    # Build next to the target (same file system), then swap: a failure leaves the previous copy as it was.
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-new-", dir=dest))
    try:
        result = _build(staging, name, layer_dir, generated_dir)
        result.target = target
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{name}-old-", dir=dest))
            target.rename(retired / name)
            staging.rename(target)
            shutil.rmtree(retired)
        else:
            staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return result


def _check_name(name: str) -> None:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise VendorError(f"--package {name!r} is not a Python identifier (letters, digits, '_'; no leading digit)")
    if name in (LAYER, GENERATED):
        raise VendorError(f"--package {name!r} would shadow the original package of that name; choose another")


def _check_replaceable(target: Path, *, force: bool) -> None:
    provenance = target / PROVENANCE
    if target.is_symlink() or not target.is_dir() or not provenance.is_file() or MARKER not in provenance.read_text():
        raise VendorError(
            f"refusing to overwrite {target}: it was not made by scripts/vendor (no {PROVENANCE} with its marker)"
        )
    recorded = read_manifest(provenance.read_text())
    current = _hash_tree(target)
    current.pop(PROVENANCE, None)
    edited = sorted(path for path in recorded.keys() | current.keys() if recorded.get(path) != current.get(path))
    if edited and not force:
        shown = ", ".join(edited[:5]) + (f" and {len(edited) - 5} more" if len(edited) > 5 else "")
        raise VendorError(
            f"refusing to overwrite {target}: files changed since it was vendored ({shown}); "
            "make the change upstream in batches-ext, or pass --force to discard it"
        )


# --- building the copy ------------------------------------------------------------------------------------------


def _build(staging: Path, name: str, layer_dir: Path, generated_dir: Path) -> Result:
    renames = {LAYER: name, GENERATED: f"{name}.{GENERATED_SUBPACKAGE}"}
    sources = [(layer_dir, staging, name), (generated_dir, staging / GENERATED_SUBPACKAGE, renames[GENERATED])]
    if not (layer_dir / "__init__.py").is_file() or not (generated_dir / "__init__.py").is_file():
        raise VendorError(f"{layer_dir} and {generated_dir} must both be packages; run scripts/regenerate first")
    kept: list[str] = []
    for source_dir, out_dir, package in sources:
        for path in _source_files(source_dir):
            relative = path.relative_to(source_dir)
            out = out_dir / relative
            out.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix != ".py":
                shutil.copy2(path, out)
                continue
            module = ".".join([package, *relative.with_suffix("").parts])
            is_package = relative.name == "__init__.py"
            module = module.removesuffix(".__init__") if is_package else module
            shown = f"{source_dir.name}/{relative}"
            text, mentions = relocate(path.read_text(encoding="utf-8"), module, is_package, renames, shown)
            out.write_text(text, encoding="utf-8")
            kept += mentions
    _check_imports_resolve(staging, name, {GENERATED_SUBPACKAGE: f"{generated_dir.name}/", "": f"{layer_dir.name}/"})
    files = _hash_tree(staging)
    commit = _source_commit()
    (staging / PROVENANCE).write_text(_provenance(name, files, kept, commit))
    return Result(target=staging, files=files, kept_mentions=kept, commit=commit)


def _source_files(source_dir: Path) -> list[Path]:
    found = []
    for path in sorted(source_dir.rglob("*")):
        parts = path.relative_to(source_dir).parts
        if not path.is_file() or EXCLUDED_DIRS.intersection(parts) or path.suffix in EXCLUDED_SUFFIXES:
            continue
        if len(parts) == 1 and parts[0] in EXCLUDED_FILES:
            continue
        found.append(path)
    return found


# --- rewriting imports ------------------------------------------------------------------------------------------


def relocate(text: str, module: str, is_package: bool, renames: dict[str, str], shown: str) -> tuple[str, list[str]]:
    """Rewrite `text` (the module that becomes `module`) so that it never names the packages in `renames`.

    Imports of them become relative imports of their new names; mentions in docstrings and comments are renamed.
    Returns the new text and the string literals that still mention an old name (messages, logger names).

    Raises:
        VendorError: an import that cannot be made relative (`import batches_ext` binding the top-level name).
    """
    tree = ast.parse(text, filename=shown)
    package = module if is_package else module.rpartition(".")[0]
    lines = io.StringIO(text).readlines()  # split as tokenize splits: on "\n" only
    line_starts = [0]
    for line in lines:
        line_starts.append(line_starts[-1] + len(line))

    def at(line: int, char_col: int) -> int:
        return line_starts[line - 1] + char_col

    def char_col(line: int, byte_col: int) -> int:  # ast counts columns in UTF-8 bytes, tokenize in characters
        return len(lines[line - 1].encode("utf-8")[:byte_col].decode("utf-8"))

    def renamed(dotted: str) -> str | None:
        root, _, rest = dotted.partition(".")
        return renames[root] + (f".{rest}" if rest else "") if root in renames else None

    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    token_index = {tok.start: i for i, tok in enumerate(tokens)}
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) as character offsets into `text`
    docstrings: set[tuple[int, int]] = set()  # (line, character column) where each docstring starts
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add((first.lineno, char_col(first.lineno, first.col_offset)))
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            new_module = renamed(node.module)
            if new_module is None:
                continue
            # Replace only the module's tokens, between `from` and `import`: layout and comments stay as they were.
            first_token = token_index[(node.lineno, char_col(node.lineno, node.col_offset))] + 1
            last_token = next(k for k in range(first_token, len(tokens)) if tokens[k].string == "import") - 1
            begin, finish = tokens[first_token].start, tokens[last_token].end
            edits.append((at(*begin), at(*finish), _relative(new_module, package)))
        elif isinstance(node, ast.Import) and any(renamed(alias.name) for alias in node.names):
            parts = [_import_statement(alias, renamed(alias.name), package, shown, node.lineno) for alias in node.names]
            end_line = node.end_lineno or node.lineno
            begin_at = at(node.lineno, char_col(node.lineno, node.col_offset))
            edits.append((begin_at, at(end_line, char_col(end_line, node.end_col_offset or 0)), "; ".join(parts)))

    old_names = re.compile(r"\b(" + "|".join(map(re.escape, renames)) + r")\b")
    kept: list[str] = []
    for tok in tokens:
        if tok.type not in (tokenize.COMMENT, tokenize.STRING) or not old_names.search(tok.string):
            continue
        if tok.type == tokenize.STRING and tok.start not in docstrings:
            kept.append(f"{shown}:{tok.start[0]}: {tok.string}")
            continue
        edits.append((at(*tok.start), at(*tok.end), old_names.sub(lambda m: renames[m[1]], tok.string)))

    for begin_at, end_at, replacement in sorted(edits, reverse=True):
        text = text[:begin_at] + replacement + text[end_at:]
    _check_no_absolute_imports(text, renames, shown)
    return text, kept


def _relative(target: str, package: str) -> str:
    """`target` as a relative module name seen from `package` (both absolute, sharing their first part)."""
    t, p = target.split("."), package.split(".")
    common = 0
    while common < min(len(t), len(p)) and t[common] == p[common]:
        common += 1
    return "." * (len(p) - common + 1) + ".".join(t[common:])


def _import_statement(alias: ast.alias, new: str | None, package: str, shown: str, line: int) -> str:
    if new is None:  # another module in the same statement: kept as it was
        return f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
    parent, _, last = new.rpartition(".")
    if alias.asname is None or not parent:
        raise VendorError(
            f"{shown}:{line}: `import {alias.name}` binds the top-level name, which a vendored copy cannot keep; "
            f"write `from ... import ...` (or `import {alias.name} as x` for a submodule) in batches-ext"
        )
    return f"from {_relative(parent, package)} import {last} as {alias.asname}"


def _check_no_absolute_imports(text: str, renames: dict[str, str], shown: str) -> None:
    for node in ast.walk(ast.parse(text, filename=shown)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for dotted in names:
            if dotted.partition(".")[0] in renames:
                line = getattr(node, "lineno", "?")
                raise VendorError(f"{shown}:{line}: import of {dotted} left after rewriting (a bug)")


def _check_imports_resolve(staging: Path, name: str, origins: dict[str, str]) -> None:
    """Every relative import must name a module of the copy: one importing an excluded file would break there.

    `origins` maps a top-level directory of the copy ("" for the rest) to its source's name, for the messages.
    """
    for path in sorted(staging.rglob("*.py")):
        relative = path.relative_to(staging)
        top = relative.parts[0] if relative.parts[0] in origins else ""
        shown = origins[top] + str(relative.relative_to(top) if top else relative)
        package = [name, *relative.parent.parts]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level == 0:
                continue
            if node.level > len(package):
                raise VendorError(f"{shown}:{node.lineno}: a relative import reaches above the package")
            base = package[: len(package) - node.level + 1] + (node.module.split(".") if node.module else [])
            module_path = staging.joinpath(*base[1:])
            if not (module_path.with_suffix(".py").is_file() or (module_path / "__init__.py").is_file()):
                dotted = ".".join(base).replace(name, "<package>", 1)
                raise VendorError(f"{shown}:{node.lineno}: imports {dotted}, which is not in the copy")


# --- provenance -------------------------------------------------------------------------------------------------


def _hash_tree(directory: Path) -> dict[str, str]:
    return {
        path.relative_to(directory).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and not EXCLUDED_DIRS.intersection(path.relative_to(directory).parts)
    }


def read_manifest(provenance: str) -> dict[str, str]:
    """The file hashes recorded in a VENDORED.md."""
    return {m["path"]: m["sha256"] for m in map(_MANIFEST_LINE.match, provenance.splitlines()) if m}


def _git(*args: str) -> str | None:
    try:
        command = ["git", "-C", str(ROOT), *args]  # git from PATH, as the developer running this would
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _source_commit() -> str:
    """HEAD, plus `-dirty` when the vendored sources differ from it (edited, added or deleted files)."""
    head = _git("rev-parse", "HEAD")
    if head is None:
        return "unknown (not a git checkout)"
    inputs = [str(p.relative_to(ROOT)) for p in (LAYER_DIR, regenerate.GENERATED_DIR, regenerate.OPENAPI_DIR)]
    status = _git("status", "--porcelain", "--untracked-files=all", "--", *inputs)
    return head + ("-dirty" if status else "")


def _generator_version() -> str:
    try:
        return importlib.metadata.version(GENERATOR_DIST)
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed where scripts/vendor ran)"


def _runtime_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"])


def _vendored_at() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")  # reproducible builds pin the date this way
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _provenance(name: str, files: dict[str, str], kept: list[str], commit: str) -> str:
    fragment = regenerate.FRAGMENT
    spec_hash = hashlib.sha256(fragment.read_bytes()).hexdigest()
    remote = _git("remote", "get-url", "origin") or str(ROOT)
    kept_lines = "\n".join(f"- `{line}`" for line in kept) or "- none"
    manifest = "\n".join(f"- `{path}` {digest}" for path, digest in files.items())
    return f"""\
# Vendored: batches-ext

{MARKER}

A copy of [batches-ext]({remote}), a client for cancelling OpenAI batches, as one self-contained package:
`{name}` is `{LAYER}` (same public API: `from {name} import BatchesClient, errors`) and `{name}.{GENERATED_SUBPACKAGE}`
is the generated `{GENERATED}`.

**No functional changes: imports rewritten only.** Every import of `{LAYER}` or `{GENERATED}` became a relative
import, and docstrings and comments name the new modules. Left out: `pytest_plugin.py` and caches.

| | |
|---|---|
| Source | {remote} |
| Commit | `{commit}` |
| Spec | `{fragment.relative_to(ROOT).as_posix()}` sha256 `{spec_hash}` |
| Generator | {GENERATOR_DIST} {_generator_version()} |
| Vendored at | {_vendored_at()} |
| Runtime requirements | {", ".join(f"`{r}`" for r in _runtime_requirements())} |

## Updating

Do not edit these files: fix the code in batches-ext, then, from its checkout, run

    scripts/vendor <this directory's parent> --package {name}

It replaces this directory entirely (files removed upstream disappear) and rewrites this file. It refuses to run if
files here changed since (the hashes below tell), unless given `--force`.

## String literals that still name the original packages

Log messages, help texts and logger names; they are data, not imports, and were left as they were.

{kept_lines}

## Files (sha256)

{manifest}
"""


# --- command line -----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/vendor", description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path, help="directory to write the package into (created if missing)")
    parser.add_argument("--package", default=DEFAULT_NAME, help="the package's name (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="overwrite a vendored copy even if its files were edited")
    args = parser.parse_args(argv)
    try:
        result = vendor(regenerate.from_caller(args.dest), args.package, force=args.force)
    except (VendorError, OSError, SyntaxError) as exc:
        print(f"vendor: {exc}", file=sys.stderr)
        return 1
    print(f"Vendored {LAYER} and {GENERATED} ({len(result.files)} files) from {result.commit} into {result.target}.")
    print(f"Use it as `from {args.package} import BatchesClient, errors`; provenance in {result.target / PROVENANCE}.")
    if result.kept_mentions:
        print(f"{len(result.kept_mentions)} string literal(s) still name the original packages (listed there).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
