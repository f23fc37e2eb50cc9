"""A production-shaped Flowdesk on one machine: N gunicorn app nodes (W workers each) and M `flowdesk worker`s
on one database, behind a round-robin TCP balancer on --port. Configured only through the environment
(FLOWDESK_DATABASE_URL, FLOWDESK_SECRET_KEY, ...), like the real set-up.

    .venv/bin/python -m tools.cluster --port 8000 [--apps 2] [--gunicorn-workers 2] [--workers 2]

SIGTERM stops every process it started. Used by the tests that run the shared acceptance folder and races
against several nodes; also a way to try the production set-up by hand.
"""

import argparse
import asyncio
import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def balance(port: int, backends: list[int]) -> None:
    """Each new connection goes to the next app node."""
    turn = itertools.cycle(backends)

    async def handle(client_reader, client_writer):
        target = next(turn)
        try:
            node_reader, node_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, node_writer), _pipe(node_reader, client_writer))

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def start(apps: int, gunicorn_workers: int, workers: int) -> tuple[list[subprocess.Popen], list[int]]:
    processes, ports = [], []
    for _ in range(apps):
        port = free_port()
        ports.append(port)
        processes.append(
            subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "--workers",
                    str(gunicorn_workers),
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--graceful-timeout",
                    "5",
                    "app:create_app()",
                ]
            )
        )
    for _ in range(workers):
        processes.append(subprocess.Popen([str(BIN / "flowdesk"), "worker"]))
    return processes, ports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="accepted for `flowdesk serve` compatibility")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--apps", type=int, default=2)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    processes, ports = start(args.apps, args.gunicorn_workers, args.workers)

    def stop(*_):
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        asyncio.run(balance(args.port, ports))
    finally:
        stop()


if __name__ == "__main__":
    main()
