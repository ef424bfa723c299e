"""Demo content: units' modules filled in from ``seed_data/demo_content``, written through the
same services and workflow as real work, so the demo has revisions, a timeline and audit
events like any unit. Idempotent: a module that has been started is left alone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from flask_babel import force_locale
from sqlalchemy import select

from laks import testlog as checks
from laks.enums import MODULE_KEYS, ModuleState, ProgrammeStatus, Role
from laks.extensions import db
from laks.models import Membership, Municipality, Programme, ProgressScore, Unit, User
from laks.services import modules as module_service
from laks.services import progress, testlog
from laks.services.definitions import get_spec


class DemoContentError(ValueError):
    """A demo file names a unit, module or question that does not exist."""


def plain(value):
    """YAML reads dates as dates; answers store them as ISO strings."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def _unit(data: dict, where: str) -> Unit:
    unit = db.session.scalar(
        select(Unit).join(Programme).join(Municipality).where(
            Programme.slug == data["programme"], Municipality.code == str(data["municipality"]),
            Unit.name == data["unit"]))
    if unit is None:
        raise DemoContentError(f"{where}: no unit {data['unit']!r} in {data['programme']!r}")
    return unit


def _member(unit: Unit, role: Role, *, tovholder: bool = False) -> User:
    query = (select(User).join(Membership).where(Membership.unit_id == unit.id,
                                                 User.role == role).order_by(User.id))
    if tovholder:
        query = query.where(Membership.is_tovholder)
    user = db.session.scalars(query).first()
    if user is None:
        raise DemoContentError(f"{unit.title} has no {role.value}; load demo accounts first")
    return user


def load_demo_content(folder: Path) -> list[str]:
    """Fill in the modules described in ``folder``/*.yaml; returns what was filled."""
    filled = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        unit = _unit(data, path.name)
        staff = _member(unit, Role.STAFF, tovholder=True)
        facilitator = _member(unit, Role.FACILITATOR)
        for key in MODULE_KEYS:
            content = (data.get("modules") or {}).get(key)
            if content is None:
                continue
            unit_module = module_service.unit_module_for(unit, key)
            if unit_module.state != ModuleState.NOT_STARTED:
                continue
            spec = get_spec(key, unit.programme_id)
            answers = plain(content.get("answers") or {})
            extra = set(testlog.ANSWER_KEYS) if key == testlog.MODULE_KEY else set()
            unknown = set(answers) - set(spec.questions_by_key) - extra
            if unknown:
                raise DemoContentError(f"{path.name}: {key} has no questions {sorted(unknown)}")
            if key == testlog.MODULE_KEY:
                _check_test_log(answers, unit.programme, path.name)
            module_service.save_answers(unit_module, answers, actor=staff, base_version=0)
            target = ModuleState(content.get("state", "draft"))
            if target != ModuleState.DRAFT:
                module_service.submit(unit_module, spec, actor=staff)
            if target in (ModuleState.APPROVED, ModuleState.CHANGES_REQUESTED):
                action = "approve" if target == ModuleState.APPROVED else "request_changes"
                module_service.review(unit_module, action, actor=facilitator,
                                      comment=content["review"])
            for comment in content.get("comments") or ():
                author = facilitator if comment.get("by") == "facilitator" else staff
                module_service.add_comment(unit_module, comment["text"], actor=author)
            filled.append(f"{unit.title}: {key} ({target.value})")
        filled += _demo_progress(unit, facilitator, data.get("progress") or [], path.name)
    # The seed runs outside any request (from the command line): the cases' run charts and
    # their readings are frozen in the edition in Danish, the catalogue's language.
    with force_locale("da"):
        filled += publish_demo_catalogue()
    filled += demo_mails()
    return filled


def _demo_progress(unit: Unit, facilitator: User, scores: list[dict],
                   where: str) -> list[str]:
    """The unit's progress scores over time (``progress:`` in its demo file: date, score
    0.5 … 5.0, note), set by its facilitator at 10 o'clock on each day. Once: a unit that
    has a score already is left alone."""
    if not scores or db.session.scalar(
            select(ProgressScore.id).where(ProgressScore.unit_id == unit.id).limit(1)):
        return []
    for entry in scores:
        half_steps = entry["score"] * 2
        if half_steps != int(half_steps):
            raise DemoContentError(f"{where}: the score {entry['score']} is not a half step")
        moment = datetime.combine(entry["date"], time(10), ZoneInfo("Europe/Copenhagen"))
        try:
            progress.set_score(unit, int(half_steps), entry.get("note", ""),
                               actor=facilitator, at=moment)
        except progress.ScoreRefused as refused:
            raise DemoContentError(f"{where}: progress {entry['date']}: {refused}") from None
    return [f"{unit.title}: {len(scores)} progress scores"]


DEMO_INVITED = "ny.medarbejder@demo.laks.dk"


def demo_mails() -> list[str]:
    """What the demo's outbox shows besides the notices of submissions and reviews that
    filling the modules queued: an invitation, a password reset and a reminder."""
    from laks.services import mail, notifications, password_reset

    programme = db.session.scalar(select(Programme).where(
        Programme.status == ProgrammeStatus.RUNNING).order_by(Programme.id))
    if programme is None or not programme.units:
        return []
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))
    unit = programme.units[0]
    invited = db.session.scalar(select(User).where(User.email == DEMO_INVITED))
    done = []
    if invited is None:
        invited = User(email=DEMO_INVITED, name="Ny Medarbejder", role=Role.STAFF)
        invited.memberships.append(Membership(unit=unit))
        db.session.add(invited)
        db.session.flush()
        mail.send_invitation(invited, actor=admin)
        done.append(f"invitation to {DEMO_INVITED}")
        staff = notifications.staff_of(unit)
        if staff:
            password_reset.request_password_reset(staff[0].email)
            done.append(f"password reset for {staff[0].email}")
        # The reminders of the programme's first due date with a module to remind of.
        for due in sorted(programme.module_dues, key=lambda d: d.due_on):
            told = notifications.send_reminders(due.due_on - timedelta(days=7))
            if told:
                done.append(f"{told} reminders of {due.module_key} due {due.due_on}")
                break
    return done


def _check_test_log(answers: dict, programme, where: str) -> None:
    """The demo's measures, points and reach pass the checks a unit's input does."""
    period = testlog.programme_period(programme)
    for measure in answers.get("measures") or []:
        raw = {k: "" if measure.get(k) is None else str(measure[k])
               for k in ("name", "kind", "better", "goal", "baseline")}
        _checked, problems = checks.check_measure(raw)
        points = (answers.get("points") or {}).get(measure["key"]) or []
        for point in points:
            raw = {k: str(point[k]) for k in ("date", "value", "numerator", "denominator")
                   if k in point}
            problems += checks.check_point(measure, raw, period)[1]
        if problems:
            raise DemoContentError(f"{where}: measure {measure['key']}: "
                                   f"{'; '.join(str(p.message) for p in problems)}")
    for row in answers.get("reach") or []:
        problems = checks.check_reach({k: str(v) for k, v in row.items()}, period)[1]
        if problems:
            raise DemoContentError(f"{where}: reach {row.get('date')}: "
                                   f"{'; '.join(str(p.message) for p in problems)}")


DEMO_EDITION_TITLE = "Inspirationskatalog – LAKS"
DEMO_FOREWORD = """\
LAKS – *Lige Adgang til Kommunale Sundhedstilbud* – gik ud på at finde helt konkrete måder at \
reducere ulighed i sundhed på og at teste dem af med borgerne. Det handlede i første omgang \
ikke om at udvikle nye tilbud eller helt nye rutiner, men om at »skrue lidt« på praksis og \
differentiere indsatsen over for borgerne for at opnå bedre rekruttering eller bedre \
gennemførsel af sundhedstilbud.

Seks kommuner – Aarhus, Holbæk, Gladsaxe, Halsnæs, Ballerup og København – deltog med 19 \
kommunale enheder. Dette katalog samler nogle af deres erfaringer, fortalt af medarbejderne \
selv, så andre kan lade sig inspirere og gøre det samme.

*Sund By Netværket*
"""
DEMO_INTRODUCTION = """\
## Sådan blev casene til

Hver enhed valgte selv én konkret udfordring: borgere, som de ikke nåede, eller som de mistede \
fra et sundhedstilbud. Gennem fem moduler med aktionslæring – udfordring, præcisering, \
handleplan, afprøvning og refleksion – blev udfordringen til en lille ændring af praksis, som \
blev afprøvet i små cyklusser med målgruppen.

## Sådan læser du kataloget

Casene er ordnet efter tema. Hver case fortæller om udfordringen, målgruppen og arenaen, hvad \
enheden ændrede, hvordan det blev afprøvet, resultaterne for målgruppen, hvad de lærte, gode råd \
til andre, ressourcer og økonomi, om det kan overføres, og hvordan det er forankret.

Alle tal er samlede tal for målgruppen – aldrig oplysninger om en enkelt borger. Tal fra 1 til 4 \
vises som »<5«.

Det umiddelbare udbytte, som enhederne selv peger på, er et fælles sprog om ulighed i sundhed, \
kompetenceudvikling i at arbejde differentieret med sundhed og direkte adgang til konkrete \
redskaber, som andre kan bruge.
"""


def publish_demo_catalogue() -> list[str]:
    """The demo's first edition of the catalogue: every LAKS unit whose module 5 is approved
    consents (by its tovholder), and the network admin publishes "Inspirationskatalog –
    LAKS" with those cases, grouped by theme. Done once: when the edition exists, nothing
    is touched again (not even a consent withdrawn since)."""
    from laks.enums import CatalogueGrouping
    from laks.models import Edition
    from laks.services import catalogue

    if db.session.scalar(select(Edition.id).where(Edition.title == DEMO_EDITION_TITLE)):
        return []
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))
    programme = db.session.scalar(select(Programme).where(Programme.slug == "laks"))
    if admin is None or programme is None:
        return []
    statuses = [s for s in catalogue.case_statuses(programme)
                if not any(p.key == "module" for p in s.problems)]
    if not statuses:
        return []
    for status in statuses:
        if status.consent is None:
            try:
                catalogue.give_consent(status.unit, _member(status.unit, Role.STAFF,
                                                            tovholder=True))
            except catalogue.IncompleteCase as exc:
                raise DemoContentError(
                    f"{status.unit.title}: the case lacks {[p.key for p in exc.problems]}"
                ) from None
    edition = catalogue.create_edition(admin, DEMO_EDITION_TITLE, programme,
                                       CatalogueGrouping.THEME)
    catalogue.update_edition(edition, admin, foreword=DEMO_FOREWORD,
                             introduction=DEMO_INTRODUCTION)
    # In the order the edition shows them: by theme, then by municipality.
    statuses.sort(key=lambda s: (catalogue.group_label(s.content, CatalogueGrouping.THEME),
                                 s.content["municipality"]))
    catalogue.set_edition_cases(edition, [s.unit.id for s in statuses], admin)
    catalogue.publish_edition(edition, admin)
    return [f"catalogue edition {edition.number} ({len(statuses)} cases)"]
