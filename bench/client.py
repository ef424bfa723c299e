"""A small HTTP client for the benchmark (http.client, no dependencies): a browser-like
session that logs in (with the second step for those who have one) and keeps its cookie,
and the load loop that each client process runs.
"""

from __future__ import annotations

import http.client
import re
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Session:
    """Requests to one server with one cookie jar, as one person's browser."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for header in response.msg.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return response.status, dict(response.getheaders()), data

    def csrf_token(self, path: str) -> str:
        status, _headers, body = self.request("GET", path)
        found = _CSRF.search(body.decode())
        if status != 200 or found is None:
            raise RuntimeError(f"no form at {path} ({status})")
        return found.group(1)

    def log_in(self, email: str, password: str) -> None:
        """Log in as a person does: the password, and the code of the demo's authenticator
        for a person with a second factor."""
        status, headers, _body = self.request("POST", "/log-ind", {
            "email": email, "password": password, "csrf_token": self.csrf_token("/log-ind")})
        location = headers.get("Location", "")
        if status == 302 and urlsplit(location).path == "/log-ind/kode":
            import pyotp

            from laks.services.twofactor import DEMO_SECRET

            status, headers, _body = self.request("POST", "/log-ind/kode", {
                "code": pyotp.TOTP(DEMO_SECRET).now(),
                "csrf_token": self.csrf_token("/log-ind/kode")})
            location = headers.get("Location", "")
        if status != 302 or urlsplit(location).path in ("/log-ind", "/log-ind/kode"):
            raise RuntimeError(f"could not log in as {email} ({status} → {location})")


def load(base_url: str, method: str, path: str, cookies: dict[str, str], form: dict | None,
         headers: dict | None, start_at: float, warm_up: float, duration: float
         ) -> tuple[list[float], int, int]:
    """Send requests one after the other, from ``start_at`` (a time.time() moment shared by
    every client) for ``warm_up`` seconds unmeasured, then ``duration`` seconds measured.

    Returns the measured latencies (ms), how many answers were not 2xx/3xx, and how many
    requests were measured.
    """
    session = Session(base_url)
    session.cookies = dict(cookies)
    while time.time() < start_at:
        time.sleep(0.001)
    measure_from = start_at + warm_up
    stop_at = measure_from + duration
    latencies, failures = [], 0
    while True:
        now = time.time()
        if now >= stop_at:
            break
        began = time.perf_counter()
        status, _headers, _body = session.request(method, path, form, headers)
        took = (time.perf_counter() - began) * 1000
        if now >= measure_from:
            latencies.append(took)
            failures += status >= 400
    return latencies, failures, len(latencies)
