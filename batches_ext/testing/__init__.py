"""An offline fake of OpenAI's Batch API, for testing code that cancels batches and for demos without a key.

from batches_ext.testing import FakeBatchAPI, FakeClock
fake = FakeBatchAPI(clock=FakeClock())
fake.add_batch("batch_1", status="in_progress", completed=40, failed=2)
http = httpx.Client(transport=fake.transport())     # in-process; or FakeServer(fake) on a real socket
client = BatchesClient(fake.api_key, base_url=fake.base_url, http_client=http)

The pytest plugin (`batches_ext.pytest_plugin`) provides these as fixtures. `import batches_ext` does not import
this package.
"""

from batches_ext.testing._app import (
    DEFAULT_API_KEY,
    DEFAULT_CANCEL_DELAY_S,
    DEFAULT_REQUEST_RATE,
    FakeBatchAPI,
    RecordedRequest,
    SentHeaders,
)
from batches_ext.testing._clock import FakeClock
from batches_ext.testing._faults import Fault
from batches_ext.testing._requests import FakeRequest, FakeResponse, Responder, default_responder
from batches_ext.testing._server import FakeServer, serve
from batches_ext.testing._transport import FakeTransport

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_CANCEL_DELAY_S",
    "DEFAULT_REQUEST_RATE",
    "FakeBatchAPI",
    "FakeClock",
    "FakeRequest",
    "FakeResponse",
    "FakeServer",
    "FakeTransport",
    "Fault",
    "RecordedRequest",
    "Responder",
    "SentHeaders",
    "default_responder",
    "serve",
]
