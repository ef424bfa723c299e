"""What people and scripts send: numbers parse safely (the Danish way too), nothing is cut
(rows beyond the limit, a field sent twice), and malformed requests – a file in a text
field, a NUL byte, a row index thousands of digits long, an id too large for the database –
get a message or a 404, never a server error, and nothing of them is stored."""

from __future__ import annotations

import io
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from laks.enums import ModuleState
from laks.extensions import db
from laks.models import AuditEvent, ModuleComment, ModuleDefinition, StateChange, UnitModule
from laks.numbers import parse_number
from laks.services.definitions import get_spec


def module_url(team, key="udfordring", suffix=""):
    return f"/enheder/{team.unit.id}/moduler/{key}{suffix}"


def stored(team, key="udfordring") -> UnitModule | None:
    db.session.expire_all()
    return db.session.scalar(select(UnitModule).where(UnitModule.unit_id == team.unit.id,
                                                      UnitModule.module_key == key))


def save(client, team, key="udfordring", intent="save", **answers):
    data = MultiDict({"version": "0", "intent": intent})
    for name, value in answers.items():
        for item in value if isinstance(value, list) else [value]:
            data.add(name, item)
    return client.post(module_url(team, key), data=data)


def error_of(page: str, field_id: str) -> str:
    """The error text shown at one field (its form-error-message span)."""
    marker = f'id="{field_id}-error">'
    assert marker in page, f"no error at {field_id}"
    start = page.index(marker) + len(marker)
    return page[start:page.index("</span>", page.index("</span>", start) + 1)]


# --- 4. numbers parse safely -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "value"),
    [("1.234", 1234), ("1 234", 1234), ("1\u00a0234", 1234), ("1\u202f234", 1234),
     ("12,5", Decimal("12.5")), ("1.234,5", Decimal("1234.5")), ("1 234 567,25",
                                                                  Decimal("1234567.25")),
     ("12.5", Decimal("12.5")), ("0.500", Decimal("0.5")), ("-3", -3), ("\u22127", -7),
     (" 40 ", 40), ("1.000.000", 1000000)],
    ids=["thousands-dot", "thousands-space", "thousands-nbsp", "thousands-narrow-nbsp",
         "decimal-comma", "danish-both", "spaces-and-comma", "english-decimal",
         "leading-zero-is-decimal", "negative", "minus-sign", "padded", "million"],
)
def test_input_numbers_the_danish_way(typed, value):
    assert parse_number(typed) == value


@pytest.mark.parametrize(
    ("typed", "message"),
    [("1e1000000", "uden eksponent"), ("1e5000", "uden eksponent"),
     ("1E+5", "uden eksponent"), ("2,5e3", "uden eksponent"), ("inf", "uendelig"),
     ("-Infinity", "uendelig"), ("NaN", "uendelig"), ("9" * 41, "for langt"),
     ("9" * 5000, "for langt"), ("1,2,3", "Skriv et tal"), ("1.234 567", "Skriv et tal"),
     ("12,", "Skriv et tal"), ("tolv", "Skriv et tal"), ("\x00", "Skriv et tal"),
     ("0x10", "Skriv et tal"), ("1_000", "Skriv et tal")],
    ids=["exponent-million", "exponent-5000", "exponent-plus", "comma-exponent", "inf",
         "minus-infinity", "nan", "41-digits", "5000-digits", "two-commas",
         "mixed-separators", "trailing-comma", "word", "nul", "hex", "underscore"],
)
def test_input_numbers_refused_with_a_reason(app, typed, message):
    with app.test_request_context():
        with pytest.raises(ValueError) as raised:
            parse_number(typed)
        assert message in str(raised.value.args[0])


def test_input_huge_exponent_is_refused_at_once_over_http(client, login, team):
    login(team.tovholder)
    started = time.perf_counter()
    response = save(client, team, baseline_in_target_group="1e1000000",
                    baseline_reached="1e5000", challenge_title="Titel")
    assert time.perf_counter() - started < 2
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert error_of(page, "baseline_in_target_group").count("uden eksponent") == 1
    assert "uden eksponent" in error_of(page, "baseline_reached")
    assert 'value="1e1000000"' in page and 'value="Titel"' in page  # everything kept
    assert stored(team) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("1.234", 1234), ("1 234", 1234), ("12,5", 12.5), ("1\u00a0234", 1234)],
    ids=["dot", "space", "comma", "nbsp"],
)
def test_input_danish_numbers_are_saved_over_http(client, login, team, typed, expected):
    login(team.tovholder)
    assert save(client, team, baseline_in_target_group=typed).status_code == 302
    assert stored(team).answers["baseline_in_target_group"] == expected


def test_input_one_message_per_wrong_number(client, login, team):
    login(team.tovholder)
    response = save(client, team, baseline_in_target_group="mange",
                    baseline_reached="inf")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    first = error_of(page, "baseline_in_target_group")
    assert "Skriv et tal" in first and "fra 0 til" not in first  # not the range check too
    second = error_of(page, "baseline_reached")
    assert "uendelig" in second and "fra 0 til" not in second
    summary = page[page.index('id="error-summary"'):page.index("</ul>",
                                                               page.index('id="error-summary"'))]
    assert summary.count("<li>") == 2


def test_input_submit_reports_format_errors_and_missing_answers_together(client, login,
                                                                         team):
    login(team.tovholder)
    response = save(client, team, intent="submit", challenge_title="Kun titel",
                    baseline_in_target_group="1e5")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "uden eksponent" in error_of(page, "baseline_in_target_group")
    for key in ("challenge_type", "health_offer", "target_group", "why_it_matters"):
        assert 'href="#' + key in page
    assert page.count("Besvar spørgsmålet, før I indsender.") >= 4 * 2  # summary and field
    assert "Besvar" not in error_of(page, "baseline_in_target_group")
    assert stored(team) is None


def test_input_submit_with_only_format_errors_names_no_missing_answer(client, login, team):
    from tests.test_workflow import COMPLETE_UDFORDRING

    login(team.tovholder)
    response = save(client, team, intent="submit", baseline_reached="12,5,5",
                    **COMPLETE_UDFORDRING)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Besvar spørgsmålet" not in page and "Skriv et tal" in page


# --- the question editor sets min and max ----------------------------------------------------

EDIT = "/admin/moduler/udfordring/spoergsmaal/baseline_in_target_group"
WORDING = {"label_da": "Antal i målgruppen", "label_en": "Number", "help_da": "",
           "help_en": ""}


def test_input_admin_sets_min_and_max_of_a_number_question(client, login, team):
    login(team.admin)
    # The programme's own questions: the ones its units answer.
    programme = f"/admin/programmer/{team.unit.programme_id}/moduler/udfordring"
    edit = programme + EDIT.removeprefix("/admin/moduler/udfordring")
    page = client.get(edit).get_data(as_text=True)
    assert 'name="min_value"' in page and 'value="0"' in page
    assert 'name="max_value"' in page and 'value="1000000"' in page
    response = client.post(edit, data={**WORDING, "min_value": "10", "max_value": "1.000"})
    assert response.status_code == 302
    question = get_spec("udfordring", team.unit.programme_id).question(
        "baseline_in_target_group")
    assert (question.min, question.max) == (10, 1000)
    assert "fra 10 til 1.000" in client.get(programme).get_data(as_text=True)
    client.post("/log-ud")
    login(team.tovholder)
    response = save(client, team, baseline_in_target_group="1.500")
    assert response.status_code == 422
    assert "fra 10 til 1000" in error_of(response.get_data(as_text=True),
                                         "baseline_in_target_group")
    assert save(client, team, baseline_in_target_group="999").status_code == 302


def test_input_admin_removes_the_limits(client, login, team):
    login(team.admin)
    assert client.post(EDIT, data={**WORDING, "min_value": "", "max_value": ""}
                       ).status_code == 302
    question = get_spec("udfordring").question("baseline_in_target_group")
    assert question.min is None and question.max is None
    stored_content = db.session.scalar(select(ModuleDefinition.content).where(
        ModuleDefinition.module_key == "udfordring",
        ModuleDefinition.programme_id.is_(None)))  # the network's, which the page edits
    raw = next(q for s in stored_content["sections"] for q in s["questions"]
               if q["key"] == "baseline_in_target_group")
    assert "min" not in raw and "max" not in raw


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [({"min_value": "100", "max_value": "10"}, "max_value", "mindst lige så stort"),
     ({"min_value": "1e9", "max_value": ""}, "min_value", "uden eksponent"),
     ({"min_value": "", "max_value": "mange"}, "max_value", "Skriv et tal")],
    ids=["min-above-max", "exponent", "not-a-number"],
)
def test_input_admin_bad_limits_are_refused_at_the_field(client, login, team, data, field,
                                                         message):
    login(team.admin)
    response = client.post(EDIT, data={**WORDING, **data})
    assert response.status_code == 422
    assert message in error_of(response.get_data(as_text=True), field)
    question = get_spec("udfordring").question("baseline_in_target_group")
    assert (question.min, question.max) == (0, 1000000)


def test_input_limits_are_only_offered_for_number_questions(client, login, team):
    login(team.admin)
    page = client.get("/admin/moduler/udfordring/spoergsmaal/health_offer").get_data(
        as_text=True)
    assert 'name="min_value"' not in page
    # A limit sent for a text question anyway changes nothing.
    client.post("/admin/moduler/udfordring/spoergsmaal/health_offer",
                data={**WORDING, "min_value": "1", "max_value": "2"})
    assert get_spec("udfordring").question("health_offer").min is None


def test_input_admin_adds_a_number_question_with_limits(client, login, team):
    login(team.admin)
    response = client.post("/admin/moduler/refleksion/nyt-spoergsmaal", data={
        "section": "anchoring", "key": "people", "kind": "number", "label_da": "Hvor mange?",
        "label_en": "", "help_da": "", "help_en": "", "options": "", "columns": "",
        "min_value": "0", "max_value": "12,5"})
    assert response.status_code == 302
    question = get_spec("refleksion").question("people")
    assert (question.min, question.max) == (0, 12.5)


def test_input_a_definition_with_min_above_max_fails_loudly():
    from laks.definitions import DefinitionError, parse_module

    data = {"key": "udfordring", "title": "T", "sections": [{"key": "s", "title": "S",
            "questions": [{"key": "n", "kind": "number", "label": "N", "min": 5, "max": 1}]}]}
    with pytest.raises(DefinitionError, match="larger than max"):
        parse_module(data)


# --- 5. nothing is cut -----------------------------------------------------------------------


def rows(prefix: str, number: int, **cells) -> dict:
    return {f"{prefix}-{i}-{name}": f"{value} {i}" for i in range(number)
            for name, value in cells.items()}


def test_input_31_rows_are_refused_with_the_limit_at_the_field(client, login, team):
    login(team.tovholder)
    response = save(client, team, "handleplan",
                    **rows("activities", 31, who="Sygeplejerske", what="Ringer"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    message = error_of(page, "activities")
    assert "Højst 30 rækker" in message and "31" in message and "Intet er gemt" in message
    assert "Ringer 30" in page  # the 31st row is still there to be combined
    assert stored(team, "handleplan") is None


def test_input_30_rows_are_all_saved(client, login, team):
    login(team.tovholder)
    response = save(client, team, "handleplan", **rows("activities", 30, who="Hvem"))
    assert response.status_code == 302
    assert len(stored(team, "handleplan").answers["activities"]) == 30


def test_input_too_many_rows_leave_the_stored_rows_alone(client, login, team):
    login(team.tovholder)
    save(client, team, "handleplan", **rows("activities", 2, who="Før"))
    version = stored(team, "handleplan").version
    response = client.post(module_url(team, "handleplan"), data={
        "version": str(version), "intent": "save", "trial_action": "Ny tekst",
        **rows("activities", 40, who="Efter")})
    assert response.status_code == 422
    um = stored(team, "handleplan")
    assert [r["who"] for r in um.answers["activities"]] == ["Før 0", "Før 1"]
    assert um.answers.get("trial_action") is None  # nothing of the refused save is kept


def test_input_2000_test_log_rows_are_refused_quickly(client, login, team):
    login(team.tovholder)
    data = {**rows("cycles", 2000, did="Ringede"), **{f"cycles-{i}-count": "3"
                                                      for i in range(2000)}}
    started = time.perf_counter()
    response = save(client, team, "afproevning", **data)
    elapsed = time.perf_counter() - started
    assert response.status_code == 422
    assert "Højst 60 rækker – der blev sendt 2000" in response.get_data(as_text=True)
    assert elapsed < 10, elapsed
    assert stored(team, "afproevning") is None
    autosave = client.post(module_url(team, "afproevning", "/autosave"),
                           data={"version": "0", **data})
    assert autosave.status_code == 422
    assert stored(team, "afproevning") is None


def test_input_row_limit_is_stated_at_the_field(client, login, team):
    login(team.tovholder)
    page = client.get(module_url(team, "handleplan")).get_data(as_text=True)
    assert "Højst 30 rækker." in page
    hint = page.index('id="activities-hint"')
    assert "Højst 30 rækker." in page[hint:page.index("</span>", hint)]
    assert 'aria-describedby="activities-hint' in page
    page = client.get(module_url(team, "afproevning")).get_data(as_text=True)
    assert "Højst 60 rækker." in page


@pytest.mark.parametrize(
    "key",
    ["activities-" + "9" * 5000 + "-who", "activities-" + "1" * 7 + "-who",
     "activities-x-who", "activities-\u00b2-who", "activities-\u0663-who",
     "activities-01-who", "activities--1-who"],
    ids=["5000-digits", "seven-digits", "letter", "superscript-two", "arabic-three",
         "leading-zero", "negative"],
)
def test_input_unreadable_row_index_is_refused_not_an_error(client, login, team, key):
    login(team.tovholder)
    response = client.post(module_url(team, "handleplan"), data={
        "version": "0", "intent": "save", "activities-0-who": "Læge", key: "Sygeplejerske"})
    assert response.status_code == 422
    assert "ikke kan læses" in error_of(response.get_data(as_text=True), "activities")
    assert stored(team, "handleplan") is None


def test_input_sparse_row_indices_are_kept_in_order(client, login, team):
    login(team.tovholder)
    response = client.post(module_url(team, "handleplan"), data={
        "version": "0", "intent": "save", "activities-7-who": "B", "activities-2-who": "A",
        "activities-999999-who": "C"})
    assert response.status_code == 302
    assert [r["who"] for r in stored(team, "handleplan").answers["activities"]] == \
        ["A", "B", "C"]


@pytest.mark.parametrize(
    ("key", "field", "values"),
    [("udfordring", "challenge_title", ["Første", "Anden"]),
     ("udfordring", "challenge_title", ["", "Anden"]),
     ("udfordring", "target_group", ["a", "b"]),
     ("udfordring", "baseline_reached", ["1", "2"]),
     ("udfordring", "challenge_type", ["rekruttering", "fastholdelse"]),
     ("handleplan", "start_date", ["2026-03-02", "2026-04-01"]),
     ("handleplan", "activities-0-who", ["Læge", "Sygeplejerske"])],
    ids=["text", "text-first-empty", "markdown", "number", "choice", "date", "row-cell"],
)
def test_input_field_sent_twice_is_refused_at_the_field(client, login, team, key, field,
                                                         values):
    login(team.tovholder)
    response = save(client, team, key, **{field: values})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    field_id = field if field != "challenge_type" else "challenge_type"
    assert "sendt mere end én gang" in error_of(page, field_id)
    assert stored(team, key) is None


def test_input_a_theme_ticked_twice_is_one_theme(client, login, team):
    login(team.tovholder)
    assert save(client, team, themes=["tobak", "tobak", "alkohol"]).status_code == 302
    assert stored(team).answers["themes"] == ["tobak", "alkohol"]


# --- 7. malformed requests never answer 500 --------------------------------------------------


def upload(name="svar.txt", content=b"010190-1234"):
    return (io.BytesIO(content), name)


@pytest.mark.parametrize(
    "field", ["challenge_title", "target_group", "baseline_reached", "challenge_type"],
    ids=["text", "markdown", "number", "choice"],
)
def test_input_file_in_a_module_field_is_refused(client, login, team, field):
    login(team.tovholder)
    response = client.post(module_url(team), data={
        "version": "0", "intent": "save", "health_offer": "Rygestop", field: upload()},
        content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "FileStorage" not in page
    if field in ("challenge_title", "target_group"):
        assert "ikke sende en fil" in error_of(page, field)
    assert 'value="Rygestop"' in page
    assert stored(team) is None


def test_input_file_in_a_row_cell_and_autosave_is_refused(client, login, team):
    login(team.tovholder)
    data = {"version": "0", "activities-0-who": upload(), "cycles-0-date": upload()}
    response = client.post(module_url(team, "handleplan", "/autosave"), data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert stored(team, "handleplan") is None


def test_input_file_in_a_comment_is_refused(client, login, team):
    login(team.tovholder)
    response = client.post(module_url(team, suffix="/kommentarer"),
                           data={"body": upload()}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "ikke sende en fil" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ModuleComment.id))) == 0


@pytest.mark.parametrize("field", ["email", "password"])
def test_input_file_in_the_login_form_is_not_an_error(client, team, field):
    data = {"email": team.staff.email, "password": "x", field: upload()}
    response = client.post("/log-ind", data=data, content_type="multipart/form-data")
    assert response.status_code in (200, 400, 401, 422)
    assert "FileStorage" not in response.get_data(as_text=True)


def test_input_file_in_the_question_editor_is_refused(client, login, team):
    login(team.admin)
    response = client.post(EDIT, data={**WORDING, "help_da": upload()},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "ikke sende en fil" in response.get_data(as_text=True)


@pytest.mark.parametrize("field", ["key", "section", "kind", "label_da", "options",
                                   "min_value"])
def test_input_file_in_the_new_question_form_is_refused(client, login, team, field):
    login(team.admin)
    data = {"section": "anchoring", "key": "newq", "kind": "choice", "label_da": "Ny",
            "options": "ja | Ja | Yes", "min_value": "", field: upload()}
    response = client.post("/admin/moduler/refleksion/nyt-spoergsmaal", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "FileStorage" not in response.get_data(as_text=True)
    assert get_spec("refleksion").question("newq") is None


@pytest.mark.parametrize(
    ("key", "field"),
    [("udfordring", "challenge_title"), ("udfordring", "target_group"),
     ("handleplan", "activities-0-what")],
    ids=["text", "markdown", "row-cell"],
)
def test_input_nul_in_an_answer_is_refused_and_never_stored(client, login, team, key,
                                                            field):
    login(team.tovholder)
    response = save(client, team, key, **{field: "Før\x00efter"})
    assert response.status_code == 422
    assert "kontroltegn (NUL)" in response.get_data(as_text=True)
    assert stored(team, key) is None
    autosave = client.post(module_url(team, key, "/autosave"),
                           data={"version": "0", field: "\x00"})
    assert autosave.status_code == 422
    assert stored(team, key) is None


def test_input_nul_in_comment_review_and_question_editor_is_refused(client, login, team):
    from tests.test_workflow import module_in

    login(team.tovholder)
    response = client.post(module_url(team, suffix="/kommentarer"), data={"body": "a\x00b"})
    assert response.status_code == 422 and "NUL" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ModuleComment.id))) == 0
    client.post("/log-ud")

    module_in(team, ModuleState.SUBMITTED)
    login(team.facilitator)
    response = client.post(module_url(team, suffix="/vurdering"),
                           data={"decision": "approve", "comment": "Fint\x00"})
    assert response.status_code == 422 and "NUL" in response.get_data(as_text=True)
    assert stored(team).state == ModuleState.SUBMITTED
    assert db.session.scalar(select(func.count(StateChange.id)).where(
        StateChange.action == "approve")) == 0
    client.post("/log-ud")

    login(team.admin)
    for field in ("label_da", "label_en", "help_da", "help_en"):
        response = client.post(EDIT, data={**WORDING, field: "x\x00y"})
        assert response.status_code == 422, field
        assert "NUL" in error_of(response.get_data(as_text=True), field)
    response = client.post("/admin/moduler/refleksion/nyt-spoergsmaal", data={
        "section": "anchoring", "key": "k\x00", "kind": "choice", "label_da": "Ny",
        "options": "ja | J\x00a | Yes"})
    assert response.status_code == 422
    assert get_spec("refleksion").question("k") is None


def test_input_nul_in_the_login_email_is_not_an_error(client, team):
    response = client.post("/log-ind", data={"email": f"{team.staff.email}\x00",
                                             "password": "x"})
    assert response.status_code in (200, 400, 401, 422)
    assert not db.session.scalar(select(AuditEvent).where(
        AuditEvent.details.cast(db.String).contains("\\u0000")))


@pytest.mark.parametrize(
    "path",
    ["/enheder/99999999999999999999", "/enheder/2147483648", "/enheder/2147483647",
     "/enheder/0", "/enheder/" + "9" * 5000, "/enheder/\u0663",
     "/enheder/99999999999999999999/moduler/udfordring",
     "/enheder/2147483648/moduler/udfordring/revisioner",
     "/programmer/99999999999999999999", "/programmer/2147483648"],
    ids=["twenty-digits", "int-max-plus-one", "int-max", "zero", "5000-digits",
         "arabic-digit", "module", "revisions", "programme", "programme-int-max-plus-one"],
)
def test_input_id_too_large_for_the_database_is_404(client, login, team, path):
    login(team.admin)
    assert client.get(path).status_code == 404


def test_input_post_to_an_id_too_large_is_404(client, login, team):
    login(team.tovholder)
    response = client.post("/enheder/99999999999999999999/moduler/udfordring",
                           data={"version": "0", "challenge_title": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "query",
    ["fra=99999999999999999999&til=99999999999999999999", "fra=-1&til=" + "9" * 5000,
     "fra=x&til=\u0663"],
    ids=["huge", "negative-and-5000-digits", "garbage"],
)
def test_input_revision_numbers_in_the_query_never_fail(client, login, team, query):
    login(team.tovholder)
    save(client, team, challenge_title="En")
    assert client.get(module_url(team, suffix=f"/revisioner?{query}")).status_code == 200


def test_input_nul_in_a_query_string_is_a_bad_request(client, login, team):
    login(team.tovholder)
    assert client.get(module_url(team, suffix="/revisioner?fra=%00")).status_code == 400
    assert client.get("/?x%00=1").status_code == 400


@pytest.mark.parametrize(
    "query",
    ["side=99999999999999999999", "side=2147483648", "side=-5", "side=" + "9" * 5000,
     "handling=%00", "handling=module.save%00"],
    ids=["huge-page", "int-max-plus-one", "negative", "5000-digits", "nul-action",
         "action-with-nul"],
)
def test_input_audit_log_query_never_fails(client, login, team, query):
    login(team.admin)
    assert client.get(f"/admin/log?{query}").status_code in (200, 400)


def test_input_line_breaks_are_stored_as_newlines_whatever_the_browser_sends(client, login,
                                                                              team):
    login(team.tovholder)
    response = save(client, team, "handleplan", trial_action="Første linje\r\nAnden linje\r",
                    **{"activities-0-who": "Sygeplejerske", "activities-0-what": "Ringer\r\nigen"})
    assert response.status_code == 302
    answers = stored(team, "handleplan").answers
    assert answers["trial_action"] == "Første linje\nAnden linje"
    assert answers["activities"][0]["what"] == "Ringer\nigen"
