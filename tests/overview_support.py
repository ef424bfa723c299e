"""A network to look at through the overview, written straight into the tables (fast enough
for 200 units), and a reader for the XLSX files the overview exports."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from xml.etree import ElementTree

from laks.enums import MODULE_KEYS, ProgrammeStatus
from laks.enums import ModuleState as S
from laks.extensions import db
from laks.models import (
    Membership,
    ModuleDue,
    Municipality,
    Programme,
    StateChange,
    Unit,
    UnitModule,
    User,
)

#: One reach set of a unit (module 4): 3 of 12 invited from the target group – a count
#: outside the unit shows as "<5".
REACH = {"date": "2026-06-01", "invited_target": 3, "invited_all": 12, "recruited_target": 3,
         "recruited_all": 10, "started_target": 2, "started_all": 9, "completed_target": 2,
         "completed_all": 7}


@dataclass
class Network:
    running: Programme
    closed: Programme
    places: list[Municipality] = field(default_factory=list)
    facilitators: list[User] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)


def _programme(name: str, status: ProgrammeStatus, starts: date) -> Programme:
    programme = Programme(slug=name.lower().replace(" ", "-"), name=name, status=status,
                          starts_on=starts, ends_on=starts + timedelta(days=500))
    programme.module_dues = [
        ModuleDue(module_key=key, position=i, due_on=starts + timedelta(days=40 * i))
        for i, key in enumerate(MODULE_KEYS, start=1)]
    db.session.add(programme)
    return programme


def _module(unit: Unit, key: str, state: S, at: datetime, answers: dict | None = None):
    """A module in ``state`` with the steps that brought it there, all at ``at``."""
    um = UnitModule(unit=unit, module_key=key, state=state, answers=answers or {"x": "y"},
                    updated_at=at, submitted_at=at if state == S.SUBMITTED else None)
    steps = {S.DRAFT: [("start", S.NOT_STARTED, S.DRAFT)],
             S.SUBMITTED: [("start", S.NOT_STARTED, S.DRAFT),
                           ("submit", S.DRAFT, S.SUBMITTED)],
             S.CHANGES_REQUESTED: [("start", S.NOT_STARTED, S.DRAFT),
                                   ("submit", S.DRAFT, S.SUBMITTED),
                                   ("request_changes", S.SUBMITTED, S.CHANGES_REQUESTED)],
             S.APPROVED: [("start", S.NOT_STARTED, S.DRAFT), ("submit", S.DRAFT, S.SUBMITTED),
                          ("approve", S.SUBMITTED, S.APPROVED)]}[state]
    um.state_changes = [StateChange(action=action, from_state=source, to_state=target, at=at)
                        for action, source, target in steps]
    db.session.add(um)
    return um


def build_network(n: int, facilitators: tuple[User, User], *,
                  names: list[str] | None = None) -> Network:
    """``n`` units in three municipalities and two programmes (one running, every due date
    passed; one closed), in a repeating pattern of five: a module submitted (each waiting a
    day longer than the one before), changes requested, quiet for two months, a test log
    with its reach, nothing yet. Every tenth unit is closed. The first facilitator follows
    the even-numbered units, the second the odd ones."""
    now = datetime.now(UTC)
    running = _programme("Lighed i praksis", ProgrammeStatus.RUNNING,
                         now.date() - timedelta(days=320))
    closed = _programme("LAKS", ProgrammeStatus.CLOSED, date(2015, 9, 1))
    places = [Municipality(code=f"80{i:02d}", name=name)
              for i, name in enumerate(("Aarhus", "Ærø", "Brøndby"), start=1)]
    network = Network(running, closed, places, [db.session.merge(f) for f in facilitators])
    return grow(network, n, names=names)


def grow(network: Network, n: int, *, names: list[str] | None = None) -> Network:
    """Add units to ``network`` until it has ``n``, in the same pattern."""
    now = datetime.now(UTC)
    running, closed, places = network.running, network.closed, network.places
    for i in range(len(network.units), n):
        unit = Unit(programme=closed if i % 4 == 3 else running, municipality=places[i % 3],
                    name=(names[i] if names and i < len(names) else f"Enhed {i:04d}"),
                    places=["Sted"],
                    closed_at=now - timedelta(days=3) if i % 10 == 9 else None)
        db.session.add(unit)
        kind = i % 5
        if kind == 0:
            _module(unit, "udfordring", S.APPROVED, now - timedelta(days=60))
            _module(unit, "praecisering", S.SUBMITTED, now - timedelta(days=i + 1))
        elif kind == 1:
            _module(unit, "udfordring", S.APPROVED, now - timedelta(days=20))
            _module(unit, "praecisering", S.CHANGES_REQUESTED, now - timedelta(days=4))
        elif kind == 2:
            _module(unit, "udfordring", S.DRAFT, now - timedelta(days=62))
        elif kind == 3:
            _module(unit, "afproevning", S.DRAFT, now - timedelta(days=2),
                    answers={"reach": [REACH]})
        db.session.add(Membership(unit=unit, user=network.facilitators[i % 2]))
        network.units.append(unit)
    db.session.commit()
    return network


def _xml(book: zipfile.ZipFile, name: str) -> ElementTree.Element:
    # The file is the one laks has just written in the test, not someone else's.
    return ElementTree.fromstring(book.read(name))  # noqa: S314


def read_xlsx(data: bytes) -> list[list[object]]:
    """The first sheet of an XLSX file as rows of values (text, numbers, or None for an
    empty cell), read with the standard library."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        shared = []
        if "xl/sharedStrings.xml" in book.namelist():
            for item in _xml(book, "xl/sharedStrings.xml").findall("m:si", ns):
                shared.append("".join(t.text or "" for t in item.iter(f"{{{ns['m']}}}t")))
        sheet = _xml(book, "xl/worksheets/sheet1.xml")
    rows = []
    for row in sheet.find("m:sheetData", ns).findall("m:row", ns):
        values: dict[int, object] = {}
        for cell in row.findall("m:c", ns):
            ref = cell.get("r")
            column = 0
            for char in ref.rstrip("0123456789"):
                column = column * 26 + ord(char) - 64
            value = cell.find("m:v", ns)
            if value is None:
                continue
            if cell.get("t") == "s":
                values[column - 1] = shared[int(value.text)]
            else:
                number = float(value.text)
                values[column - 1] = int(number) if number.is_integer() else number
        rows.append([values.get(i) for i in range(max(values, default=-1) + 1)])
    return rows


def quote_prefixed(data: bytes) -> list[str]:
    """The text of every cell of the first sheet that Excel is told to read as text however
    it looks (the quote prefix of its style)."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        styles = _xml(book, "xl/styles.xml")
        shared = [("".join(t.text or "" for t in item.iter(f"{{{ns['m']}}}t")))
                  for item in _xml(book, "xl/sharedStrings.xml").findall("m:si", ns)]
        sheet = _xml(book, "xl/worksheets/sheet1.xml")
    xfs = styles.find("m:cellXfs", ns).findall("m:xf", ns)
    quoted = {i for i, xf in enumerate(xfs) if xf.get("quotePrefix") == "1"}
    return [shared[int(cell.find("m:v", ns).text)]
            for cell in sheet.iter(f"{{{ns['m']}}}c")
            if cell.get("t") == "s" and int(cell.get("s", "0")) in quoted]
