"""The hostile-input fuzzer's tools, for tests/test_fuzz_*.py.

What is fuzzed is computed, never listed: every rule of the app's url_map that accepts POST,
PUT, PATCH or DELETE (:func:`mutating_rules`), so a new endpoint is fuzzed the day it is
added. Its URL is filled with an object of the signed-in person's own unit, another unit's,
or an odd id (:func:`url_strategy`); its fields are the ones its form has on the pages that
show it, read with html.parser (:func:`record_forms`), plus junk fields; their values are
hostile (:func:`hostile`). What every answer must satisfy is :func:`check_response`; what
the database must satisfy, :func:`unit_snapshot` and :func:`stored_strings`.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from urllib.parse import quote, quote_from_bytes, urlsplit

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, String, Text, cast, event, select, true
from werkzeug.routing import Rule

from laks.extensions import db
from laks.models import Base
from laks.privacy import looks_like_cpr, normalise

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: Examples per endpoint and role; LAKS_FUZZ_EXAMPLES=50 for a longer run.
EXAMPLES = int(os.environ.get("LAKS_FUZZ_EXAMPLES", "3"))
settings.register_profile(
    "laks-fuzz", max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
    print_blob=False, suppress_health_check=list(HealthCheck))
FUZZ = settings.get_profile("laks-fuzz")


# --- the endpoints ---------------------------------------------------------------------------


def mutating_rules(app) -> list[Rule]:
    """Every rule of the url_map that changes something (or could): the fuzzer's targets."""
    return sorted((rule for rule in app.url_map.iter_rules() if rule.methods & MUTATING),
                  key=lambda rule: (rule.rule, rule.endpoint))


def label(rule: Rule) -> str:
    return f"{rule.endpoint} {rule.rule}"


_ARGUMENT = re.compile(r"<(?:[a-zA-Z_]\w*(?:\([^)]*\))?:)?([a-zA-Z_]\w*)>")


def path_for(rule: Rule, segments: dict[str, str]) -> str:
    """The rule's path with each argument replaced by ``segments[name]`` as it is (already
    percent-encoded: odd values are sent exactly as a script would send them)."""
    return _ARGUMENT.sub(lambda m: segments[m.group(1)], rule.rule)


def segment(value) -> str:
    return quote(str(value), safe="")


# --- hostile values --------------------------------------------------------------------------

#: In every script the fuzzer sends, so that it can be found in what comes back.
MARK = "fz7q"
SCRIPTS = [
    f"<script>{MARK}()</script>",
    f'<img src=x onerror="{MARK}()">',
    f"<img src=x onerror={MARK}()>",
    f'"><script>{MARK}()</script>',
    f"'><svg onload={MARK}()>",
    f"javascript:{MARK}()",
    f"[klik her](javascript:{MARK}())",
    f"[x](JaVaScRiPt:{MARK}())",
    f"![billede](javascript:{MARK}())",
    f'<a href="javascript:{MARK}()">link</a>',
    f'<a href="&#106;avascript:{MARK}()">link</a>',
    f"<iframe src=javascript:{MARK}()></iframe>",
    f"<<script>script>{MARK}()<</script>/script>",
    f"**fed** <b onmouseover={MARK}()>x</b>",
    f"<details open ontoggle={MARK}()>",
    f"{{{{ {MARK} }}}} {{% if 1 %}}",
]
LONG = ["x" * 100_000, "æøå " * 8_000, "9" * 5_000, "a\n" * 20_000, "<b>" * 5_000]
NUL = ["\x00", "a\x00b", "\x00" * 3 + "x", "%00"]
#: Sent as bytes: never valid UTF-8.
INVALID_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80abc",
                b"ok\xfe\xff", b"\xe2\x82"]
WRONG_TYPES = ["abc", "-1", "0", "1.5", "1,5", "1e400", "NaN", "-Infinity", "2147483648",
               "9223372036854775808", "-9223372036854775809", "99999999999999999999",
               "2026-02-30", "0000-00-00", "9999-12-31", "31-12-2026", "true", "[]", "{}",
               "null", "\u0661\u0662\u0663", "", " ", "\u202e\u2066", "\ufeff"]
CPR_FORMATS = ["{d}{m}{y}-{s}", "{d}.{m}.{y}-{s}", "{d}{m}{y} {s}", "{d}{m}{y}{s}",
               "{d} {m} {y} {s}", "{d}/{m}/{y}-{s}", "{d}{m}{y}\\-{s}", "{d}**{m}**{y}-{s}",
               "{d}\u2011{m}\u2011{y}\u2011{s}"]


def _cpr(day: date, serial: int, form: str, context: str) -> str:
    number = form.format(d=f"{day.day:02d}", m=f"{day.month:02d}", y=f"{day.year % 100:02d}",
                         s=f"{serial:04d}")
    return context.format(number)


#: Numbers a reader takes for a CPR number. A serial from 0000 to 3999 puts every year
#: 1930-1999 in the 1900s, so each is a real, past birth date.
cpr_numbers = st.builds(
    _cpr, st.dates(min_value=date(1930, 1, 1), max_value=date(1999, 12, 31)),
    st.integers(0, 3999), st.sampled_from(CPR_FORMATS),
    st.sampled_from(["{}", "Borgeren {} ringede", "cpr: {}", "- {}\n- næste", "**{}**"]))


def cpr_core(text: str) -> str | None:
    """The ten digits of the CPR number in ``text`` that :data:`cpr_numbers` made."""
    digits = re.sub(r"[^0-9]", "", normalise(text))
    return digits if len(digits) == 10 else None


def hostile(ids: list[str]) -> st.SearchStrategy:
    """One hostile value: text, a number of the wrong kind, a script, a CPR number, a huge
    or NUL-filled string, invalid UTF-8 (bytes), or the id of any object, own or not."""
    return st.one_of(
        st.text(max_size=30),
        st.sampled_from(SCRIPTS),
        cpr_numbers,
        st.sampled_from(LONG + NUL + WRONG_TYPES),
        st.sampled_from(INVALID_UTF8),
        st.sampled_from(ids),
        st.integers().map(str),
    )


#: Fields no form has, sent as well.
JUNK_FIELDS = ["id", "unit_id", "user_id", "role", "is_admin", "state", "version", "answers",
               "answers[]", "__proto__", "intent", "next", "a" * 300, "\x00", "æøå"]


# --- the world the fuzzer works in -----------------------------------------------------------


@dataclass
class Fill:
    """How one URL argument may be filled: the own unit's objects, another unit's, odd."""

    own: list[str]
    other: list[str] = field(default_factory=list)
    odd: list[str] = field(default_factory=list)


ODD_IDS = ["0", "-1", "2147483648", "9223372036854775808", "-9223372036854775809",
           "99999999999999999999", "1e3", "%D9%A1", "abc", "%FF", "%00", "1%00", "%C3%28",
           "%201", "1.0", "0x1F"]
ODD_TEXT = ["x" * 300, "%00", "%FF%FE", "..%2F..%2Fadmin", "%3Cscript%3Efz7q()%3C%2Fscript%3E",
            "010203-1234", "24.12.51%201234", "%C0%AE", "%E2%80%AE", "UDFORDRING", "a%20b"]


def url_strategy(rule: Rule, fills: dict[str, Fill], depends=None) -> st.SearchStrategy:
    """(how, path) for ``rule``: how is "own", "other" or "odd". ``depends(name, chosen)``
    may narrow an argument's own values by those chosen before it (a question of the
    chosen module)."""
    names = sorted(rule.arguments, key=lambda n: (n != "module_key", n))

    @st.composite
    def draw_path(draw):
        how = draw(st.sampled_from(["own", "own", "own", "other", "odd"]))
        chosen: dict[str, str] = {}
        for name in names:
            if name in (rule.defaults or {}):
                continue
            fill = fills[name]
            own = depends(name, chosen) if depends else None
            own = own or fill.own
            if how == "other" and fill.other:
                value = segment(draw(st.sampled_from(fill.other)))
            elif how == "odd" and draw(st.booleans()):
                value = draw(st.sampled_from(fill.odd) if fill.odd else st.one_of(
                    st.sampled_from(ODD_TEXT), cpr_numbers.map(segment)))
            else:
                value = segment(draw(st.sampled_from(own)))
            chosen[name] = value
        return how, path_for(rule, chosen)

    return draw_path()


# --- the forms of the pages ------------------------------------------------------------------


@dataclass
class FormFields:
    """The fields of every form that posts to one rule, with the values the pages give them."""

    values: dict[str, set[str]] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)
    seen_on: set[str] = field(default_factory=set)

    def add(self, name: str, value: str | None, kind: str) -> None:
        if name == "csrf_token":
            return
        self.values.setdefault(name, set())
        if value is not None:
            self.values[name].add(value)
        if kind == "file":
            self.files.add(name)


class FormParser(HTMLParser):
    """Every form of a page: (method, action, [(name, value, kind)]); a button's
    ``formaction`` and a form's ``data-autosave-url`` are forms of their own."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, str, list]] = []
        self._current: list | None = None
        self._select: str | None = None
        self._textarea: list | None = None
        self._extra: list[tuple[str, str, list]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._current = []
            method = (a.get("method") or "get").upper()
            self.forms.append((method, a.get("action") or "", self._current))
            if a.get("data-autosave-url"):  # the module form's autosave posts its fields
                self._extra.append((method, a["data-autosave-url"], self._current))
        elif self._current is None:
            return
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]
        elif tag in ("input", "button") and a.get("name"):
            kind = a.get("type") or ("submit" if tag == "button" else "text")
            self._current.append((a["name"], a.get("value"), kind))
            if a.get("formaction"):
                self._extra.append(("POST", a["formaction"], self._current))
        elif tag == "select":
            self._select = a.get("name")
            if self._select:
                self._current.append((self._select, None, "select"))
        elif tag == "option" and self._select:
            self._current.append((self._select, a.get("value", ""), "select"))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._current is not None:
            self._current.append((self._textarea[0], self._textarea[1], "textarea"))
            self._textarea = None

    def close(self):
        super().close()
        self.forms.extend(self._extra)


def forms_of(html: str) -> list[tuple[str, str, list]]:
    parser = FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def record_forms(app, found: dict[str, FormFields], page_path: str, html: str) -> None:
    """Add the POST forms of one page to ``found`` (keyed by rule label)."""
    adapter = app.url_map.bind("laks.test")
    for method, action, fields in forms_of(html):
        if method != "POST":
            continue
        path = urlsplit(action).path or page_path
        try:
            rule, _args = adapter.match(path, method="POST", return_rule=True)
        except Exception:  # noqa: BLE001, S112 - a form posting elsewhere is not ours to fuzz
            continue
        target = found.setdefault(label(rule), FormFields())
        target.seen_on.add(page_path)
        for name, value, kind in fields:
            target.add(name, value, kind)


# --- what must hold --------------------------------------------------------------------------

_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster",
                   "background", "srcdoc"}
_SCHEME_JUNK = re.compile(r"[\x00-\x20]+")


def _dangerous_url(value: str) -> bool:
    plain = _SCHEME_JUNK.sub("", value).lower()
    return plain.startswith(("javascript:", "vbscript:", "data:text/html"))


class ScriptFinder(HTMLParser):
    """What a browser would run in a page: inline scripts, event-handler attributes,
    javascript: URLs, frames. laks' own pages have none of them (its CSP forbids them)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r}>")
            elif name in _URL_ATTRIBUTES and value and _dangerous_url(value):
                self.found.append(f"<{tag} {name}={value!r}>")
        if tag == "script" and not dict(attrs).get("src"):
            self.found.append("<script> without src")
        if tag in ("iframe", "frame", "object", "embed", "base"):
            self.found.append(f"<{tag}>")

    handle_startendtag = handle_starttag


def scripts_in(html: str) -> list[str]:
    """What in ``html`` a browser would run (see ScriptFinder). Every script the fuzzer
    sends carries MARK: a page without it has nothing of the fuzzer's to run."""
    if MARK not in html.lower():
        return []
    finder = ScriptFinder()
    finder.feed(html)
    finder.close()
    return finder.found


def check_response(response, errors: list[logging.LogRecord], what: str) -> None:
    """Never a server error or a logged exception; no script in a page. (A 503 that says
    when to try again is laks' answer while a catalogue PDF is being made.)"""
    designed = response.status_code == 503 and "Retry-After" in response.headers
    assert response.status_code < 500 or designed, f"{response.status_code} for {what}"
    assert not errors, f"logged for {what}: {[r.getMessage() for r in errors]}"
    if response.mimetype == "text/html":
        found = scripts_in(response.get_data(as_text=True))
        assert not found, f"script in the page for {what}: {found[:3]}"


class ErrorLog(logging.Handler):
    """Every record at ERROR or above while the fuzzer runs (Flask logs each exception)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def _rows(table, where) -> list[tuple]:
    # JSON is compared as the database holds it: reading it back as objects is slow.
    columns = [cast(c, Text) if isinstance(c.type, JSON) else c for c in table.columns]
    return db.session.execute(
        select(*columns).where(where).order_by(*table.primary_key.columns)).all()


def unit_snapshot(unit_id: int) -> dict[str, list[tuple]]:
    """Everything of one unit that its people wrote or others decided: the unit, its
    members, its modules' answers and versions (and so its test log), revisions, timeline,
    comments, progress scores and catalogue consents."""
    tables = Base.metadata.tables
    modules = tables["unit_module"]
    module_ids = select(modules.c.id).where(modules.c.unit_id == unit_id).scalar_subquery()
    snapshot = {"unit": _rows(tables["unit"], tables["unit"].c.id == unit_id)}
    for name in ("unit_module", "membership", "progress_score", "case_consent"):
        snapshot[name] = _rows(tables[name], tables[name].c.unit_id == unit_id)
    for name in ("module_revision", "state_change", "module_comment"):
        snapshot[name] = _rows(tables[name], tables[name].c.unit_module_id.in_(module_ids))
    return snapshot


def database_snapshot(*, leave_out=("audit_event",)) -> dict[str, list[tuple]]:
    """Every row of every table but ``leave_out`` (the audit log records refusals)."""
    return {table.name: _rows(table, true()) for table in Base.metadata.sorted_tables
            if table.name not in leave_out}


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def stored_strings():
    """(table, text) for every text stored anywhere in the database (JSON included)."""
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)):
            for value in row:
                for text in _strings(value):
                    yield table.name, text


_DIGITS: dict[str, str] = {}


def _digits(text: str) -> str:
    """The digits of ``text`` as a reader sees them (0-9), remembered: the database is
    read again and again, and most of its texts do not change."""
    found = _DIGITS.get(text)
    if found is None:
        found = re.sub(r"[^0-9]", "", normalise(text)) if re.search(r"\d", text) else ""
        if len(text) < 10_000:  # the fuzzer's huge texts are not kept
            _DIGITS[text] = found
    return found


class WriteWatch:
    """The texts laks sends to the database in INSERT and UPDATE statements (those with a
    digit), so that the database is searched for a CPR number only when one may be in it."""

    def __init__(self, engine):
        self.engine, self.texts = engine, []
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, parameters, _context, executemany):
        if statement.lstrip()[:6].upper() not in ("INSERT", "UPDATE"):
            return
        rows = parameters if executemany else [parameters]
        for row in rows:
            values = row.values() if isinstance(row, dict) else row
            self.texts += [v for v in values if isinstance(v, str) and re.search(r"\d", v)]

    def may_hold(self, sent: set[str]) -> bool:
        """True if a text written since the last call holds one of ``sent`` (ten digits)."""
        texts, self.texts = self.texts, []
        return any(core in _digits(text) for text in texts for core in sent)

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def cpr_stored(sent: set[str]) -> list[tuple[str, str]]:
    """Stored texts holding one of the CPR numbers (their ten digits) the fuzzer sent."""
    found = []
    for table, text in stored_strings():
        digits = _digits(text)
        if digits and any(core in digits for core in sent) and looks_like_cpr(text):
            found.append((table, text[:200]))
    return found


# --- sending ---------------------------------------------------------------------------------


def _quoted(value) -> str:
    if isinstance(value, bytes):
        return quote_from_bytes(value, safe="")
    return quote(value, safe="")


def request_kwargs(pairs: list[tuple[str, object]], encoding: str, token: str,
                   files: set[str]) -> dict:
    """The test client's arguments for posting ``pairs`` (values str or bytes) with a valid
    CSRF token, encoded as a form, a form with raw bytes, multipart or JSON."""
    if encoding == "json":
        body = {}
        for name, value in pairs:
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            body.setdefault(name, []).append(text)
        shape = {k: v[0] if len(v) == 1 else v for k, v in body.items()}
        return {"data": json.dumps(shape), "content_type": "application/json",
                "headers": {"X-CSRFToken": token}}
    if encoding == "json-wrong":
        return {"data": json.dumps([[p[0] for p in pairs], None, 1e308, {"a": {"b": []}}]),
                "content_type": "application/json", "headers": {"X-CSRFToken": token}}
    if encoding == "multipart":
        data: list[tuple[str, object]] = [("csrf_token", token)]
        for name, value in pairs:
            if isinstance(value, bytes) or name in files:
                raw = value if isinstance(value, bytes) else value.encode()
                data.append((name, (io.BytesIO(raw), "fuzz.csv")))
            else:
                data.append((name, value))
        from werkzeug.datastructures import MultiDict

        return {"data": MultiDict(data), "content_type": "multipart/form-data"}
    parts = [f"csrf_token={quote(token, safe='')}".encode()]
    for name, value in pairs:
        if encoding == "raw" and isinstance(value, bytes):
            parts.append(_quoted(name).encode() + b"=" + value)
        else:
            parts.append(f"{_quoted(name)}={_quoted(value)}".encode())
    return {"data": b"&".join(parts), "content_type": "application/x-www-form-urlencoded"}


def describe(method: str, path: str, pairs, encoding: str) -> str:
    shown = [(k[:40], (v[:60] if isinstance(v, str | bytes) else v)) for k, v in pairs]
    return f"{method} {path} [{encoding}] {shown}"
