"""A browser for the load run (bench.load_driver): requests to 127.0.0.1 with a cookie jar,
each one recorded with its latency and status; and pages read as a browser reads them – the
CSRF token, and every field of the module form as a browser would send it."""

from __future__ import annotations

import http.client
import re
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Hit:
    """One request: its kind ("module page", "autosave" …), status and latency."""

    kind: str
    status: int  # 0: no answer (the connection failed)
    ms: float
    at: float  # time.monotonic() when the answer came


@dataclass
class Write:
    """One text sent to be saved, and what the server answered."""

    person: str
    unit_id: int
    module_key: str
    text: str
    base: int
    kind: str  # "save", "submit" (saved, then submitted) or "autosave"
    outcome: str = "no answer"  # "saved", "conflict", "locked", "refused", "5xx", "no answer"
    status: int = 0
    version: int | None = None  # the version an autosave's answer acknowledged


@dataclass
class Record:
    """Everything of one run: each request, each text sent to be saved, the reviews."""

    hits: list[Hit] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # 5xx and requests without an answer
    stopped: list[str] = field(default_factory=list)  # a person whose script failed
    reviews: dict[str, int] = field(default_factory=dict)
    started: float = 0.0
    ended: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count_review(self, what: str) -> None:
        with self._lock:
            self.reviews[what] = self.reviews.get(what, 0) + 1


class Browser:
    """One person's browser: a cookie jar and requests to one server, each recorded."""

    def __init__(self, port: int, record: Record):
        self.port, self.record = port, record
        self.cookies: dict[str, str] = {}

    def request(self, kind: str, method: str, path: str, form: list | None = None,
                headers: dict | None = None) -> tuple[int, dict, str]:
        sent = {"User-Agent": "laks-load", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        began = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode()
        except (OSError, http.client.HTTPException) as exc:
            self.record.hits.append(Hit(kind, 0, (time.perf_counter() - began) * 1000,
                                        time.monotonic()))
            self.record.errors.append(f"{method} {path}: no answer ({exc!r})")
            return 0, {}, ""
        finally:
            connection.close()
        self.record.hits.append(Hit(kind, response.status,
                                    (time.perf_counter() - began) * 1000, time.monotonic()))
        if response.status >= 500:
            self.record.errors.append(f"{method} {path}: {response.status}")
        for header in response.msg.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, dict(response.getheaders()), text

    def get(self, kind: str, path: str) -> tuple[int, str]:
        status, _headers, text = self.request(kind, "GET", path)
        return status, text

    def log_in(self, email: str, password: str, totp_secret: str | None = None) -> None:
        """The login form, then – for a person with a second factor – the code step with
        the code of the moment from the person's key, as an authenticator app shows it."""
        _status, page = self.get("login", "/log-ind")
        status, headers, _ = self.request("login", "POST", "/log-ind", [
            ("csrf_token", _csrf(page)), ("email", email), ("password", password)])
        location = urlsplit(headers.get("Location", "")).path
        if status == 302 and location == "/log-ind/kode" and totp_secret:
            import pyotp

            _status, page = self.get("login", "/log-ind/kode")
            status, headers, _ = self.request("login", "POST", "/log-ind/kode", [
                ("csrf_token", _csrf(page)), ("code", pyotp.TOTP(totp_secret).now())])
            location = urlsplit(headers.get("Location", "")).path
        if status != 302 or location.startswith("/log-ind"):
            raise RuntimeError(f"{email} could not log in ({status} → {location})")


def _csrf(page: str) -> str:
    found = _CSRF.search(page)
    return found.group(1) if found else ""


# --- reading a page as a browser does -------------------------------------------------------


class _FormReader(HTMLParser):
    """The fields a browser would send for the form with id ``form_id``: hidden and text
    inputs, checked boxes and radios, textareas (without the one newline a browser drops
    after the opening tag), and the chosen options of selects."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.found = False
        self.fields: list[tuple[str, str]] = []
        self._textarea: tuple[str, list[str]] | None = None
        self._select: dict | None = None
        self._option: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = self.found = True
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((name, a.get("value", "on" if kind in ("checkbox", "radio")
                                             else "")))
        elif tag == "textarea" and name:
            self._textarea = (name, [])
        elif tag == "select" and name:
            self._select = {"name": name, "multiple": "multiple" in a, "options": []}
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": [], "selected": "selected" in a}
            self._select["options"].append(self._option)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)
        elif self._option is not None:
            self._option["text"].append(data)

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag == "textarea" and self._textarea is not None:
            name, parts = self._textarea
            value = "".join(parts)
            if value.startswith("\r\n"):
                value = value[2:]
            elif value.startswith("\n"):
                value = value[1:]
            self.fields.append((name, value))
            self._textarea = None
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            options = self._select["options"]
            chosen = [o for o in options if o["selected"]]
            if not chosen and options and not self._select["multiple"]:
                chosen = options[:1]
            for option in chosen:
                value = option["value"]
                self.fields.append((self._select["name"],
                                    value if value is not None else "".join(option["text"])))
            self._select = None
        elif tag == "form":
            self.inside = False


@dataclass
class ModulePage:
    editable: bool
    fields: list[tuple[str, str]]
    csrf: str
    can_review: bool
    can_reopen: bool
    conflict: bool  # the page shows the two versions to merge

    @property
    def version(self) -> int:
        return int(dict(self.fields).get("version") or 0)

    def with_answer(self, key: str, text: str, version: int | None = None):
        """The form's fields with ``text`` as the answer to ``key`` (and another version)."""
        fields = [(k, text if k == key else v) for k, v in self.fields]
        if version is not None:
            fields = [(k, str(version) if k == "version" else v) for k, v in fields]
        return fields


def read_module_page(html: str) -> ModulePage:
    reader = _FormReader("module-form")
    # Only the form is parsed (the people share two cores with the server they load).
    at = html.find('id="module-form"')
    if at >= 0:
        begin, end = html.rfind("<form", 0, at), html.find("</form>", at)
        reader.feed(html[begin:end + len("</form>")] if begin >= 0 and end >= 0 else html)
    reader.close()
    return ModulePage(editable=reader.found, fields=reader.fields, csrf=_csrf(html),
                      can_review="/vurdering\"" in html, can_reopen="/genaabn\"" in html,
                      conflict='class="conflict-pair"' in html)
