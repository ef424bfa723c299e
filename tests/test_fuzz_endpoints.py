"""Hostile input, fuzzed: every endpoint that changes something – every POST, PUT, PATCH or
DELETE rule of the url_map, so a new one is fuzzed the day it is added – gets random and
hostile values (very long strings, NUL bytes, invalid UTF-8, scripts, CPR numbers, values of
the wrong type, JSON of the wrong shape, ids of another unit and ids no database column
holds), from each role in turn, with a valid CSRF token (test_fuzz_csrf.py sends none, or a
wrong one). What must hold, whatever is sent:

- never a server error, never an exception in the log (the app runs with
  PROPAGATE_EXCEPTIONS off, as in production, so a crash is a 500 here);
- never a script in a page: no inline script, event handler or javascript: URL in any page
  laks answers with or shows afterwards, and no stored text whose markdown renders one;
- no CPR number the fuzzer sent is stored anywhere in the database;
- another unit's data is never changed (except by the network admin, who may).
"""

from __future__ import annotations

import logging
import os
import re
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote

import pyotp
import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event, select, update

from laks.enums import MODULE_KEYS, CatalogueGrouping, Role
from laks.extensions import db
from laks.models import Membership, Notification, Programme, User
from laks.privacy import looks_like_cpr
from laks.rendering import render_markdown
from laks.views import ACCESS_ATTR
from tests.catalogue_factories import make_edition, snapshot
from tests.catalogue_support import demo_answers, fill_case, fill_module
from tests.conftest import PASSWORD, TOTP_LAST_USED, current_code
from tests.fuzz_support import (
    FUZZ,
    JUNK_FIELDS,
    MARK,
    MUTATING,
    ODD_IDS,
    ErrorLog,
    Fill,
    FormFields,
    WriteWatch,
    check_response,
    cpr_stored,
    describe,
    hostile,
    label,
    mutating_rules,
    path_for,
    record_forms,
    request_kwargs,
    scripts_in,
    segment,
    stored_strings,
    unit_snapshot,
    url_strategy,
)

#: How laks answered the fuzzer, by role and status (printed, for a reader of the run).
STATUSES: Counter = Counter()
ROLES = ["anonymous", "observer", "facilitator", "tovholder", "admin"]

#: Endpoints that change something but that no page of the fuzzer's world shows a form for,
#: and why (they are fuzzed all the same, with junk fields only). None: every form is found.
NO_FORM_IN_WORLD: dict[str, str] = {}

QUERIES = ["", "", "", "?next=javascript:fz7q()", "?x=%FF%FE", "?id=99999999999999999999",
           "?q=%3Cscript%3Efz7q()%3C/script%3E", "?next=//evil.example/", "?a=1&a=2&a[]=3",
           "?q=0101901234&enhed=010190-1234"]


# --- the world ---------------------------------------------------------------------------------


@dataclass
class World:
    team: SimpleNamespace
    fills: dict[str, Fill]
    questions: dict[str, list[str]]
    tokens: dict[str, str]
    field_ids: list[str]
    get_fills: dict[str, dict[str, Fill]] = field(default_factory=dict)

    def fills_for(self, rule) -> dict[str, Fill]:
        fills = {**self.fills, **self.get_fills.get(rule.endpoint, {})}
        if rule.endpoint in self.tokens:
            fills["token"] = Fill([self.tokens[rule.endpoint]], odd=["x" * 80, "%00", "a.b.c"])
        return fills

    def depends(self, name: str, chosen: dict[str, str]) -> list[str] | None:
        if name == "question_key":
            return self.questions.get(chosen.get("module_key", ""))
        return None


def _member(user: User, unit, *, tovholder: bool = False) -> None:
    db.session.add(Membership(user=user, unit=unit, is_tovholder=tovholder))
    db.session.commit()


def build_world(team, make_user, make_unit) -> World:
    """Units with work in every state, and everything an endpoint's URL may name: people to
    act on (one deactivated), an invitation and a reset link, complete cases with and without
    consent, a closed unit, shared measures, a draft and a published catalogue edition,
    mails and notifications. The observer has a second factor; a second facilitator has not
    set one up yet."""
    from laks.services import (
        catalogue,
        mail,
        network,
        notifications,
        password_reset,
        progress,
        testlog,
    )
    from laks.services import modules as module_service
    from laks.services.accounts import invitation_token
    from laks.services.definitions import get_spec

    unit, other = team.unit, team.other_unit
    victim = make_user(Role.STAFF, unit, name="Vera Offer")
    invitee = make_user(Role.STAFF, unit, name="Ida Inviteret")
    invitee.password_hash = None
    gone = make_user(Role.STAFF, unit, name="Dorte Deaktiveret", active=False)
    newcomer = make_user(Role.FACILITATOR, unit, name="Nina Ny", two_factor=False)
    team.observer.totp_secret = pyotp.random_base32()
    team.observer.totp_confirmed_at = TOTP_LAST_USED
    db.session.commit()

    answers = demo_answers()
    fill_module(unit, "udfordring", answers["udfordring"], staff=team.tovholder,
                facilitator=team.facilitator)
    submitted = fill_module(unit, "praecisering", answers["praecisering"], staff=team.tovholder,
                            facilitator=team.facilitator, approve=False)
    module_service.submit(submitted, get_spec("praecisering"), actor=team.tovholder)
    notifications.module_submitted(submitted, team.tovholder)
    fill_module(unit, "handleplan", answers["handleplan"], staff=team.tovholder,
                facilitator=team.facilitator, approve=False)
    log_module = fill_module(unit, "afproevning", answers["afproevning"], staff=team.tovholder,
                             facilitator=team.facilitator, approve=False)
    module_service.add_comment(log_module, "Fint arbejde.", actor=team.facilitator)
    progress.set_score(unit, 5, "Godt i gang", actor=team.facilitator)

    # Complete cases of the tovholder's: one with the unit's consent, one without.
    done = {}
    for name in ("Samtykket", "Færdig"):
        done[name] = make_unit(name, programme=unit.programme)
        _member(team.tovholder, done[name], tovholder=True)
        _member(team.facilitator, done[name])
        fill_case(done[name], staff=team.tovholder, facilitator=team.facilitator)
    catalogue.give_consent(done["Samtykket"], team.tovholder)
    closed = make_unit("Lukket", programme=unit.programme)
    network.close_unit(closed, actor=team.admin, comment="Stoppet")

    theirs = dict(answers["afproevning"])
    theirs["measures"] = [*theirs["measures"], {
        "key": "m-deres-maaling", "name": "Deres måling", "kind": "count", "better": "up",
        "goal": None, "baseline": None, "shared": None}]
    fill_case(other, staff=team.other_staff, facilitator=team.other_facilitator,
              changes={"afproevning": theirs})
    for key in MODULE_KEYS:
        module_service.add_comment(module_service.unit_module_for(other, key),
                                   f"Kommentar til {key}", actor=team.other_facilitator)
    progress.set_score(other, 7, "Langt fremme", actor=team.other_facilitator)

    measure = {"name": "Fælles fremmøde", "kind": "count", "better": "up", "goal": None}
    own_shared = testlog.add_shared_measure(unit.programme, measure, actor=team.admin)
    other_shared = testlog.add_shared_measure(other.programme, measure, actor=team.admin)
    draft = catalogue.create_edition(team.admin, "Udkast", None, CatalogueGrouping.THEME)
    catalogue.set_edition_cases(draft, [done["Samtykket"].id], team.admin)
    published = make_edition([snapshot(other)], units=[other])
    own_mail = mail.send_invitation(invitee, actor=team.admin)
    other_mail = mail.send_invitation(team.other_staff, actor=team.admin)
    db.session.commit()

    log = testlog.test_log(unit)
    own_key = log.measures[0]["key"]
    on = log.points[own_key][0]["date"]
    membership = db.session.scalar(select(Membership).where(Membership.user_id == victim.id))
    theirs_membership = db.session.scalar(
        select(Membership).where(Membership.user_id == team.other_staff.id))
    questions = {key: [q.key for q in get_spec(key).questions] for key in MODULE_KEYS}
    fills = {
        "unit_id": Fill([unit.id, closed.id, done["Samtykket"].id, done["Færdig"].id],
                        [other.id], ODD_IDS),
        "module_key": Fill(list(MODULE_KEYS)),
        "question_key": Fill(sorted({q for qs in questions.values() for q in qs})),
        "membership_id": Fill([membership.id], [theirs_membership.id], ODD_IDS),
        "user_id": Fill([victim.id, invitee.id, gone.id], [team.other_staff.id], ODD_IDS),
        "programme_id": Fill([unit.programme_id], [other.programme_id], ODD_IDS),
        "edition_id": Fill([draft.id, published.id], [], ODD_IDS),
        "mail_id": Fill([own_mail.id], [other_mail.id], ODD_IDS),
        "measure_id": Fill([own_shared.id], [other_shared.id], ODD_IDS),
        "number": Fill(["1"], [], ["0", "99999999999999999999", "2147483648", "-1", "1.0"]),
        "key": Fill([own_key, f"f-{own_shared.key}"],
                    ["m-deres-maaling", f"f-{other_shared.key}"]),
        "on": Fill([on], [], ["2026-02-30", "9999-99-99", "%00", "x" * 300]),
    }
    programme = db.session.get(Programme, unit.programme_id)
    notification = db.session.scalar(select(Notification.id))
    get_fills = {
        "catalogue_public.edition": {"number": Fill([published.number])},
        "catalogue_public.case": {"number": Fill([published.number]),
                                  "case_id": Fill([published.cases[0].id])},
        "catalogue_pdf.download": {"number": Fill([published.number])},
        "programme_public.show": {"slug": Fill([programme.slug])},
        "public.set_language": {"code": Fill(["da"])},
        "overview.export_matrix": {"fmt": Fill(["csv"])},
        "overview.export_totals": {"fmt": Fill(["csv"])},
        "notifications.open_one": {"notification_id": Fill([notification])},
    }
    tokens = {"auth.accept_invitation": invitation_token(invitee),
              "password.reset": password_reset.reset_token(victim)}
    field_ids = sorted({str(v) for f in fills.values() for v in f.own + f.other
                        if str(v).isdigit()}
                       | {"2147483648", "9223372036854775808", "-1", "99999999999999999999"})
    return World(SimpleNamespace(**vars(team), victim=victim, invitee=invitee, gone=gone,
                                 newcomer=newcomer, closed=closed),
                 fills, questions, tokens, field_ids, get_fills)


# --- the people --------------------------------------------------------------------------------

#: The session key of "the password was right, the second step is to come".
SECOND_STEP = "laks_second_step"


class Actor:
    """One role's browser: a test client kept signed in as its person (a fuzzed request may
    log them out, deactivate them or sign the browser in as someone else). ``halfway``: the
    password is given and the code (or the set-up of a second factor) is to come."""

    def __init__(self, app, role: str, user: User | None, *, halfway: bool = False):
        self.app, self.role, self.halfway = app, role, halfway
        self.user_id = user.id if user else None
        self.client = app.test_client()
        self._sessions = app.session_interface.get_signing_serializer(app)
        self._tokens = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
        self.ensure()

    def session(self) -> dict:
        cookie = self.client.get_cookie("session")
        return self._sessions.loads(cookie.value) if cookie else {}

    def csrf_token(self) -> str:
        raw = self.session().get("csrf_token")
        return self._tokens.dumps(raw) if raw else self.client.csrf_token()

    def ensure(self) -> None:
        current = self.session()
        if self.user_id is None:
            if "_user_id" in current or SECOND_STEP in current:
                self.client.delete_cookie("session")
            return
        active, token = db.session.execute(
            select(User.active, User.session_token).where(User.id == self.user_id)).one()
        db.session.rollback()
        if not active:
            db.session.execute(update(User).where(User.id == self.user_id).values(active=True))
            db.session.commit()
        if self.halfway:
            if "_user_id" in current or SECOND_STEP not in current:
                self.sign_in()
        elif current.get("_user_id") != f"{self.user_id}:{token}":
            self.sign_in()

    def sign_in(self) -> None:
        user = db.session.get(User, self.user_id)
        self.client.delete_cookie("session")
        response = self.client.post("/log-ind", data={"email": user.email,
                                                      "password": PASSWORD})
        if response.status_code == 302 and response.location.endswith("/log-ind/kode") \
                and not self.halfway:
            response = self.client.post("/log-ind/kode", data={"code": current_code(user)})
        assert response.status_code == 302, f"{self.role} could not sign in again"


def actors(app, world: World) -> dict[str, Actor]:
    team = world.team
    users = {"anonymous": None, "observer": team.observer, "facilitator": team.facilitator,
             "tovholder": team.tovholder, "admin": team.admin}
    people = {role: Actor(app, role, users[role]) for role in ROLES}
    people["signing-in"] = Actor(app, "signing-in", team.facilitator, halfway=True)
    people["setting-up"] = Actor(app, "setting-up", team.newcomer, halfway=True)
    return people


def public_rules(app, rules) -> list:
    """The rules anyone may use (log in, the code, a forgotten password …): those the
    people half-way through signing in can reach."""
    return [rule for rule in rules if getattr(
        app.view_functions[rule.endpoint], ACCESS_ATTR, None) == "public.view"]


# --- the forms ---------------------------------------------------------------------------------

_FORMS: dict[str, FormFields] = {}
#: Most URLs of one rule the crawl visits (a question of every module would be hundreds).
MAX_FILLINGS = 6


def get_rules(app):
    return sorted((r for r in app.url_map.iter_rules()
                   if "GET" in r.methods and r.endpoint != "static"), key=lambda r: r.rule)


def fillings(world: World, rule, how: str) -> list[str]:
    """The paths of ``rule`` with every own object (how="own"), or another unit's."""
    fills = world.fills_for(rule)
    # The unit first: its modules in every state come before other units' first module.
    order = {"unit_id": 0, "module_key": 1, "question_key": 3}
    names = sorted(rule.arguments - set(rule.defaults or {}), key=lambda n: (order.get(n, 2), n))
    chosen: list[dict] = [{}]
    for name in names:
        if how == "other":
            values = fills[name].other or fills[name].own[:1]
            chosen = [{**c, name: segment(v)} for c in chosen for v in values[:1]]
        else:
            chosen = [{**c, name: segment(v)} for c in chosen
                      for v in world.depends(name, c) or fills[name].own]
    return [path_for(rule, c) for c in chosen[:MAX_FILLINGS]]


def crawl(app, world: World, actor: Actor, errors: ErrorLog, *, how=("own",),
          rules=None) -> list[tuple]:
    """GET every page of the URL map, filled with the own unit's objects (and another's),
    as ``actor``; each answer is checked. Returns (path, html) of the pages."""
    pages = []
    for rule in rules or get_rules(app):
        paths = {path for h in how for path in fillings(world, rule, h)}
        for path in sorted(paths):
            actor.ensure()
            errors.records.clear()
            response = actor.client.get(path)
            response.get_data()  # a streamed download runs to its end, in its context
            response.close()
            check_response(response, errors.records, f"GET {path} as {actor.role}")
            if response.mimetype == "text/html":
                pages.append((path, response.get_data(as_text=True)))
    return pages


def discover_forms(app, world: World, people: dict[str, Actor],
                   errors: ErrorLog) -> dict[str, FormFields]:
    """The fields of every POST form on every page, as each role sees it (read once)."""
    if _FORMS:
        return _FORMS
    pages = []
    for role in ("facilitator", "tovholder", "admin", "observer"):
        pages += crawl(app, world, people[role], errors)
    # A visitor's pages (log in, a forgotten password, links from mails) are the public
    # ones, which these two see as a visitor does – and the code and set-up pages besides.
    for role in ("signing-in", "setting-up"):
        pages += crawl(app, world, people[role], errors,
                       rules=public_rules(app, get_rules(app)))
    # Setting up a second factor from the account page: its code form comes after "start".
    tovholder = people["tovholder"]
    tovholder.client.post("/konto/totrin/start", data={})
    pages += [("/konto/totrin", tovholder.client.get("/konto/totrin").get_data(as_text=True))]
    for path, html in pages:
        record_forms(app, _FORMS, path, html)
    return _FORMS


# --- the fuzzer --------------------------------------------------------------------------------


@pytest.fixture
def error_log(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is a 500 page, as in production
    handler = ErrorLog()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


@pytest.fixture
def quick_sqlite(app):
    """On SQLite, commits that do not wait for the disk (as the PostgreSQL of the tests runs
    with fsync off): laks commits on every request, and the fuzzer sends a great many."""
    if db.engine.dialect.name == "sqlite":
        event.listen(db.engine, "connect",
                     lambda connection, _record: connection.execute("PRAGMA synchronous = OFF"))
        db.engine.dispose()


@pytest.fixture
def world(quick_sqlite, team, make_user, make_unit):
    return build_world(team, make_user, make_unit)


def fuzz_rule(world: World, actor: Actor, rule, target: FormFields | None, errors: ErrorLog,
              sent_cpr: set[str]) -> int:
    """Post hostile variations of ``rule``'s form as ``actor``; returns how many were sent.
    Another unit's data is compared before and after (the network admin may change it: a
    request of theirs aimed at it starts a new comparison)."""
    fields = target.values if target else {}
    files = target.files if target else set()
    names = sorted(fields)
    values = hostile(world.field_ids)
    urls = url_strategy(rule, world.fills_for(rule), world.depends)
    other_id = world.team.other_unit.id
    state = {"baseline": unit_snapshot(other_id), "sent": [], "count": 0}
    methods = sorted(rule.methods & MUTATING)

    def unchanged():
        assert unit_snapshot(other_id) == state["baseline"], \
            "another unit's data changed by one of:\n" + "\n".join(state["sent"])

    @settings(FUZZ)
    @seed(zlib.crc32(f"{actor.role} {label(rule)}".encode()))
    @given(st.data())
    def example(data):
        actor.ensure()
        how, path = data.draw(urls, label="url")
        pairs = []
        for name in names:
            choice = data.draw(st.sampled_from(["page", "page", "hostile", "many", "drop"]))
            if choice == "page":
                pairs.append((name, data.draw(st.sampled_from(sorted(fields[name]) or [""]))))
            elif choice == "hostile":
                pairs.append((name, data.draw(values)))
            elif choice == "many":
                pairs += [(name, v) for v in data.draw(st.lists(values, min_size=2,
                                                                max_size=3))]
        for name in data.draw(st.lists(st.sampled_from(JUNK_FIELDS), max_size=2, unique=True)):
            pairs.append((name, data.draw(values)))
        encoding = data.draw(st.sampled_from(
            ["form"] * 6 + ["raw", "multipart", "multipart", "json", "json-wrong"]))
        query = data.draw(st.sampled_from(QUERIES))
        method = data.draw(st.sampled_from(methods))
        for value in [v for _name, v in pairs] + unquote(path + query).split("/"):
            if isinstance(value, str) and looks_like_cpr(value):
                sent_cpr.update(re.findall(r"[0-9]{10}", re.sub(r"[^0-9&]", "", value)))
        what = f"{actor.role}: " + describe(method, path + query, pairs, encoding)
        aimed_at_other = actor.role == "admin" and how == "other"
        if aimed_at_other:
            unchanged()
        errors.records.clear()
        response = actor.client.open(path + query, method=method, **request_kwargs(
            pairs, encoding, actor.csrf_token(), files))
        response.get_data()
        response.close()
        state["sent"].append(what)
        state["count"] += 1
        STATUSES[actor.role, response.status_code] += 1
        check_response(response, errors.records, what)
        if aimed_at_other:
            state["baseline"], state["sent"] = unit_snapshot(other_id), []

    example()
    unchanged()
    return state["count"]


def test_fuzz_targets_are_every_rule_that_changes_something(app):
    every = {label(rule) for rule in app.url_map.iter_rules()
             if set(rule.methods) - {"GET", "HEAD", "OPTIONS"}}
    assert {label(rule) for rule in mutating_rules(app)} == every
    assert len(every) > 50  # the app's own map, not an empty one
    assert set(NO_FORM_IN_WORLD) <= every


def test_fuzz_readme_says_what_is_fuzzed(app):
    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md")
                      .read_text(encoding="utf-8").split())
    said = re.search(r"so a new one is fuzzed as soon as it exists; (\d+) today", readme)
    assert said, "README no longer says how many endpoints are fuzzed"
    assert int(said.group(1)) == len(mutating_rules(app)), "update the number in README"
    assert "Three examples for each endpoint and role" in readme
    assert FUZZ.max_examples == 3 or "LAKS_FUZZ_EXAMPLES" in os.environ


def test_fuzz_every_endpoint_as_every_role(app, world, error_log):
    started, cpu = time.monotonic(), time.process_time()
    people = actors(app, world)
    forms = discover_forms(app, world, people, error_log)
    rules = mutating_rules(app)
    unfilled = sorted(f"{label(rule)}: {name}" for rule in rules
                      for name in rule.arguments - set(rule.defaults or {})
                      if name not in world.fills_for(rule))
    assert not unfilled, "say in build_world what these URL arguments name"
    formless = [label(rule) for rule in rules
                if label(rule) not in forms and label(rule) not in NO_FORM_IN_WORLD]
    assert not formless, "give the world what shows these forms, or say why in NO_FORM_IN_WORLD"
    discovered = time.monotonic()
    sent_cpr: set[str] = set()
    sent: dict[tuple[str, str], int] = {}
    watch = WriteWatch(db.engine)
    plan = [(role, rules) for role in ROLES] + [
        (role, public_rules(app, rules)) for role in ("signing-in", "setting-up")]
    for role, targets in plan:
        for rule in targets:
            before = set(sent_cpr)
            sent[role, label(rule)] = fuzz_rule(world, people[role], rule,
                                                forms.get(label(rule)), error_log, sent_cpr)
            if watch.may_hold(sent_cpr - before):
                assert not cpr_stored(sent_cpr - before), \
                    f"a CPR number is stored after {role}: {label(rule)}"
    watch.close()
    fuzzed = time.monotonic()
    assert all(sent.get((role, label(rule))) for role in ROLES for rule in rules)
    assert sum(sent.values()) >= 2 * len(ROLES) * len(rules)  # examples, not one each
    # What was stored is shown safely: on every page, to the admin (who sees every unit, the
    # other one too) and the tovholder (who sees their own units' pages as staff do), and as
    # markdown wherever laks renders it.
    crawl(app, world, people["admin"], error_log, how=("own", "other"))
    crawl(app, world, people["tovholder"], error_log)
    for table, text in stored_strings():
        if MARK in text:
            assert not scripts_in(str(render_markdown(text))), (table, text[:200])
    assert not cpr_stored(sent_cpr)
    print(f"{sum(sent.values())} requests to {len(rules)} endpoints as {len(plan)} roles; "
          f"{len(sent_cpr)} CPR numbers; forms read in {discovered - started:.1f} s, fuzzed "
          f"in {fuzzed - discovered:.1f} s, pages checked in {time.monotonic() - fuzzed:.1f} s; "
          f"{time.process_time() - cpu:.1f} s of CPU")
    print(sorted(STATUSES.items()))

