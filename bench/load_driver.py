"""The simulated people of the load run (``python -m bench.load``): each a thread with a
browser of its own – real HTTP to 127.0.0.1, its own cookie, the CSRF token and the module's
version taken from the page it was sent, every field of a form posted back as a browser posts
it (bench.load_browser) – and a record of every request and every text it tried to save.

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

import json
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.load_browser import Browser, ModulePage, Record, Write, read_module_page

#: The modules the staff work on (the first two of the five: plain questions, no rows).
MODULE_KEYS = ("udfordring", "praecisering")
#: What every saved text looks like; each is unique (person and counter) and names the
#: version of the module the form was loaded from.
MARKER = re.compile(r"Belastning (p\d+) nr\. (\d+) fra version (\d+)")
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
            _status, html = self.browser.get("overview: needs", "/oversigt/venter")
            queue = [(int(u), k) for u, k in _MODULE_LINK.findall(_review_queue(html))
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
            self.browser.get("home", "/hjem")
            self.pause()
            if self.rng.random() < 0.3:
                self.browser.get("overview", "/oversigt/")
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


def _review_queue(html: str) -> str:
    """The review queue's part of the page of what needs someone."""
    at = html.find('id="needs-review"')
    return html[at:html.find("</section>", at)] if at >= 0 else ""


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
        browser.log_in(person.email, cast.password, person.totp_secret)
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
