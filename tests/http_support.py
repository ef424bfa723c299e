"""laks over real HTTP for the tests that need it: served by gunicorn as production serves
it (``laks:create_app()``, configured only by ``LAKS_*`` variables), and a client that keeps
its session cookie in a Cookie header written by hand – as a browser does, or someone who
copied the header from one."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server stopped while starting"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port}")


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 1, options: tuple[str, ...] = (),
             unset: tuple[str, ...] = (), log: Path | None = None
             ) -> Iterator[tuple[int, subprocess.Popen]]:
    """laks under gunicorn with ``workers`` workers, its environment this process's with
    ``env`` over it and ``unset`` taken out; its output to ``log`` (or nowhere). Yields the
    port and the master process once it answers; stops it after."""
    environment = {**os.environ, **env}
    for name in unset:
        environment.pop(name, None)
    port = free_port()
    with contextlib.ExitStack() as stack:
        output = stack.enter_context(log.open("wb")) if log else subprocess.DEVNULL
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), *options,
             "--bind", f"127.0.0.1:{port}", "laks:create_app()"],
            cwd=ROOT, env=environment, stdout=output, stderr=output)
    try:
        wait_for_port(port, process, seconds=60)
        yield port, process
    finally:
        process.terminate()
        process.wait(timeout=30)


class Http:
    """Requests to laks on ``port`` with one session cookie, and ``headers`` on each."""

    def __init__(self, port: int, cookie: str | None = None, headers: dict | None = None):
        self.port, self.cookie, self.headers = port, cookie, dict(headers or {})

    def copy(self) -> Http:
        return Http(self.port, self.cookie, self.headers)

    def __call__(self, method: str, path: str, form: dict | None = None):
        """(status, headers, text) of one request."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = dict(self.headers)
        if self.cookie:
            headers["Cookie"] = f"session={self.cookie}"
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            match = re.match(r"session=([^;]*)", header)
            if match:
                self.cookie = match.group(1) or None
        conn.close()
        return response.status, response.headers, text
