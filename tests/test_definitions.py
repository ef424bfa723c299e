"""Module definitions as data: the seed files, the checks on load, the admin's changes, and
the one form builder."""

from __future__ import annotations

import copy

import pytest
import yaml
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from laks.definitions import DefinitionError, parse_module
from laks.definitions.answers import missing_required
from laks.definitions.forms import (
    BUILDERS,
    answers_from_form,
    build_module_form,
    form_data,
)
from laks.enums import MODULE_KEYS, QuestionKind
from laks.services import definitions as service
from laks.services.seed import SEED_DIR

FILES = sorted((SEED_DIR / "modules").glob("*.yaml"))


def raw(key: str) -> dict:
    path = next(p for p in FILES if p.stem.endswith(key))
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_definitions_seed_has_the_five_modules_in_order():
    specs = [parse_module(yaml.safe_load(p.read_text(encoding="utf-8"))) for p in FILES]
    assert [s.key for s in specs] == list(MODULE_KEYS)
    assert [str(s.title) for s in specs] == [
        "Udfordring", "Præcisering", "Handleplan", "Afprøvning", "Refleksion og forankring"]
    kinds = {q.kind for s in specs for q in s.questions}
    assert kinds == set(QuestionKind)  # every kind is used somewhere
    assert all(q.label.en for s in specs for q in s.questions)  # both languages


def test_definitions_handleplan_has_activity_rows():
    spec = parse_module(raw("handleplan"))
    activities = spec.question("activities")
    assert activities.kind == QuestionKind.ROWS
    assert [c.key for c in activities.columns] == ["who", "what", "where", "when"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["sections"][0]["questions"].append(
            copy.deepcopy(d["sections"][0]["questions"][0])), "is used twice"),
        (lambda d: d["sections"][0]["questions"][0].update(kind="essay"), "unknown kind 'essay'"),
        (lambda d: d["sections"][0]["questions"][0].update(key="Bad Key"), "must be lower-case"),
        (lambda d: d.update(key="modul6"), "unknown module 'modul6'"),
        (lambda d: d["sections"][0]["questions"][1].update(options=[]), "needs options"),
        (lambda d: d["sections"][0]["questions"][0].update(label={"en": "x"}), "Danish text"),
        (lambda d: d["sections"][0]["questions"][0].update(colour="red"), "unknown fields"),
    ],
    ids=["duplicate-key", "unknown-kind", "bad-key", "unknown-module", "choice-no-options",
         "no-danish", "unknown-field"],
)
def test_definitions_bad_definition_fails_loudly(change, message):
    data = raw("udfordring")
    change(data)
    with pytest.raises(DefinitionError, match=message):
        parse_module(data)


def test_definitions_seed_is_idempotent_and_keeps_admin_edits(team):
    spec = service.update_question(
        actor=team.admin, module_key="udfordring", question_key="challenge_title",
        label_da="Udfordringen kort", label_en="The challenge, briefly", help_da="",
        help_en="", required=True)
    assert str(spec.question("challenge_title").label) == "Udfordringen kort"
    assert service.load_definition_files(SEED_DIR / "modules") == []
    assert str(service.get_spec("udfordring").question("challenge_title").label) == \
        "Udfordringen kort"


def test_definitions_admin_adds_question_answers_survive(team):
    from laks.services.modules import save_answers, unit_module_for

    um = unit_module_for(team.unit, "udfordring")
    save_answers(um, {"challenge_title": "Vi mister de ældre"}, actor=team.tovholder,
                 base_version=0)
    service.add_question(actor=team.admin, module_key="udfordring", section_key="challenge",
                         question={"key": "partners", "kind": "text",
                                   "label": {"da": "Samarbejdspartnere", "en": "Partners"}})
    spec = service.get_spec("udfordring")
    assert spec.question("partners").kind == QuestionKind.TEXT
    assert um.answers["challenge_title"] == "Vi mister de ældre"
    with pytest.raises(DefinitionError, match="used twice"):
        service.add_question(actor=team.admin, module_key="udfordring", section_key="challenge",
                             question={"key": "partners", "kind": "text",
                                       "label": {"da": "Igen"}})


def test_definitions_builder_exists_for_every_kind():
    assert set(BUILDERS) == set(QuestionKind)


def test_definitions_one_builder_makes_every_module_form(app):
    for path in FILES:
        spec = parse_module(yaml.safe_load(path.read_text(encoding="utf-8")))
        with app.test_request_context():
            form = build_module_form(spec)(formdata=None)
        assert {q.key for q in spec.questions} <= set(form._fields)


def _post(spec, data: dict):
    return build_module_form(spec)(formdata=MultiDict(data), meta={"csrf": False})


@pytest.mark.parametrize(
    ("key", "post", "expected"),
    [
        ("baseline_in_target_group", "1.200", 1200),
        ("baseline_in_target_group", "12,5", 12.5),
        ("baseline_in_target_group", "40", 40),
        ("challenge_type", "gennemfoersel", "gennemfoersel"),
    ],
    ids=["thousands-dot", "decimal-comma", "integer", "choice"],
)
def test_definitions_form_turns_input_into_answers(app, key, post, expected):
    spec = parse_module(raw("udfordring"))
    with app.test_request_context(method="POST"):
        form = _post(spec, {key: post})
        assert form.validate(), form.errors
        assert answers_from_form(spec, form)[key] == expected


@pytest.mark.parametrize(
    ("key", "post", "message"),
    [
        ("baseline_in_target_group", "mange", "Skriv et tal"),
        ("baseline_in_target_group", "-3", "Skriv et tal fra 0"),
        ("challenge_type", "hacking", "Vælg en af de viste muligheder"),
        ("themes", "hacking", "Vælg en af de viste muligheder"),
        ("challenge_title", "x" * 201, "højst 200 tegn, det har 201"),
    ],
    ids=["not-a-number", "below-min", "unknown-choice", "unknown-multi", "too-long"],
)
def test_definitions_form_refuses_bad_answers(app, key, post, message):
    spec = parse_module(raw("udfordring"))
    with app.test_request_context(method="POST"):
        form = _post(spec, {key: post, "challenge_title": "ok" if key != "challenge_title"
                            else post})
        assert not form.validate()
        assert message in " ".join(str(e) for e in form.errors[key])


def test_definitions_rows_round_trip_and_drop_empty_rows(app):
    spec = parse_module(raw("afproevning"))
    with app.test_request_context(method="POST"):
        form = _post(spec, {
            "cycles-0-date": "2026-03-02", "cycles-0-did": "Ringede til 5", "cycles-0-count": "5",
            "cycles-1-date": "", "cycles-1-did": "", "cycles-1-saw": "", "cycles-1-count": "",
        })
        assert form.validate(), form.errors
        answers = answers_from_form(spec, form)
    empty = {c.key: None for c in spec.questions_by_key["cycles"].columns}
    assert answers["cycles"] == [
        {**empty, "date": "2026-03-02", "did": "Ringede til 5", "count": 5}]
    data = form_data(spec, answers)
    assert data["cycles"][0]["date"].isoformat() == "2026-03-02"


def test_definitions_choice_column_keeps_an_option_and_refuses_others(app):
    """The PDSA cycle's decision (adopt, adapt, abandon) is a choice column."""
    spec = parse_module(raw("afproevning"))
    with app.test_request_context(method="POST"):
        form = _post(spec, {"cycles-0-did": "Ringede", "cycles-0-decision": "adapt"})
        assert form.validate(), form.errors
        assert answers_from_form(spec, form)["cycles"][0]["decision"] == "adapt"
    with app.test_request_context(method="POST"), force_locale("da"):
        form = _post(spec, {"cycles-0-did": "Ringede", "cycles-0-decision": "drop"})
        assert not form.validate()
        assert form.errors["cycles"][0]["decision"] == ["Vælg en af de viste muligheder."]


def test_definitions_choice_column_needs_options():
    data = raw("afproevning")
    data["sections"][0]["questions"][0]["columns"].append(
        {"key": "odd", "kind": "choice", "label": {"da": "Uden valg"}})
    with pytest.raises(DefinitionError, match="a choice column needs options"):
        parse_module(data)


def test_definitions_missing_required_names_each_question():
    spec = parse_module(raw("praecisering"))
    missing = missing_required(spec, {"barriers": "Afstand", "action_question": "  "})
    assert [q.key for q in missing] == ["causes", "action_question", "success_criteria"]
