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


class Server:
    """A running gunicorn: its base URL, and the CPU time its workers have used."""

    def __init__(self, url: str, pid: int):
        self.url, self.pid = url, pid

    def cpu_seconds(self) -> float | None:
        """User and system CPU seconds of the master's worker processes so far (None where
        /proc cannot tell): what the server spent, whatever else the machine runs."""
        tick = os.sysconf("SC_CLK_TCK")
        total, found = 0, False
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.pid:  # the parent's pid
                total += int(fields[11]) + int(fields[12])  # utime, stime
                found = True
        return total / tick if found else None


@contextlib.contextmanager
def serve(app: str, *, env: dict[str, str], workers: int, threads: int) -> Iterator[Server]:
    """Run ``gunicorn app`` (e.g. ``laks:create_app()``) until the block ends; yields the
    server once it answers."""
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
        yield Server(f"http://127.0.0.1:{port}", process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
