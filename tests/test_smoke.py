import httpx

from batches_ext import BatchesClient


def test_cancel_smoke():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "id": "batch_1",
                "object": "batch",
                "endpoint": "/v1/x",
                "input_file_id": "f",
                "completion_window": "24h",
                "status": "cancelling",
                "created_at": 1,
            },
        )

    client = BatchesClient(api_key="sk-test", http_client=httpx.Client(transport=httpx.MockTransport(handler)))
    assert client.cancel("batch_1").status == "cancelling"
