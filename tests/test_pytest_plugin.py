"""The pytest plugin (`batches_ext.pytest_plugin`, entry point `pytest11`): what a user's test file gets."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

THREE_LINE_TEST = """
def test_stop(fake_batch_api, batches_client):
    fake_batch_api.add_batch("batch_1", status="in_progress")
    assert batches_client.cancel("batch_1").status == "cancelling"
"""


def test_the_plugin_is_registered_by_its_entry_point(request: pytest.FixtureRequest) -> None:
    plugin = request.config.pluginmanager.get_plugin("batches_ext")
    assert plugin is not None
    assert plugin.__name__ == "batches_ext.pytest_plugin"


@pytest.mark.slow
def test_the_three_line_user_test_passes_in_a_fresh_interpreter(pytester: pytest.Pytester) -> None:
    # A subprocess, so nothing of this session leaks in: installing batches-ext is all the user does.
    pytester.makepyfile(test_user=THREE_LINE_TEST)
    result = pytester.runpytest_subprocess("-W", "error", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_time_moves_only_when_the_test_says(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
        def test_wait(fake_batch_api, fake_clock, batches_client):
            fake_batch_api.add_batch("batch_1", status="in_progress", completed=3, failed=1)
            start = fake_clock()
            batch = batches_client.cancel_and_wait("batch_1", timeout=600)  # polls sleep on the fake clock
            assert batch.status == "cancelled"
            assert 5 <= fake_clock() - start < 600
            assert batch.output_file_id in fake_batch_api.files
        """
    )
    pytester.runpytest("-W", "error", "-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_async_client_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
        import asyncio

        def test_async(fake_batch_api, async_batches_client):
            fake_batch_api.add_batch("batch_1")
            batch = asyncio.run(async_batches_client.cancel("batch_1"))
            assert batch.status == "cancelling"
        """
    )
    pytester.runpytest("-W", "error", "-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_server_fixture_shares_the_fake(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
        import httpx

        def test_server(fake_batch_api, fake_batch_server):
            assert fake_batch_server.api is fake_batch_api
            fake_batch_api.add_batch("batch_1")
            headers = {"authorization": f"Bearer {fake_batch_api.api_key}"}
            response = httpx.get(fake_batch_server.base_url + "/batches/batch_1", headers=headers)
            assert response.json()["status"] == "in_progress"
        """
    )
    pytester.runpytest("-W", "error", "-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_unused_faults_fail_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
        def test_forgets(fake_batch_api, batches_client):
            fake_batch_api.add_batch("batch_1")
            fake_batch_api.inject_errors(1, 500)
            fake_batch_api.drop_connections(1)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*2 injected fault(s) were never used (error, drop)*"])


def test_unused_share_faults_fail_at_teardown_counted_with_their_share(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
        def test_too_many(fake_batch_api, batches_client):
            fake_batch_api.add_batch("batch_1")
            fake_batch_api.inject_errors(1000, 429, {"retry-after-ms": "1"}, share=0.05, seed=3)
            for _ in range(20):
                batches_client.retrieve("batch_1")

        def test_consumed(fake_batch_api, batches_client):
            fake_batch_api.add_batch("batch_1")
            fake_batch_api.inject_errors(2, 429, {"retry-after-ms": "1"}, share=0.5, seed=3)
            for _ in range(20):
                batches_client.retrieve("batch_1")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*injected fault(s) were never used (9?? x error at share 0.05)*"])


def test_a_fake_failure_fails_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
        import httpx

        def test_breaks(fake_batch_api, fake_batch_server, monkeypatch):
            def broken(*args):
                raise RuntimeError("fake bug")

            monkeypatch.setattr(fake_batch_api, "respond", broken)
            assert httpx.get(fake_batch_server.base_url + "/batches/x").status_code == 500
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*the fake server failed while serving*fake bug*"])


def test_each_test_gets_a_fresh_fake(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
        import pytest

        @pytest.mark.parametrize("run", [1, 2])
        def test_fresh(fake_batch_api, run):
            assert fake_batch_api.batches == {}
            fake_batch_api.add_batch("batch_1")
        """
    )
    pytester.runpytest("-W", "error", "-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_the_marker_puts_the_fixtures_on_azure_in_a_providers_shape(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
        import asyncio

        import pytest

        from batches_ext import AsyncAzureBatchesClient, AzureBatchesClient

        @pytest.mark.fake_batch_api(azure=True, api_version="2024-10-21", shape="azure")
        def test_dated(fake_batch_api, batches_client, async_batches_client):
            assert isinstance(batches_client, AzureBatchesClient)
            assert isinstance(async_batches_client, AsyncAzureBatchesClient)
            fake_batch_api.add_batch("batch_1", status="in_progress")
            batch = batches_client.cancel("batch_1")
            assert batch.status == "cancelling"
            assert batch.to_dict()["status"] == "Cancelling"
            assert asyncio.run(async_batches_client.retrieve("batch_1")).status == "cancelling"
            assert [path for _, path in fake_batch_api.requests] == [
                "/openai/batches/batch_1/cancel?api-version=2024-10-21",
                "/openai/batches/batch_1?api-version=2024-10-21",
            ]
            assert fake_batch_api.request_headers[0]["api-key"] == fake_batch_api.api_key

        @pytest.mark.fake_batch_api(azure=True)
        def test_v1(fake_batch_api, batches_client):
            fake_batch_api.add_batch("batch_1")
            batches_client.retrieve("batch_1")
            assert fake_batch_api.requests[0].path == "/openai/v1/batches/batch_1"

        @pytest.mark.fake_batch_api(shape=["ms_timestamps", "upper_status"])
        def test_shape_only(fake_batch_api, batches_client):
            fake_batch_api.add_batch("batch_1")
            batch = batches_client.retrieve("batch_1")
            assert batch.to_dict()["status"] == "IN_PROGRESS"
            assert batch.created_at.timestamp() * 1000 == batch.to_dict()["created_at"]
        """
    )
    pytester.runpytest("-W", "error", "-p", "no:cacheprovider", "--strict-markers").assert_outcomes(passed=3)


def test_download_faults_through_the_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
        import pytest

        @pytest.mark.fake_batch_api(ranges=False)
        def test_resumes(fake_batch_api, batches_client):
            fake_batch_api.add_batch("batch_1", status="completed", total=50, completed=50)
            fake_batch_api.cut_downloads(1000, 20_000)
            assert len(list(batches_client.iter_results("batch_1"))) == 50
            assert fake_batch_api.ranges is False
            assert sum("range" in headers for headers in fake_batch_api.request_headers) == 2  # asked, not honoured

        def test_forgets_a_cut(fake_batch_api, batches_client):
            fake_batch_api.cut_downloads(10)
        """
    )
    result = pytester.runpytest("-W", "error", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)  # the forgetful test passes, then its teardown fails
    result.stdout.fnmatch_lines(["*1 injected fault(s) were never used (cut)*"])
