"""`python -m batches_ext.testing`: run the fake Batch API in the foreground, for demos and manual tests."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from batches_ext.testing._app import DEFAULT_CANCEL_DELAY_S
from batches_ext.testing._server import serve

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and serve until Ctrl-C; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m batches_ext.testing",
        description="Serve a fake OpenAI Batch API on loopback (no network, no real key). Ctrl-C stops it.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default: %(default)s)")
    parser.add_argument("--api-key", help="the key clients must send (default: batches_ext.testing.DEFAULT_API_KEY)")
    parser.add_argument(
        "--cancel-delay",
        type=float,
        default=DEFAULT_CANCEL_DELAY_S,
        help="seconds a batch stays 'cancelling' (default: %(default)s)",
    )
    parser.add_argument("--no-demo", action="store_true", help="start without the demo batches")
    args = parser.parse_args(argv)
    options = {"api_key": args.api_key} if args.api_key else {}
    try:
        serve(host=args.host, port=args.port, cancel_delay=args.cancel_delay, demo=not args.no_demo, **options)
    except OSError as exc:
        parser.exit(1, f"cannot listen on {args.host}:{args.port}: {exc}\n")
    except ValueError as exc:
        parser.error(str(exc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
