"""`batches-ext`: cancel, inspect and wait for OpenAI batches, and read their results, from the shell.

Results go to stdout, progress and errors to stderr. Exit status: 0 ok, 1 API error (or output that could not be
written: a full disk), 2 usage error (bad arguments, a bad batch id, no API key, stdout closed), 3 a wait timed out,
130 interrupted (Ctrl-C). A reader that goes away (`| head`) ends the command quietly, with 0. Errors print one
line, never a traceback, never the API key, and never a terminal control sequence a server sent.

Only the standard library is imported at module level: the client is imported by the command that needs it.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, TextIO

from batches_ext._cli_client import ENVIRONMENT_HELP, build_client, secrets_of
from batches_ext._cli_client import add_options as add_azure_options

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

    from batches_ext._batch import Batch
    from batches_ext._cli_progress import Progress
    from batches_ext._client import BatchesClient
    from batches_ext._waiting import WaitOptions

__all__ = [
    "EXIT_API_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "build_parser",
    "main",
]

PROG: Final = "batches-ext"
EXIT_OK: Final = 0
EXIT_API_ERROR: Final = 1
EXIT_USAGE: Final = 2  # what argparse itself exits with
EXIT_TIMEOUT: Final = 3
EXIT_INTERRUPTED: Final = 130  # 128 + SIGINT, what a shell reports for a command killed by Ctrl-C
REDACTED: Final = "[redacted]"
# A "key" shorter than this is not scrubbed from output: replacing every "ab" would garble it, and no real key
# is that short (the client accepts any non-empty key, to allow for proxies and fakes).
MIN_SCRUBBED_KEY_LEN: Final = 6

_ENVIRONMENT = (
    """\
environment:
  OPENAI_API_KEY     the API key (prefer it to --api-key, which other users can see in `ps`)
  OPENAI_BASE_URL    the API's base URL (default: https://api.openai.com/v1)
  OPENAI_ORG_ID      sent as OpenAI-Organization
  OPENAI_PROJECT_ID  sent as OpenAI-Project
"""
    + ENVIRONMENT_HELP
    + """

exit status: 0 ok, 1 API error, 2 usage error, 3 wait timed out, 130 interrupted"""
)

Handler = Callable[["_Session"], int]


# --- the command line ------------------------------------------------------------------------------------------


def _seconds(text: str) -> float:
    """An argparse type: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def _request_timeout(text: str) -> float:
    """An argparse type: a timeout for one request, within the client's own bound (`MAX_TIMEOUT_S`)."""
    value = _seconds(text)
    from batches_ext._settings import MAX_TIMEOUT_S  # noqa: PLC0415 - only once there is a value to check

    if value > MAX_TIMEOUT_S:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_TIMEOUT_S:g} seconds (a day), got {text!r}")
    return value


def _port(text: str) -> int:
    """An argparse type: a TCP port, 0 for any free one."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0-65535, got {value}")
    return value


def _batch_id(text: str) -> str:
    """An argparse type: an id the client will send (the client's own check, so the rules cannot drift)."""
    from batches_ext._ids import check_id  # noqa: PLC0415 - only once there is an id to check

    try:
        return check_id(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _batch_id_or_stdin(text: str) -> str:
    """An argparse type: a batch id, or `-` for ids read from stdin."""
    return text if text == "-" else _batch_id(text)


class _Parser(argparse.ArgumentParser):
    """argparse's parser, but help it cannot write raises (argparse drops the `OSError` silently).

    So `batches-ext --help > /dev/full` ends with an error and status 1, as any other output that fails (`main`);
    a usage error that cannot be told on stderr keeps its status 2.
    """

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        if not message:
            return
        if file is None or file is sys.stderr:
            try:
                sys.stderr.write(message)
            except (AttributeError, OSError):  # None (closed at start), full or closed: the status still tells
                _discard(sys.stderr)
            return
        file.write(message)


def _client_options(*, suppress: bool) -> _Parser:
    """The options every API command takes.

    With `suppress`, an option not given sets nothing, so the copy on a subcommand does not overwrite the same
    option given before the command name (`batches-ext --json retrieve X`).
    """
    default = argparse.SUPPRESS if suppress else None
    parent = _Parser(add_help=False)
    group = parent.add_argument_group("client options")
    # The help never shows a default: the default comes from the environment and would print the key.
    group.add_argument(
        "--api-key", metavar="KEY", default=default, help="API key (default: $OPENAI_API_KEY; Azure: see below)"
    )
    group.add_argument("--base-url", metavar="URL", default=default, help="API base URL (default: $OPENAI_BASE_URL)")
    group.add_argument(
        "--request-timeout",
        metavar="S",
        type=_request_timeout,
        default=default,
        help="give up on one request after S seconds (default: 600; 5 s to connect); retried like any timeout",
    )
    add_azure_options(group, default)
    group.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="print the batch as the API's JSON instead of a table",
    )
    return parent


def _wait_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout", metavar="S", type=_seconds, help="give up waiting after S seconds (default: 900), exit status 3"
    )
    parser.add_argument(
        "--poll-interval", metavar="S", type=_seconds, help="poll every S seconds (default: 1 s, growing to 10 s)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The `batches-ext` argument parser (every command, its options and its `--help`)."""
    parser = _Parser(
        prog=PROG,
        description="Cancel OpenAI batches, wait for them to stop, and read their partial results.",
        epilog=f"example:\n  {PROG} cancel batch_abc123 --wait\n\n{_ENVIRONMENT}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_client_options(suppress=False)],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    client_options = _client_options(suppress=True)

    def command(
        name: str, handler: Handler, summary: str, example: str, *, client: bool = True
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=f"example:\n  {example}" + (f"\n\n{_ENVIRONMENT}" if client else ""),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[client_options] if client else [],
        )
        sub.set_defaults(handler=handler)
        return sub

    from batches_ext._cli_filters import add_filter_options, add_list_options  # noqa: PLC0415 - stdlib only

    cancel = command(
        "cancel",
        _cancel,
        "Cancel batches; with --wait, wait until each is cancelled (or otherwise finished). With several ids, - (ids "
        "from stdin, one per line) or --all: one outcome line per batch, a summary on stderr, exit 1 if any batch "
        "was not stopped.",
        f"{PROG} cancel batch_abc123 --wait --timeout 600\n"
        f"  {PROG} list --status in_progress --json | jq -r .id | {PROG} cancel -\n"
        f"  {PROG} cancel --all --metadata run=nightly --created-after 2h --dry-run",
    )
    cancel.add_argument(
        "batch_ids", metavar="BATCH_ID", nargs="*", type=_batch_id_or_stdin, help="the batches to cancel; - reads stdin"
    )
    cancel.add_argument("--wait", action="store_true", help="wait until the batch stops, showing progress on stderr")
    _wait_options(cancel)
    bulk = cancel.add_argument_group("cancelling many")
    bulk.add_argument("--all", action="store_true", help="every running batch the filters select")
    bulk.add_argument("--dry-run", action="store_true", help="show what would be cancelled; send no cancel")
    bulk.add_argument("--yes", action="store_true", help="cancel --all without asking")
    add_filter_options(cancel)

    listing = command(
        "list",
        _list,
        "List batches, newest first: a table, or the API's JSON one batch per line with --json.",
        f"{PROG} list --status in_progress --metadata run=nightly --created-after 2h",
    )
    add_list_options(listing)

    retrieve = command("retrieve", _retrieve, "Show a batch.", f"{PROG} retrieve batch_abc123 --json")
    retrieve.add_argument("batch_id", metavar="BATCH_ID", type=_batch_id, help="the batch to show")

    wait = command(
        "wait",
        _wait,
        "Wait until a batch is finished (completed, failed, expired or cancelled), showing progress on stderr.",
        f"{PROG} wait batch_abc123 --timeout 600",
    )
    wait.add_argument("batch_id", metavar="BATCH_ID", type=_batch_id, help="the batch to wait for")
    _wait_options(wait)

    results = command(
        "results",
        _results,
        "Print a batch's results (its output file, with --errors its error file, with --all both) as JSON lines, "
        "byte for byte as stored.",
        f"{PROG} results batch_abc123 --errors | head -n 5",
    )
    results.add_argument("batch_id", metavar="BATCH_ID", type=_batch_id, help="the batch whose results to print")
    which = results.add_mutually_exclusive_group()
    which.add_argument("--errors", action="store_true", help="print the error file instead of the output file")
    which.add_argument("--all", action="store_true", help="print the output file, then the error file")

    from batches_ext._cli_download import add_command as add_download_command  # noqa: PLC0415 - stdlib only
    from batches_ext._cli_resubmit import add_commands as add_resubmit_commands  # noqa: PLC0415 - stdlib only

    add_download_command(command, _batch_id, PROG)
    add_resubmit_commands(command, _batch_id, _wait_options, PROG)

    serve = command(
        "serve-fake",
        _serve_fake,
        "Run the offline fake Batch API on loopback until Ctrl-C, with a few demo batches to try commands on.",
        f"{PROG} serve-fake --port 8089   # then, in another shell, use the URL and key it prints",
        client=False,
    )
    serve.add_argument("--port", type=_port, default=0, help="port to listen on; 0 picks a free one (default: 0)")
    serve.add_argument(
        "--api-key", metavar="KEY", help="the key the fake accepts (default: the fake's documented key, sk-fake-key)"
    )
    serve.add_argument(
        "--cancel-delay", metavar="S", type=float, default=5.0, help="seconds a batch stays cancelling (default: 5)"
    )
    serve.add_argument(
        "--azure", action="store_true", help="act as Azure OpenAI (api-key header, /openai/v1 and dated /openai paths)"
    )
    serve.add_argument(
        "--shape",
        metavar="NAME",
        action="append",
        help="answer in another provider's shape: azure, zhipu, groq, cerebras, or one quirk (repeatable)",
    )

    command(
        "demo",
        _demo,
        "Cancel a running batch on an embedded fake API, show what it finished, resubmit the rest (no key, no "
        "network).",
        f"{PROG} demo",
        client=False,
    )
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415 - only for --version

    try:
        return version("batches-ext")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `batches-ext` command line (the console script's entry point).

    Args:
        argv: the arguments after the program name; `sys.argv[1:]` when None.

    Returns:
        The exit status: 0 ok, 1 API error or unwritable output, 2 usage error, 3 wait timed out, 130 interrupted.

    """
    err: TextIO = sys.stderr if sys.stderr is not None else io.StringIO()  # None: started with stderr closed
    if sys.stdout is None:  # started with stdout closed (`>&-`): nothing it does could be shown, so do nothing
        _tell(err, f"{PROG}: error: stdout is closed; redirect it to /dev/null to discard the output")
        return EXIT_USAGE
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help (0) and on usage errors (2); callers get a status
        code = exc.code if isinstance(exc.code, int) else EXIT_USAGE
        return code if _flushed(sys.stdout) else EXIT_API_ERROR  # `--help > /dev/full`, buffered
    except OSError as exc:  # help or a usage message that could not be written (see `_Parser`)
        _flushed(sys.stdout)
        _tell(err, f"error: {exc.strerror or exc}")
        return EXIT_API_ERROR
    session = _Session(args, sys.stdout, err)
    return session.run()


def _flushed(stream: TextIO) -> bool:
    """Flush `stream` now; if that fails, send the rest of the process's writes to it to /dev/null.

    Otherwise the interpreter's own flush at exit fails again: an "Exception ignored" warning and status 120.
    """
    try:
        stream.flush()
    except (OSError, ValueError):  # a full disk, a closed pipe, a closed or read-only descriptor
        _discard(stream)
        return False
    return True


def _discard(stream: TextIO) -> None:
    """Point the process's stdout or stderr descriptor at /dev/null (any other stream is left alone)."""
    if stream is None or (stream is not sys.stdout and stream is not sys.stderr):
        return
    try:
        target = stream.fileno()
    except (OSError, ValueError):
        return  # no file descriptor: nothing will flush to it either
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, target)
    finally:
        os.close(devnull)


def _tell(stream: TextIO, line: str) -> None:
    """Write a line to `stream` if it can still take one; a stream that cannot is discarded, silently."""
    try:
        stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError):
        _discard(stream)


# --- running a command -----------------------------------------------------------------------------------------


class _Session:
    """One command's run: its arguments, streams, progress, and the mapping of failures to exit statuses."""

    def __init__(self, args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO | None = None) -> None:
        self.args = args
        self.out = out
        self.err = err
        # sys.stdin is None when started with stdin closed (`<&-`): that reads as empty, like /dev/null.
        self.stdin = stdin if stdin is not None else sys.stdin if sys.stdin is not None else io.StringIO()
        self.progress: Progress | None = None
        # Scrub the key from whatever this run prints (the library already scrubs what the server echoes;
        # this also covers text the CLI composes itself).
        self._secrets = [key for key in secrets_of(args) if len(key) >= MIN_SCRUBBED_KEY_LEN]

    def run(self) -> int:
        """Run the command; map every expected failure, output that cannot be written too, to a status."""
        try:
            code = self._interruptible()
            self.out.flush()  # here, where a failure can still be reported: see `_flushed`
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, as `head`'s writers do.
            _flushed(self.out)
            return EXIT_OK
        except OSError as exc:  # a full disk, a closed or read-only stream, an `-o` file that cannot be written
            _flushed(self.out)
            where = f": {exc.filename}" if exc.filename else ""
            _tell(self.err, self.scrub(f"error: {exc.strerror or exc}{where}"))
            return EXIT_API_ERROR
        return code

    def _interruptible(self) -> int:
        handler: Handler = self.args.handler
        try:
            return self._guarded(handler)
        except KeyboardInterrupt:
            self.end_progress()
            last = self.progress.last if self.progress is not None else None
            if last is not None:
                from batches_ext._cli_format import status_line  # noqa: PLC0415

                self.say(f"interrupted; last known status: {status_line(last)}")
            else:
                self.say("interrupted")
            return EXIT_INTERRUPTED

    def _guarded(self, handler: Handler) -> int:
        from batches_ext import errors  # noqa: PLC0415 - lazily, like the rest of the library

        try:
            return handler(self)
        except errors.ConfigurationError as exc:
            self.end_progress()
            self.say(f"error: {exc}")
            return EXIT_USAGE
        except errors.WaitTimeoutError as exc:
            self.end_progress()
            self.say(f"error: {exc}")
            if exc.batch is not None:
                from batches_ext._cli_format import status_line  # noqa: PLC0415

                self.say(f"last known status: {status_line(exc.batch)}")
                self.show(exc.batch)  # so that `--json` callers still get the last state on stdout
            return EXIT_TIMEOUT
        except errors.BatchesError as exc:  # API errors, and results files that are not JSONL records
            self.end_progress()
            self.say(f"error: {exc}")
            return EXIT_API_ERROR

    # --- output helpers ------------------------------------------------------------------------------------------

    def scrub(self, text: str) -> str:
        """`text` without the API key."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def say(self, text: str) -> None:
        """Lines on stderr: errors, notes, the last known status; server text in them cannot control the terminal."""
        from batches_ext._cli_format import clean  # noqa: PLC0415

        self.err.write("\n".join(clean(line) for line in self.scrub(text).split("\n")) + "\n")
        self.err.flush()

    def show(self, batch: Batch) -> None:
        """The batch on stdout: the wire JSON with `--json`, else the table."""
        if self.args.json:
            from batches_ext._cli_format import strict_json  # noqa: PLC0415

            # The object as the API sent it (a NaN, which is not JSON, as null); not scrubbed: it is the wire JSON.
            self.out.write(strict_json(batch.to_dict(), indent=2) + "\n")
        else:
            from batches_ext._cli_format import batch_table  # noqa: PLC0415

            self.out.write(self.scrub(batch_table(batch, datetime.now(UTC))) + "\n")
        self.out.flush()

    def start_progress(self) -> Progress:
        """The progress display of a wait (a live line when stderr is a terminal)."""
        from batches_ext._cli_progress import Progress  # noqa: PLC0415

        self.progress = Progress(self.err)
        return self.progress

    def end_progress(self) -> None:
        """Finish the live line, if any, before anything else is printed."""
        if self.progress is not None:
            self.progress.finish()

    def client(self, sleep: Callable[[float], None] | None = None) -> BatchesClient:
        """A client from the options and the environment; sleeps go to `sleep`, else the progress display, if any.

        OpenAI's, or Azure OpenAI's with `--azure-endpoint` or `AZURE_OPENAI_ENDPOINT` (see `_cli_client`).

        Raises:
            errors.ConfigurationError: no API key, contradicting options, or a bad base URL.

        """
        if sleep is None and self.progress is not None:
            sleep = self.progress.sleep
        return build_client(self.args, sleep)

    def wait_options(self, progress: Progress) -> WaitOptions:
        """Report to `progress`; `--timeout` and `--poll-interval` as given, else the client's defaults."""
        options: WaitOptions = {"on_update": progress.update}
        if self.args.timeout is not None:
            options["timeout"] = self.args.timeout
        if self.args.poll_interval is not None:
            options["poll_interval"] = self.args.poll_interval
        return options


# --- the commands ------------------------------------------------------------------------------------------------


def _cancel(session: _Session) -> int:
    from batches_ext._cli_cancel_many import is_bulk, run_cancel_many  # noqa: PLC0415

    args = session.args
    if is_bulk(args):
        return run_cancel_many(session)
    args.batch_id = args.batch_ids[0]
    if not args.wait:
        if args.timeout is not None or args.poll_interval is not None:
            session.say(f"{PROG} cancel: error: --timeout and --poll-interval need --wait")
            return EXIT_USAGE
        with session.client() as client:
            session.show(_cancel_one(session, client, args.batch_id))
        return EXIT_OK
    progress = session.start_progress()
    with session.client() as client:
        progress.restart()
        batch = client.cancel_and_wait(args.batch_id, **session.wait_options(progress))
    session.end_progress()
    if batch.status != "cancelled":
        # Still 0: the batch is stopped, which is what the command is for, and `cancel` of several batches counts
        # "already finished" as a success too (exit 1 is for batches left running). But say that nothing was cancelled.
        session.say(f"note: nothing was cancelled: {batch.id} finished as {batch.status} before a cancel could stop it")
    session.show(batch)
    return EXIT_OK


def _cancel_one(session: _Session, client: BatchesClient, batch_id: str) -> Batch:
    """Cancel one batch; a refusal because it had finished (or was already cancelling) is the batch, as in bulk."""
    from batches_ext import errors  # noqa: PLC0415
    from batches_ext._bulk import refused, worth_checking  # noqa: PLC0415

    try:
        return client.cancel(batch_id)
    except errors.APIError as exc:
        if not worth_checking(exc):
            raise
        try:
            batch = client.retrieve(batch_id)
        except errors.APIError:
            raise exc from None
        outcome = refused(batch_id, exc, batch)
        if outcome.outcome == "failed" or outcome.batch is None:
            raise exc from None
        if batch.status == "cancelled":
            session.say(f"note: {batch.id} was already cancelled")
        elif outcome.outcome == "already_finished":
            session.say(f"note: nothing was cancelled: {batch.id} had already finished as {batch.status}")
        return outcome.batch


def _list(session: _Session) -> int:
    from batches_ext._cli_list import run_list  # noqa: PLC0415

    return run_list(session)


def _retrieve(session: _Session) -> int:
    with session.client() as client:
        session.show(client.retrieve(session.args.batch_id))
    return EXIT_OK


def _wait(session: _Session) -> int:
    progress = session.start_progress()
    with session.client() as client:
        progress.restart()
        batch = client.wait(session.args.batch_id, **session.wait_options(progress))
    session.end_progress()
    session.show(batch)
    return EXIT_OK


def _results(session: _Session) -> int:
    from batches_ext._cli_format import json_line  # noqa: PLC0415

    args = session.args
    with session.client() as client:
        batch = client.retrieve(args.batch_id)
        if args.all:
            kind, files = "results", [batch.output_file_id, batch.error_file_id]
        elif args.errors:
            kind, files = "error", [batch.error_file_id]
        else:
            kind, files = "output", [batch.output_file_id]
        if not any(files):
            session.say(f"note: batch {batch.id} ({batch.status}) has no {kind} file yet; nothing to print")
            return EXIT_OK
        write = _line_writer(session.out)
        records = client.iter_all_results(batch) if args.all else client.iter_results(batch, errors=args.errors)
        for result in records:
            # One record per line, its bytes as stored (unless they are not JSON: `json_line`); the stream's buffer
            # is flushed as it fills, so memory stays bounded and `| head` sees lines before the download ends.
            write(json_line(result.raw, result.to_dict()) + b"\n")
        session.out.flush()
    return EXIT_OK


def _line_writer(out: TextIO) -> Callable[[bytes], object]:
    """Write bytes to `out` unchanged: to its binary buffer when it has one, else as the UTF-8 text they are."""
    buffer = getattr(out, "buffer", None)
    if buffer is None:
        return lambda data: out.write(data.decode("utf-8"))
    out.flush()  # whatever the text layer holds goes first
    return buffer.write  # type: ignore[no-any-return]


def _serve_fake(session: _Session) -> int:
    import io  # noqa: PLC0415

    from batches_ext.testing import DEFAULT_API_KEY, FakeBatchAPI, FakeServer, serve  # noqa: PLC0415

    args = session.args
    given = args.api_key or None  # `--api-key ""` is not given, as for the API commands
    key = given or DEFAULT_API_KEY  # never $OPENAI_API_KEY: that may be a real key
    try:
        api = FakeBatchAPI(api_key=key, cancel_delay=args.cancel_delay, azure=args.azure, shape=args.shape)
    except (TypeError, ValueError) as exc:  # a cancel delay or a shape the fake refuses
        session.say(f"{PROG} serve-fake: error: {exc}")
        return EXIT_USAGE

    def announce(server: FakeServer) -> None:
        # The fake's documented default key is not a secret, so it is printed for copy and paste; a key given
        # with --api-key is the user's and is not.
        shown = key if given is None else "<the key you passed with --api-key>"
        where = (
            [f"  export AZURE_OPENAI_ENDPOINT={server.azure_endpoint}", f"  export AZURE_OPENAI_API_KEY={shown}"]
            if args.azure
            else [f"  export OPENAI_BASE_URL={server.base_url}", f"  export OPENAI_API_KEY={shown}"]
        )
        kind = "Azure OpenAI" if args.azure else "OpenAI"
        lines = [
            f"Fake {kind} Batch API listening on {server.azure_endpoint if args.azure else server.base_url} "
            "(loopback only)",
            *where,
            "batches to try:",
            *(f"  {PROG} retrieve {batch_id:<24} # {data['status']}" for batch_id, data in server.api.batches.items()),
            "Press Ctrl-C to stop.",
        ]
        session.out.write("\n".join(lines) + "\n")
        session.out.flush()

    try:
        # serve() prints its own banner, which masks even the default key; ours replaces it (see announce).
        serve(api, port=args.port, out=io.StringIO(), ready=announce)
    except OSError as exc:
        session.say(f"error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}")
        return EXIT_API_ERROR
    session.out.write("Stopped.\n")
    return EXIT_OK


def _demo(session: _Session) -> int:
    from batches_ext._cli_demo import run_demo  # noqa: PLC0415

    return run_demo(session.out, session.start_progress())
