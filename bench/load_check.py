"""After the load run: the database against what the simulated people were told.

- Every save acknowledged – a redirect back to the module after "save" or "submit", or an
  autosave answered ``{"status": "saved"}`` – is there exactly once, as a revision of its
  kind. One exception, by design (laks.services.modules.AUTOSAVE_WINDOW): a person's
  autosaves that follow each other with nobody else writing in between update one revision;
  an autosave no longer in a revision must then have been replaced by the same person's next
  autosave, which was based on the very version this one was acknowledged with (the person's
  own draft, seen), in the same revision.
- Every save answered with the page of two versions to merge, or an autosave answered
  ``{"status": "conflict"}``, is there exactly once, as a revision of kind "conflict".
- A save refused (the module was submitted meanwhile) or answered 5xx is not there at all.
- No silent overwrite: each saved text names the version its form was loaded from, and for
  every revision of kind save or autosave that version is the module's version just before
  the save – the audit event of the save names the version it made, which is one more.

Runs in an app context on the run's database.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from bench.load_browser import Record, Write
from bench.load_driver import MARKER, Cast
from laks.extensions import db
from laks.models import AuditEvent, ModuleRevision, UnitModule


@dataclass
class Verdict:
    acknowledged: dict[str, int] = field(default_factory=dict)  # save, submit, autosave
    replaced_in_place: int = 0  # acknowledged autosaves updated by the person's next one
    conflicts_answered: int = 0
    conflict_revisions: int = 0
    locked: int = 0  # saves refused because the module had been submitted meanwhile
    five_xx: int = 0
    no_answer: int = 0
    lost: list[str] = field(default_factory=list)
    twice: list[str] = field(default_factory=list)
    overwrites: list[str] = field(default_factory=list)
    unacknowledged: list[str] = field(default_factory=list)  # stored, but refused or 5xx
    other: list[str] = field(default_factory=list)  # answers the people should never get

    @property
    def problems(self) -> list[str]:
        found = []
        if self.five_xx:
            found.append(f"{self.five_xx} answers 5xx")
        if self.no_answer:
            found.append(f"{self.no_answer} requests without an answer")
        for name in ("lost", "twice", "overwrites", "unacknowledged", "other"):
            found += [f"{name}: {item}" for item in getattr(self, name)]
        return found

    @property
    def ok(self) -> bool:
        return not self.problems


def check(cast: Cast, record: Record) -> Verdict:
    """Compare the database with ``record``; see the module's docstring for the rules."""
    verdict = Verdict()
    verdict.five_xx = sum(1 for hit in record.hits if hit.status >= 500)
    verdict.no_answer = sum(1 for hit in record.hits if hit.status == 0)
    verdict.other += [f"a person stopped: {line}" for line in record.stopped]

    modules = {(um.unit_id, um.module_key): um.id for um in db.session.scalars(
        select(UnitModule).where(UnitModule.unit_id.in_(cast.unit_ids)))}
    key_of = {um_id: key for (_unit, key), um_id in modules.items()}
    stored: dict[str, list[tuple[int, int, str]]] = defaultdict(list)  # text → revisions
    revisions = []
    for revision in db.session.scalars(select(ModuleRevision).where(
            ModuleRevision.unit_module_id.in_(list(key_of)))):
        text = (revision.answers or {}).get(cast.marker_keys[key_of[revision.unit_module_id]])
        if isinstance(text, str) and MARKER.fullmatch(text):
            stored[text].append((revision.unit_module_id, revision.number, revision.kind))
            revisions.append((revision, text))
    # The versions each save made, from the audit log: (module, action, revision) → versions.
    made: dict[tuple[int, str, int], list[int]] = defaultdict(list)
    autosave_revision: dict[tuple[int, int], list[int]] = defaultdict(list)  # (um, version)
    for event in db.session.scalars(select(AuditEvent).where(
            AuditEvent.action.in_(("module.save", "module.autosave")),
            AuditEvent.object_id.in_(list(key_of)))):
        details = event.details or {}
        made[(event.object_id, event.action, details.get("revision"))].append(
            details.get("version"))
        if event.action == "module.autosave":
            autosave_revision[(event.object_id, details.get("version"))].append(
                details.get("revision"))

    sent = {write.text: write for write in record.writes}
    for text in stored:
        if text not in sent:
            verdict.other.append(f"{text!r} is stored, but nobody sent it")
    next_autosave = {(w.person, w.unit_id, w.module_key, w.base): w for w in record.writes
                     if w.kind == "autosave" and w.outcome == "saved"}
    for write in record.writes:
        _check_write(write, stored.get(write.text, []), modules, autosave_revision,
                     next_autosave, verdict)
    verdict.conflict_revisions = sum(1 for places in stored.values()
                                     for _um, _n, kind in places if kind == "conflict")
    for revision, text in revisions:
        if revision.kind not in ("save", "autosave"):
            continue
        base = int(MARKER.fullmatch(text).group(3))
        versions = made.get((revision.unit_module_id, f"module.{revision.kind}",
                             revision.number), [])
        if revision.kind == "save" and len(versions) != 1:
            verdict.overwrites.append(f"{text!r}: {len(versions)} audit events for the save")
        elif not versions or base != max(versions) - 1:
            verdict.overwrites.append(
                f"{text!r} (revision {revision.number}) was based on version {base}, but the "
                f"module was at version {max(versions, default=0) - 1} just before it")
    return verdict


def _check_write(write: Write, places, modules, autosave_revision, next_autosave,
                 verdict: Verdict) -> None:
    text = write.text
    if len(places) > 1:
        verdict.twice.append(f"{text!r} is stored {len(places)} times")
        return
    kind = places[0][2] if places else None
    if write.outcome == "saved":
        verdict.acknowledged[write.kind] = verdict.acknowledged.get(write.kind, 0) + 1
        expected = "autosave" if write.kind == "autosave" else "save"
        if kind == expected:
            return
        if kind is not None:
            verdict.lost.append(f"{text!r} ({write.kind}, acknowledged) is a {kind} revision")
        elif write.kind != "autosave" or not _replaced_in_place(
                write, modules, autosave_revision, next_autosave):
            verdict.lost.append(f"{text!r} ({write.kind}, acknowledged) is not stored")
        else:
            verdict.replaced_in_place += 1
    elif write.outcome == "conflict":
        verdict.conflicts_answered += 1
        if kind != "conflict":
            verdict.lost.append(f"{text!r} (answered as a conflict) is "
                                f"{'a ' + kind + ' revision' if kind else 'not stored'}")
    elif write.outcome == "no answer":
        return  # nobody was told anything: stored once or not at all
    else:
        if write.outcome == "locked":
            verdict.locked += 1
        else:
            verdict.other.append(f"{text!r} ({write.kind}) was answered {write.status}")
        if kind is not None:
            verdict.unacknowledged.append(
                f"{text!r} ({write.kind}, answered {write.status}) is a {kind} revision")


def _replaced_in_place(write: Write, modules, autosave_revision, next_autosave) -> bool:
    """Whether an acknowledged autosave missing from every revision was replaced, in the
    same revision, by the same person's next autosave based on the version it made."""
    um_id = modules.get((write.unit_id, write.module_key))
    mine = autosave_revision.get((um_id, write.version), [])
    successor = next_autosave.get((write.person, write.unit_id, write.module_key,
                                   write.version))
    if len(mine) != 1 or successor is None:
        return False
    return autosave_revision.get((um_id, successor.version), []) == mine
