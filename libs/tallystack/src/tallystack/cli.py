"""`tally-stack up`: run all of Tally on this machine until Ctrl-C."""

import argparse
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from tallystack.stack import SERVICES, Ports, Stack


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tally-stack")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start everything and wait for Ctrl-C")
    up.add_argument("--data-dir", type=Path, default=Path(".tally"))
    up.add_argument("--port", type=int, default=8000, help="the gateway's port; services use the next five")
    args = parser.parse_args(argv)

    ports = Ports(gateway=args.port, services={n: args.port + 1 + i for i, n in enumerate(SERVICES)})
    stack = Stack(args.data_dir, ports, progress=lambda line: print(line, flush=True))
    stopping = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(f"Starting Tally (data in {stack.data_dir})", flush=True)
    try:
        stack.start()
        print(
            f"\nTally is running: open {stack.url}\n"
            f"  mail sent by Tally lands in {stack.mail_dir}\n"
            f"  logs are in {stack.logs}\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        restarts: dict[str, int] = {}
        while not stopping:
            time.sleep(0.5)
            for name in stack.exited():
                restarts[name] = restarts.get(name, 0) + 1
                if restarts[name] > 5:
                    print(f"{name} keeps exiting; see {stack.logs / (name + '.log')}", file=sys.stderr)
                    stopping = True
                    break
                print(f"{name} exited; restarting it", file=sys.stderr, flush=True)
                stack.start_service(name)
    except Exception as exc:
        print(f"Tally could not start: {exc}", file=sys.stderr)
        stack.stop()
        sys.exit(1)
    print("\nStopping Tally…", flush=True)
    stack.stop()
    print("Stopped. Your data stays in", stack.data_dir, flush=True)
