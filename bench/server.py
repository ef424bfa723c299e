"""Serve a WSGI app under gunicorn for the benchmark, on a free local port."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_args(workers: int, threads: int) -> list[str]:
    """The settings every app of one run is served with."""
    return ["--workers", str(workers), "--threads", str(threads), "--worker-class",
            "gthread" if threads > 1 else "sync", "--log-level", "warning",
            "--backlog", "256", "--timeout", "120"]


@contextlib.contextmanager
def serve(app: str, *, env: dict[str, str], workers: int, threads: int) -> Iterator[str]:
    """Run ``gunicorn app`` (e.g. ``laks:create_app()``) until the block ends; yields its
    base URL once it answers."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", *gunicorn_args(workers, threads),
               "--bind", f"127.0.0.1:{port}", app]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn {app} stopped at start ({process.returncode})")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn {app} did not answer in 60 s") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
