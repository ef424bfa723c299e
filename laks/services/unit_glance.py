"""A unit at a glance: what its unit page shows a facilitator, the network and its own staff
besides the modules' steps – the progress score and its trajectory, the latest run chart
of the test log, and the open comments. Read-only, in a fixed number of queries however
long the unit's history is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from laks.enums import MODULE_KEYS, ModuleState
from laks.extensions import db
from laks.models import ModuleComment, ProgressScore, Unit, UnitModule
from laks.services import progress, testlog
from laks.services.progress_chart import trajectory_svg
from laks.services.testlog_charts import Chart, measure_chart

#: How many open comments the unit page shows (the newest); each module's page has them all.
OPEN_COMMENTS_SHOWN = 10


@dataclass
class OpenComments:
    """The newest open comments of a unit and how many each module has."""

    newest: list[ModuleComment]
    per_module: dict[str, int] = field(default_factory=dict)  # module key -> open comments

    @property
    def total(self) -> int:
        return sum(self.per_module.values())


@dataclass
class Glance:
    scores: list[ProgressScore]  # oldest first
    trajectory: str  # the SVG ("" without scores)
    chart: Chart | None  # the measure with the latest measurement, if any
    comments: OpenComments

    @property
    def latest(self) -> ProgressScore | None:
        return self.scores[-1] if self.scores else None


def open_comments(unit: Unit, limit: int = OPEN_COMMENTS_SHOWN) -> OpenComments:
    """The comments that are still open: those on the unit's modules that are not approved
    yet. An approved module's discussion is done with; a draft, a submitted module or one
    whose changes are requested is still being worked on, and what was said about it is what
    a facilitator needs to follow up. The newest ``limit`` of them, newest first, each with
    its module and author, and the number each module has (two queries)."""
    not_approved = (UnitModule.unit_id == unit.id) & (UnitModule.state != ModuleState.APPROVED)
    newest = list(db.session.scalars(
        select(ModuleComment).join(UnitModule).where(not_approved)
        .options(joinedload(ModuleComment.author), joinedload(ModuleComment.unit_module))
        .order_by(ModuleComment.created_at.desc(), ModuleComment.id.desc()).limit(limit)))
    counts = dict(db.session.execute(
        select(UnitModule.module_key, func.count(ModuleComment.id))
        .join(ModuleComment, ModuleComment.unit_module_id == UnitModule.id)
        .where(not_approved).group_by(UnitModule.module_key)).all())
    return OpenComments(newest, {key: counts[key] for key in MODULE_KEYS if key in counts})


def latest_chart(unit: Unit, *, public: bool) -> Chart | None:
    """The run chart of the unit's measure (its own or a shared one of its programme) with
    the latest measurement – the chart its test-log page shows – or None when no measure
    has one. ``public`` applies the small-number rule, as everything shown outside the unit
    does (laks.services.testlog_charts)."""
    log = testlog.test_log(unit)
    measures = [*testlog.shared_measures(unit), *log.measures]
    latest, chosen = "", None
    for measure in measures:
        dates = [p.get("date") or "" for p in log.points.get(measure["key"], [])
                 if isinstance(p, dict)]
        if dates and max(dates) > latest:
            latest, chosen = max(dates), measure
    if chosen is None:
        return None
    return measure_chart(chosen, log.points[chosen["key"]], log.cycles, public=public)


def glance(unit: Unit, *, public: bool) -> Glance:
    """Everything of the unit at a glance (see the module's docstring); ``public`` for a
    reader outside the unit (an observer), who sees the chart with the small-number rule."""
    scores = progress.history(unit)
    return Glance(scores, trajectory_svg(scores), latest_chart(unit, public=public),
                  open_comments(unit))
