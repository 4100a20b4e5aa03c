"""Import time is a product feature: `import batches_ext` leaves the generated models, attrs and asyncio unloaded."""

from __future__ import annotations

import json
import subprocess
import sys

import openai_batches_client
import openai_batches_client.models as models


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout))


def test_import_defers_the_generated_models_attrs_and_asyncio() -> None:
    loaded = loaded_after("import batches_ext")
    assert "batches_ext" in loaded
    assert "openai_batches_client.models.batch_status" in loaded  # BatchStatus is public
    for deferred in ("attr", "openai_batches_client.client", "openai_batches_client.models.batch", "asyncio"):
        assert deferred not in loaded, deferred
    assert not any(name.startswith("batches_ext.testing") for name in loaded)


def test_first_client_loads_what_it_needs() -> None:
    loaded = loaded_after("import batches_ext\nbatches_ext.BatchesClient(api_key='sk-x')")
    assert {"openai_batches_client.client", "openai_batches_client.api.batch.cancel_batch"} <= loaded


def test_lazy_package_inits_still_expose_every_name() -> None:
    for name in models.__all__:
        assert getattr(models, name).__name__ == name
    assert openai_batches_client.Client.__name__ == "Client"
    assert models.batch.Batch is models.Batch  # submodules as attributes, as the stock template allowed
