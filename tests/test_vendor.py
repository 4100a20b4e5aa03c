"""scripts/vendor: one self-contained package that works where batches-ext is not installed, next to other copies.

The isolated interpreter is this venv's Python with `-I -S` (no site-packages, no .pth, no PYTHONPATH) and a sys.path
of the standard library plus a directory of symlinks to exactly the distributions that httpx, attrs and
python-dateutil need, found from their metadata: so the copy is proven to need nothing else.
"""

from __future__ import annotations

import ast
import importlib.metadata
import io
import json
import re
import shutil
import subprocess
import sys
import tokenize
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import batches_ext
from devtools import vendor
from tests.local_server import json_reply, serve
from tests.payloads import CANCELLING

ROOT = Path(__file__).resolve().parent.parent
NAME, OTHER = vendor.DEFAULT_NAME, "other_copy"
OLD_NAMES = (vendor.LAYER, vendor.GENERATED)
API_KEY = "sk-vendored-0123456789"
RUNTIME = {"httpx", "attrs", "python-dateutil"}
HAS_FAKE = (vendor.LAYER_DIR / "testing" / "__init__.py").is_file()

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two copies side by side: the default name through the command line (relative DEST), and another name."""
    base = tmp_path_factory.mktemp("vendored")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(vendor.CALLER_CWD_ENV, str(base))
        assert vendor.main(["third_party"]) == 0
    vendor.vendor(base / "third_party", OTHER)
    return base / "third_party"


def _py_files(package: Path) -> list[Path]:
    return sorted(package.rglob("*.py"))


# --- what is written --------------------------------------------------------------------------------------------


def test_layout_is_one_package_with_the_generated_client_inside(dest: Path) -> None:
    package = dest / NAME
    assert (package / "__init__.py").read_bytes() != b""
    assert (package / "_generated" / "__init__.py").is_file()
    assert (package / "_generated" / "models" / "batch.py").is_file()
    assert (package / "py.typed").is_file()
    assert not (package / "pytest_plugin.py").exists()
    assert not list(package.rglob("__pycache__"))
    copied = {p.relative_to(package) for p in package.rglob("*") if p.is_file()}
    layer = {p.relative_to(vendor.LAYER_DIR) for p in vendor._source_files(vendor.LAYER_DIR)}
    assert layer <= copied  # every module, subpackages such as testing/ included
    assert layer | {Path(vendor.PROVENANCE)} == {p for p in copied if p.parts[0] != "_generated"}
    generated = vendor.GENERATED_PACKAGE_DIR
    for path in _py_files(generated):  # the generated code needs no rewriting: it imports itself relatively
        assert (package / "_generated" / path.relative_to(generated)).read_bytes() == path.read_bytes()


def test_provenance_records_source_spec_generator_and_no_functional_changes(dest: Path) -> None:
    text = (dest / NAME / vendor.PROVENANCE).read_text()
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    assert re.search(rf"\| Commit \| `{head.stdout.strip()}(-dirty)?` \|", text)
    spec = vendor.hashlib.sha256((ROOT / "openapi" / "openai-batches.yaml").read_bytes()).hexdigest()
    assert f"sha256 `{spec}`" in text
    assert f"| Generator | openapi-python-client {importlib.metadata.version('openapi-python-client')} |" in text
    assert "| Generator | openapi-python-client 0.29.1 |" in text
    assert "No functional changes: imports rewritten only." in text
    assert re.search(r"\| Vendored at \| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \|", text)
    assert f"scripts/vendor <this directory's parent> --package {NAME}" in text
    manifest = vendor.read_manifest(text)
    assert manifest["__init__.py"] == vendor.hashlib.sha256((dest / NAME / "__init__.py").read_bytes()).hexdigest()
    assert len(manifest) == sum(1 for p in (dest / NAME).rglob("*") if p.is_file()) - 1  # all but VENDORED.md


def test_runtime_requirements_stay_httpx_attrs_dateutil(dest: Path) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert {Requirement(r).name for r in project["dependencies"]} == RUNTIME
    assert "`httpx" in (dest / NAME / vendor.PROVENANCE).read_text()


def test_nothing_refers_to_the_original_packages(dest: Path) -> None:
    for package in (dest / NAME, dest / OTHER):
        for path in _py_files(package):
            text = path.read_text()
            tree = ast.parse(text)
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    assert not [a.name for a in node.names if a.name.split(".")[0] in OLD_NAMES], (path, node.lineno)
                if isinstance(node, ast.ImportFrom) and node.level == 0:
                    assert (node.module or "").split(".")[0] not in OLD_NAMES, (path, node.lineno)
                if isinstance(node, ast.Name | ast.Attribute):  # no code names them either
                    assert getattr(node, "id", getattr(node, "attr", None)) not in OLD_NAMES, (path, node.lineno)
            assert not re.search(rf"^\s*(from|import)\s+({'|'.join(OLD_NAMES)})\b", text, re.MULTILINE), path
            # What still mentions them is a string literal (a log message, a logger name), never a docstring or a
            # comment, and the provenance file lists each.
            kept = (package / vendor.PROVENANCE).read_text()
            docstrings = {
                (n.body[0].lineno, n.body[0].col_offset)
                for n in ast.walk(tree)
                if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                and n.body
                and isinstance(n.body[0], ast.Expr)
                and isinstance(n.body[0].value, ast.Constant)
            }
            for tok in tokenize.generate_tokens(io.StringIO(text).readline):
                if not re.search(rf"\b({'|'.join(OLD_NAMES)})\b", tok.string):
                    continue
                assert tok.type == tokenize.STRING, (path, tok)
                assert tok.start not in docstrings, (path, tok)
                assert f":{tok.start[0]}: {tok.string}`" in kept, (path, tok)


def test_relocate_handles_every_import_form() -> None:
    source = '''"""Use it as `from batches_ext import BatchesClient` (see openai_batches_client)."""
import os, batches_ext.errors as errs  # from batches_ext
from batches_ext import (
    errors,  # batches_ext.errors
    convert,
)
from batches_ext.testing._app import FakeBatchAPI
import openai_batches_client.models.batch as gen_batch
from openai_batches_client.types import UNSET
if os:
    from batches_ext._batch import Batch
LOGGER = "batches_ext"
'''
    renames = {"batches_ext": "vend", "openai_batches_client": "vend._generated"}
    text, kept = vendor.relocate(source, "vend.testing._fake", False, renames, "batches_ext/testing/_fake.py")
    assert (
        text
        == '''"""Use it as `from vend import BatchesClient` (see vend._generated)."""
import os; from .. import errors as errs  # from vend
from .. import (
    errors,  # vend.errors
    convert,
)
from ._app import FakeBatchAPI
from .._generated.models import batch as gen_batch
from .._generated.types import UNSET
if os:
    from .._batch import Batch
LOGGER = "batches_ext"
'''
    )
    assert kept == ['batches_ext/testing/_fake.py:12: "batches_ext"']
    with pytest.raises(vendor.VendorError, match=r"_fake.py:1: `import batches_ext` binds the top-level name"):
        vendor.relocate("import batches_ext\n", "vend._fake", False, renames, "_fake.py")


# --- a fresh, isolated interpreter ------------------------------------------------------------------------------


def _runtime_distributions() -> dict[str, importlib.metadata.Distribution]:
    """httpx, attrs, python-dateutil and what they require for this Python, without extras."""
    found: dict[str, importlib.metadata.Distribution] = {}
    pending = list(RUNTIME)
    while pending:
        name = canonicalize_name(pending.pop())
        if name in found:
            continue
        found[name] = dist = importlib.metadata.distribution(name)
        requirements = map(Requirement, dist.requires or [])
        pending += [r.name for r in requirements if r.marker is None or r.marker.evaluate({"extra": ""})]
    return found


@pytest.fixture(scope="module")
def runtime_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of symlinks to the runtime distributions' top-level modules and their dist-info."""
    target = tmp_path_factory.mktemp("runtime-only")
    for name, dist in _runtime_distributions().items():
        assert dist.files, f"{name} has no RECORD: cannot tell its files"
        for top in {f.parts[0] for f in dist.files if f.parts[0] not in ("..", "__pycache__")}:
            link = target / top
            if not link.exists():
                link.symlink_to(Path(str(dist.locate_file(top))))
    return target


ISOLATED = r"""
import importlib, json, sys

params = json.loads(sys.argv[1])
sys.path[:0] = [params["runtime"], params["dest"]]
for absent in ("batches_ext", "openai_batches_client", "yaml", "pytest", "tests", "devtools", "scripts"):
    try:
        importlib.import_module(absent)
    except ModuleNotFoundError:
        continue
    raise AssertionError(f"{absent} is importable: the interpreter is not isolated")

from _openai_batches import BatchesClient, errors  # the documented way
import _openai_batches as first
second = importlib.import_module(params["other"])
seen = {"all": sorted(first.__all__), "other_all": sorted(second.__all__)}

with BatchesClient(params["api_key"], base_url=params["server"], max_retries=0) as client:
    batch = client.cancel("batch_abc123")
    try:
        client.retrieve("batch_missing")
    except errors.NotFoundError as exc:
        seen["first_404"] = [type(exc).__module__, isinstance(exc, second.errors.NotFoundError)]
seen["batch"] = batch.to_dict()
seen["status"] = str(batch.status)
seen["tz"] = str(batch.cancelling_at.tzinfo)
seen["modules"] = [type(batch).__module__, type(batch.raw).__module__, type(batch.status).__module__]
seen["isinstance"] = [isinstance(batch, first.Batch), isinstance(batch, second.Batch),
                      isinstance(batch.raw, second._generated.models.batch.Batch)]
seen["distinct"] = [first is not second, first.Batch is not second.Batch, first._generated is not second._generated,
                    first.errors.BatchesError is not second.errors.BatchesError]

if params["fake"]:  # the copy's own fake, on a real socket, with the other copy's client
    testing = importlib.import_module(params["other"] + ".testing")
    fake = testing.FakeBatchAPI(api_key=params["api_key"])
    fake.add_batch("batch_fake", status="in_progress")
    with testing.FakeServer(fake) as server:
        with second.BatchesClient(params["api_key"], base_url=server.base_url, max_retries=0) as client:
            cancelled = client.cancel("batch_fake")
            try:
                client.retrieve("batch_nope")
            except second.errors.NotFoundError as exc:
                seen["second_404"] = [type(exc).__module__, isinstance(exc, first.errors.NotFoundError)]
    seen["fake"] = [str(cancelled.status), type(cancelled).__module__, type(server).__module__]

seen["leaked"] = sorted(m for m in sys.modules if m.split(".")[0] in ("batches_ext", "openai_batches_client"))
seen["sys_path"] = sys.path
print(json.dumps(seen))
"""


@pytest.fixture
def wire() -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    """A loopback server answering the cancel of `batch_abc123` with the seed payload, and 404 to anything else."""
    requests: list[tuple[str, str, str]] = []

    def reply(method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        requests.append((method, path, headers.get("authorization", "")))
        if (method, path) == ("POST", "/v1/batches/batch_abc123/cancel"):
            return json_reply(200, CANCELLING, **{"x-request-id": "req_vendored"})
        body = {"error": {"message": f"No route {method} {path}", "type": "invalid_request_error", "code": None}}
        return json_reply(404, body)

    with serve(reply) as base_url:
        yield base_url, requests


def test_vendored_copies_work_in_an_isolated_interpreter(
    dest: Path, runtime_path: Path, wire: tuple[str, list[tuple[str, str, str]]]
) -> None:
    base_url, requests = wire
    params = {"runtime": str(runtime_path), "dest": str(dest), "other": OTHER, "api_key": API_KEY,
              "server": base_url, "fake": HAS_FAKE}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", ISOLATED, json.dumps(params)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    seen: dict[str, Any] = json.loads(result.stdout)
    site_dirs = [p for p in seen["sys_path"] if "site-packages" in p or p == str(ROOT)]
    assert site_dirs == [], "the project or site-packages leaked onto sys.path"
    assert seen["leaked"] == []
    assert seen["all"] == seen["other_all"] == sorted(batches_ext.__all__)  # the same public API as batches_ext
    assert seen["batch"] == CANCELLING
    assert seen["status"] == "cancelling"
    assert seen["tz"] == "UTC"
    assert seen["modules"] == [
        f"{NAME}._batch",
        f"{NAME}._generated.models.batch",
        f"{NAME}._generated.models.batch_status",
    ]
    assert seen["isinstance"] == [True, False, False]
    assert seen["distinct"] == [True, True, True, True]
    assert seen["first_404"] == [f"{NAME}.errors", False]
    assert requests == [
        ("POST", "/v1/batches/batch_abc123/cancel", f"Bearer {API_KEY}"),
        ("GET", "/v1/batches/batch_missing", f"Bearer {API_KEY}"),
    ]
    if HAS_FAKE:
        assert seen["fake"] == ["cancelling", f"{OTHER}._batch", f"{OTHER}.testing._server"]
        assert seen["second_404"] == [f"{OTHER}.errors", False]


# --- updating and refusing --------------------------------------------------------------------------------------


def _layer_copy(tmp_path: Path) -> Path:
    layer = tmp_path / "src" / "batches_ext"
    layer.parent.mkdir()
    shutil.copytree(vendor.LAYER_DIR, layer, ignore=shutil.ignore_patterns("__pycache__"))
    return layer


def test_rerun_updates_in_place_and_removes_files_gone_upstream(tmp_path: Path) -> None:
    layer = _layer_copy(tmp_path)
    (layer / "_soon_removed.py").write_text('"""Gone in the next version."""\nfrom batches_ext import errors\n')
    first = vendor.vendor(tmp_path / "out", layer_dir=layer)
    assert (first.target / "_soon_removed.py").read_text().endswith("from . import errors\n")
    (layer / "_soon_removed.py").unlink()
    (layer / "_new.py").write_text("from batches_ext._batch import Batch\n")
    second = vendor.vendor(tmp_path / "out", layer_dir=layer)
    assert second.target == first.target
    assert not (second.target / "_soon_removed.py").exists()
    assert (second.target / "_new.py").read_text() == "from ._batch import Batch\n"
    assert "_soon_removed.py" not in (second.target / vendor.PROVENANCE).read_text()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [NAME]  # no staging or retired copies left


def test_rerun_refuses_to_discard_local_edits_unless_forced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = vendor.vendor(tmp_path).target
    (target / "errors.py").write_text("# patched locally\n")
    (target / "local_extra.py").write_text("")
    with pytest.raises(vendor.VendorError, match=r"files changed since it was vendored \(errors.py, local_extra.py\)"):
        vendor.vendor(tmp_path)
    assert (target / "errors.py").read_text() == "# patched locally\n"
    assert vendor.main([str(tmp_path), "--force"]) == 0
    assert "patched locally" not in (target / "errors.py").read_text()
    assert not (target / "local_extra.py").exists()
    assert "Vendored batches_ext and openai_batches_client" in capsys.readouterr().out


def test_refuses_a_directory_it_did_not_create(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    theirs = tmp_path / NAME
    theirs.mkdir()
    (theirs / "__init__.py").write_text("# someone else's package\n")
    assert vendor.main([str(tmp_path)]) == 1
    assert f"refusing to overwrite {theirs}: it was not made by scripts/vendor" in capsys.readouterr().err
    assert [p.name for p in theirs.iterdir()] == ["__init__.py"]
    (theirs / vendor.PROVENANCE).write_text("# my notes\n")  # a VENDORED.md without the marker is not ours either
    with pytest.raises(vendor.VendorError, match="not made by scripts/vendor"):
        vendor.vendor(tmp_path, force=True)


@pytest.mark.parametrize("bad", ["bad-name", "1st", "class", "", "a.b", "batches_ext", "openai_batches_client"])
def test_bad_package_name_is_a_clear_error(tmp_path: Path, bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert vendor.main([str(tmp_path), "--package", bad]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"vendor: --package {bad!r} ")
    assert "not a Python identifier" in err or "would shadow the original package" in err
    assert list(tmp_path.iterdir()) == []
