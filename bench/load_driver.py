"""The simulated people of the load run (``python -m bench.load``): each a thread with a
browser of its own – real HTTP to 127.0.0.1, its own cookie, the CSRF token and the module's
version taken from the page it was sent, every field of a form posted back as a browser posts
it – and a record of every request and every text it tried to save.

Staff open their unit's module, autosave (the page's script does: the autosave endpoint, the
version from its answer) and save with the button, or submit; two or three staff of a unit
work on the same module at once, so their saves race. Facilitators read their home page and
the overview, take modules from the review queue and approve them or ask for changes (with a
comment), and reopen approved ones. Observers read the home page, the overview, the totals,
the programme page and unit pages.

Every saved text is unique and names its writer, a counter and the version of the module it
was based on (:func:`marker`), so that the database can be checked afterwards
(bench.load_check).
"""

from __future__ import annotations

import http.client
import json
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

#: The modules the staff work on (the first two of the five: plain questions, no rows).
MODULE_KEYS = ("udfordring", "praecisering")
#: What every saved text looks like; each is unique (person and counter) and names the
#: version of the module the form was loaded from.
MARKER = re.compile(r"Belastning (p\d+) nr\. (\d+) fra version (\d+)")
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_MODULE_LINK = re.compile(r'href="/enheder/(\d+)/moduler/([a-z]+)"')


def marker(label: str, counter: int, base: int) -> str:
    return f"Belastning {label} nr. {counter} fra version {base}"


@dataclass(frozen=True)
class Person:
    label: str  # p01, p02, …: named in every text the person saves
    email: str
    role: str  # "staff", "facilitator" or "observer"
    unit_ids: tuple[int, ...]
    totp_secret: str | None = None


@dataclass(frozen=True)
class Cast:
    """Who the load run's people are, and where they work (made by bench.load.prepare)."""

    password: str
    people: tuple[Person, ...]
    programme_id: int
    unit_ids: tuple[int, ...]
    #: For each module key: the question whose answer is the saved text.
    marker_keys: dict[str, str]


@dataclass
class Hit:
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


# --- a browser ------------------------------------------------------------------------------


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

    def log_in(self, person: Person, password: str) -> None:
        """The login form, then – for a person with a second factor – the code step with
        the code of the moment from the person's key, as an authenticator app shows it."""
        _status, page = self.get("login", "/log-ind")
        status, headers, _ = self.request("login", "POST", "/log-ind", [
            ("csrf_token", _csrf(page)), ("email", person.email), ("password", password)])
        location = urlsplit(headers.get("Location", "")).path
        if status == 302 and location == "/log-ind/kode" and person.totp_secret:
            import pyotp

            _status, page = self.get("login", "/log-ind/kode")
            status, headers, _ = self.request("login", "POST", "/log-ind/kode", [
                ("csrf_token", _csrf(page)), ("code", pyotp.TOTP(person.totp_secret).now())])
            location = urlsplit(headers.get("Location", "")).path
        if status != 302 or location.startswith("/log-ind"):
            raise RuntimeError(f"{person.email} could not log in ({status} → {location})")


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
    reader.feed(html)
    reader.close()
    return ModulePage(editable=reader.found, fields=reader.fields, csrf=_csrf(html),
                      can_review="/vurdering\"" in html, can_reopen="/genaabn\"" in html,
                      conflict='class="conflict-pair"' in html)


# --- the people -----------------------------------------------------------------------------


@dataclass
class Run:
    """What every person of one run shares: read-only, but for the record."""

    port: int
    cast: Cast
    until: float  # time.monotonic() when people stop starting something new
    think: float  # the mean pause between two steps of a person, in seconds
    record: Record


class Staff:
    """A staff member: opens the unit's module, autosaves a few times, then saves with the
    button (now and then: submits); after a conflict, saves again from the merge page."""

    SUBMIT_CHANCE = 0.15

    def __init__(self, run: Run, person: Person, browser: Browser, rng: random.Random):
        self.run, self.person, self.browser, self.rng = run, person, browser, rng
        self.unit_id = person.unit_ids[0]
        self.counter = 0
        self.key_index = 0

    def pause(self, scale: float = 1.0) -> None:
        time.sleep(self.rng.uniform(0, 2 * self.run.think * scale))

    def text(self, base: int) -> str:
        self.counter += 1
        return marker(self.person.label, self.counter, base)

    def write(self, key: str, text: str, base: int, kind: str) -> Write:
        write = Write(self.person.label, self.unit_id, key, text, base, kind)
        self.run.record.writes.append(write)
        return write

    def live(self) -> None:
        page = None
        while time.monotonic() < self.run.until:
            key = MODULE_KEYS[self.key_index]
            path = f"/enheder/{self.unit_id}/moduler/{key}"
            if page is None:
                status, html = self.browser.get("module page", path)
                page = read_module_page(html) if status == 200 else None
            if page is None or not page.editable:
                # Submitted or approved: look at the unit, then at its other module.
                self.key_index = (self.key_index + 1) % len(MODULE_KEYS)
                page = None
                self.browser.get("unit page", f"/enheder/{self.unit_id}")
                self.pause()
                continue
            page = self.edit(key, path, page)

    def edit(self, key: str, path: str, page: ModulePage) -> ModulePage | None:
        """Autosave 0–3 times, then save or submit. Returns the page to go on from: the
        merge page after a conflict, else None (open the module again)."""
        answer_key = self.run.cast.marker_keys[key]
        version = page.version
        for _ in range(self.rng.choice((0, 1, 1, 2, 3))):
            self.pause(0.5)
            text = self.text(version)
            write = self.write(key, text, version, "autosave")
            fields = [(k, v) for k, v in page.with_answer(answer_key, text, version)
                      if k != "intent"]
            status, _headers, body = self.browser.request(
                "autosave", "POST", path + "/autosave", fields,
                {"Accept": "application/json"})
            write.status = status
            answer = _json(body)
            if status == 200 and answer.get("status") == "saved":
                write.outcome, write.version = "saved", int(answer["version"])
                version = write.version  # as the page's script does
            else:
                write.outcome = _outcome(status, answer.get("status"))
                return None  # someone else saved: open the module again
        self.pause()
        intent = "submit" if self.rng.random() < self.SUBMIT_CHANCE else "save"
        text = self.text(version)
        write = self.write(key, text, version, intent)
        status, headers, html = self.browser.request(
            intent, "POST", path, page.with_answer(answer_key, text, version)
            + [("intent", intent)])
        write.status = status
        if status == 302 and urlsplit(headers.get("Location", "")).path == path:
            write.outcome = "saved"
            return None  # the browser follows the redirect: the module page again
        merge = read_module_page(html) if status == 409 else None
        if merge is not None and merge.conflict:
            write.outcome = "conflict"
            self.pause()
            return merge  # merge: save again from the page with the two versions
        write.outcome = "locked" if status == 409 else _outcome(status, None)
        return None


class Facilitator:
    """A facilitator: the home page and the overview, the review queue; approves or asks
    for changes with a comment; reopens an approved module now and then."""

    APPROVE_CHANCE = 0.35
    REOPEN_CHANCE = 0.5

    def __init__(self, run: Run, person: Person, browser: Browser, rng: random.Random):
        self.run, self.person, self.browser, self.rng = run, person, browser, rng
        self.comments = 0

    def pause(self) -> None:
        time.sleep(self.rng.uniform(0, 2 * self.run.think))

    def live(self) -> None:
        own = set(self.person.unit_ids)
        while time.monotonic() < self.run.until:
            self.browser.get("home", "/hjem")
            self.pause()
            if self.rng.random() < 0.3:
                self.browser.get("overview", "/oversigt/")
                self.pause()
            _status, html = self.browser.get("overview: needs", "/oversigt/venter")
            queue = [(int(u), k) for u, k in _MODULE_LINK.findall(html)
                     if int(u) in own and k in MODULE_KEYS]
            self.pause()
            if queue:
                unit_id, key = self.rng.choice(queue)
            else:
                unit_id, key = self.rng.choice(sorted(own)), self.rng.choice(MODULE_KEYS)
                self.browser.get("unit page", f"/enheder/{unit_id}")
                self.pause()
            self.look_at(unit_id, key)
            self.pause()

    def look_at(self, unit_id: int, key: str) -> None:
        path = f"/enheder/{unit_id}/moduler/{key}"
        status, html = self.browser.get("module page", path)
        if status != 200:
            return
        page = read_module_page(html)
        self.comments += 1
        comment = f"Kommentar {self.comments} fra {self.person.label}: uddyb gerne målgruppen."
        if page.can_review:
            self.pause()
            decision = ("approve" if self.rng.random() < self.APPROVE_CHANCE
                        else "request_changes")
            status, _, _ = self.browser.request("review", "POST", path + "/vurdering", [
                ("csrf_token", page.csrf), ("comment", comment), ("decision", decision)])
            self.run.record.count_review(decision if status == 302 else f"refused {status}")
        elif page.can_reopen and self.rng.random() < self.REOPEN_CHANCE:
            self.pause()
            status, _, _ = self.browser.request("reopen", "POST", path + "/genaabn", [
                ("csrf_token", page.csrf), ("comment", comment)])
            self.run.record.count_review("reopen" if status == 302 else f"refused {status}")


class Observer:
    """The steering group: home, overview, totals, the programme page, unit pages."""

    def __init__(self, run: Run, person: Person, browser: Browser, rng: random.Random):
        self.run, self.person, self.browser, self.rng = run, person, browser, rng

    def live(self) -> None:
        pages = [("home", "/hjem"), ("overview", "/oversigt/"),
                 ("overview: totals", "/oversigt/tal"),
                 ("programme page", f"/programmer/{self.run.cast.programme_id}")]
        while time.monotonic() < self.run.until:
            kind, path = self.rng.choice(pages)
            self.browser.get(kind, path)
            time.sleep(self.rng.uniform(0, 2 * self.run.think))
            unit_id = self.rng.choice(self.run.cast.unit_ids)
            self.browser.get("unit page", f"/enheder/{unit_id}")
            time.sleep(self.rng.uniform(0, 2 * self.run.think))


ROLES = {"staff": Staff, "facilitator": Facilitator, "observer": Observer}


def _json(body: str) -> dict:
    try:
        answer = json.loads(body)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _outcome(status: int, answer: str | None) -> str:
    if status == 0:
        return "no answer"
    if status >= 500:
        return "5xx"
    if answer in ("conflict", "locked"):
        return answer
    return "locked" if status == 409 else "refused"


def drive(port: int, cast: Cast, *, seconds: float, think: float, seed: int = 1) -> Record:
    """Log every person of ``cast`` in (before the clock starts), then let them all work at
    once for ``seconds``; returns the record of what they sent and what came back."""
    record = Record()

    def signed_in(person: Person) -> Browser:
        browser = Browser(port, record)
        browser.log_in(person, cast.password)
        return browser

    with ThreadPoolExecutor(max_workers=len(cast.people)) as pool:
        browsers = dict(zip([p.label for p in cast.people],
                            pool.map(signed_in, cast.people), strict=True))
    chance = random.Random(seed)  # noqa: S311 - a simulation's pace, not a secret
    record.started = time.monotonic()
    run = Run(port, cast, record.started + seconds, think, record)
    people = [ROLES[p.role](run, p, browsers[p.label],
                            random.Random(chance.random()))  # noqa: S311 - as above
              for p in cast.people]
    threads = [threading.Thread(target=_live, args=(one, record), name=one.person.label)
               for one in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    record.ended = time.monotonic()
    return record


def _live(person, record: Record) -> None:
    try:
        person.live()
    except Exception as exc:  # a person's script failing is reported, never hidden
        record.stopped.append(f"{person.person.label}: {exc!r}")
