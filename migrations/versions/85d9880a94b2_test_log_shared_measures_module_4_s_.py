"""test log: shared measures; module 4's cycles as PDSA cycles

The stored definition of module 4 gets the PDSA columns (start and end, the change, its
activity, question, prediction, plan, data plan, what happened, the unexpected, study,
decision, next) laid out as cards. The old log's columns keep their keys (date, did, saw,
count), so every row already written is a cycle now, with nothing lost. Module 5's
contact gets role_only (the form refuses an e-mail address or a phone number).

Revision ID: 85d9880a94b2
Revises: f89acff02114
Create Date: 2026-11-26 02:16:15.989569

"""
import copy
import json
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '85d9880a94b2'
down_revision = 'f89acff02114'
branch_labels = None
depends_on = None


def _t(da, en):
    return {"da": da, "en": en}


PLAN, DO, STUDY, ACT = _t("Planlæg", "Plan"), _t("Udfør", "Do"), _t("Observer og lær", "Study"), _t("Handl", "Act")
PDSA_COLUMNS = [
    {"key": "date", "kind": "date", "group": PLAN, "label": _t("Startdato", "Start date")},
    {"key": "end", "kind": "date", "group": PLAN, "label": _t("Slutdato", "End date")},
    {"key": "change", "kind": "text", "group": PLAN, "max_length": 300,
     "label": _t("Ændringen, vi afprøver", "The change we test")},
    {"key": "activity", "kind": "text", "group": PLAN, "max_length": 200,
     "label": _t("Aktivitet i handleplanen", "Activity in the action plan")},
    {"key": "question", "kind": "text", "group": PLAN, "max_length": 300,
     "label": _t("Spørgsmål, cyklussen skal besvare", "Question the cycle answers")},
    {"key": "prediction", "kind": "text", "group": PLAN, "max_length": 300,
     "label": _t("Forventet udfald", "Prediction")},
    {"key": "plan", "kind": "text", "group": PLAN, "max_length": 500,
     "label": _t("Plan: hvem, hvad, hvor og hvornår", "Plan: who, what, where and when")},
    {"key": "data_plan", "kind": "text", "group": PLAN, "max_length": 300,
     "label": _t("Plan for dataindsamling", "Plan for collecting data")},
    {"key": "did", "kind": "text", "group": DO, "max_length": 500,
     "label": _t("Hvad skete der?", "What happened?")},
    {"key": "unexpected", "kind": "text", "group": DO, "max_length": 300,
     "label": _t("Uventede hændelser og problemer", "Unexpected events and problems")},
    {"key": "saw", "kind": "text", "group": STUDY, "max_length": 500,
     "label": _t("Observer og lær af udfaldet: stemte det med det forventede?",
                 "Study the outcome: did it match the prediction?")},
    {"key": "count", "kind": "number", "group": STUDY, "min": 0, "max": 100000,
     "label": _t("Antal borgere i cyklussen", "Number of citizens in the cycle")},
    {"key": "decision", "kind": "choice", "group": ACT, "label": _t("Beslutning", "Decision"),
     "options": [{"value": "adopt", "label": _t("Fasthold ændringen", "Adopt the change")},
                 {"value": "adapt", "label": _t("Justér og afprøv igen", "Adapt and test again")},
                 {"value": "abandon", "label": _t("Forkast ændringen", "Abandon the change")}]},
    {"key": "next", "kind": "text", "group": ACT, "max_length": 300,
     "label": _t("Hvad afprøver næste cyklus?", "What does the next cycle test?")},
]
PDSA_KEYS = {c["key"] for c in PDSA_COLUMNS}


def _questions(content):
    for section in content.get("sections") or []:
        for question in section.get("questions") or []:
            yield section, question


def _upgrade_definition(content: dict, module_key: str) -> bool:
    changed = False
    for section, question in _questions(content):
        if module_key == "afproevning" and question.get("key") == "cycles" \
                and question.get("kind") == "rows" and question.get("layout") != "cards":
            others = [c for c in question.get("columns") or [] if c.get("key") not in PDSA_KEYS]
            question["columns"] = copy.deepcopy(PDSA_COLUMNS) + others
            question["layout"] = "cards"
            question["item_label"] = _t("Cyklus", "Cycle")
            question["label"] = _t("PDSA-cyklusser", "PDSA cycles")
            question["max_rows"] = max(int(question.get("max_rows") or 30), 60)
            if (section.get("title") or {}).get("da") == "Logbog":
                section["title"] = _t("Testlog", "Test log")
            changed = True
        if module_key == "refleksion" and question.get("key") == "case_contact_role" \
                and not question.get("role_only"):
            question["role_only"] = True
            changed = True
    return changed


def _downgrade_definition(content: dict, module_key: str) -> bool:
    changed = False
    for _section, question in _questions(content):
        if question.pop("role_only", None) is not None:
            changed = True
        if question.pop("layout", None) is not None:
            question.pop("item_label", None)
            question["columns"] = [
                {k: v for k, v in c.items() if k not in ("group", "help", "options")}
                for c in question.get("columns") or [] if c.get("kind") != "choice"]
            changed = True
    return changed


def _rewrite_definitions(change) -> None:
    bind = op.get_bind()
    table = sa.table("module_definition", sa.column("id", sa.Integer),
                     sa.column("module_key", sa.String), sa.column("content", sa.JSON),
                     sa.column("revision", sa.Integer), sa.column("updated_at", sa.DateTime))
    rows = bind.execute(sa.select(table.c.id, table.c.module_key, table.c.content,
                                  table.c.revision)).all()
    for row in rows:
        content = row.content if isinstance(row.content, dict) else json.loads(row.content)
        content = copy.deepcopy(content)
        if change(content, row.module_key):
            bind.execute(table.update().where(table.c.id == row.id).values(
                content=content, revision=(row.revision or 0) + 1,
                updated_at=datetime.now(UTC)))


def upgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('shared_measure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('better', sa.String(length=10), nullable=False),
    sa.Column('goal', sa.Double(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("better IN ('up', 'down')", name=op.f('ck_shared_measure_better_known')),
    sa.CheckConstraint("kind IN ('count', 'proportion')", name=op.f('ck_shared_measure_kind_known')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_shared_measure_programme_id_programme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shared_measure')),
    sa.UniqueConstraint('programme_id', 'key', name=op.f('uq_shared_measure_programme_id_key'))
    )
    # ### end Alembic commands ###
    _rewrite_definitions(_upgrade_definition)


def downgrade():
    _rewrite_definitions(_downgrade_definition)
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_table('shared_measure')
    # ### end Alembic commands ###
