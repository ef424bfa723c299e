"""The CPR guard catches what a reader would recognise as a CPR number – whatever the
separators, digits or markdown – in every place where a person types text that others read,
and never refuses ordinary Danish text (tests/data/not_cpr_da.txt)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from laks.extensions import db
from laks.models import ModuleComment, ModuleDefinition, StateChange
from laks.privacy import any_cpr, looks_like_cpr
from laks.services.definitions import get_spec
from tests.test_input import module_url, stored

CORPUS = Path(__file__).parent / "data" / "not_cpr_da.txt"
ORDINARY = [line for line in CORPUS.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]

#: One CPR number (1 January 1990, sequence 1234) written in every way the guard must see.
VARIANTS = {
    "plain": "010190-1234",
    "no-separator": "0101901234",
    "dots-in-date": "01.01.90-1234",
    "dots-everywhere": "01.01.90.1234",
    "spaces-in-date": "01 01 90 1234",
    "slashes": "01/01/90-1234",
    "slash-before-sequence": "010190/1234",
    "en-dash": "010190–1234",
    "em-dash": "010190—1234",
    "non-breaking-hyphen": "010190\u20111234",
    "minus-sign": "010190\u22121234",
    "several-separators": "010190 - 1234",
    "double-hyphen": "010190--1234",
    "dot-and-dash": "01.01.90 – 1234",
    "no-break-space": "010190\u00a01234",
    "narrow-no-break-space": "010190\u202f1234",
    "zero-width-space": "0101\u200b90-1234",
    "zero-width-joiner-everywhere": "0\u200d1\u200d0\u200d1\u200d9\u200d0\u200d1234",
    "soft-hyphen": "010190\u00ad1234",
    "line-break": "010190\n1234",
    "windows-line-break": "010190\r\n1234",
    "tab": "010190\t1234",
    "arabic-indic-digits": "٠١٠١٩٠-١٢٣٤",
    "devanagari-digits": "०१०१९०-१२३४",
    "fullwidth-digits": "０１０１９０－１２３４",
    "markdown-escape": "010190\\-1234",
    "html-entity-dash": "010190&#45;1234",
    "html-entity-digit": "01019&#48;-1234",
    "html-entity-nbsp": "010190&nbsp;1234",
    "emphasis-inside": "01*01*90-1234",
    "strong-inside": "01**01**90-1234",
    "underscore-emphasis": "_0101_90-1234",
    "code-inside": "0101`90`-1234",
    "html-comment-inside": "0101<!-- skjult -->90-1234",
    "html-tag-inside": "0101<b>90</b>-1234",
    "link-inside": "[0101](https://example.org)90-1234",
    "in-a-sentence": "Borgeren (01.01.90-1234) kom ikke.",
    "second-line-of-markdown": "Vi talte med\n\n* 01 01 90 1234",
    "born-2005": "150305-4321",
    "born-1937": "311237-4999",
}


@pytest.mark.parametrize("text", ORDINARY, ids=[f"line-{i}" for i in range(len(ORDINARY))])
def test_cpr_ordinary_danish_text_is_never_refused(text):
    assert not looks_like_cpr(text)


def test_cpr_corpus_is_large_and_covers_every_kind_of_number():
    text = "\n".join(ORDINARY).lower()
    assert len(ORDINARY) >= 60
    for word in ("tlf", "kr.", "kl.", "cvr", "ean", "p-nr", "kontonr", "8000 aarhus"):
        assert word in text


@pytest.mark.parametrize("text", list(VARIANTS.values()), ids=list(VARIANTS))
def test_cpr_every_way_of_writing_one_is_refused(text):
    assert looks_like_cpr(text)
    assert any_cpr([{"cell": text}])


@pytest.mark.parametrize(
    "text",
    ["311390-1234", "320190-1234", "290223-1234", "010190-12345", "1010190-1234",
     "010190-123", "01 01 90 12 34 56"],
    ids=["month-13", "day-32", "no-29-feb-2023", "five-digit-sequence", "seven-digit-date",
         "three-digit-sequence", "phone-like-pairs"],
)
def test_cpr_no_real_date_or_wrong_shape_is_not_a_cpr_number(text):
    assert not looks_like_cpr(text)


def test_cpr_future_birth_date_is_not_a_cpr_number():
    # The 7th digit 4 with year 90 means 1990; with year 30 it means 2030 – not born yet.
    assert looks_like_cpr("010190-4234")
    assert not looks_like_cpr("010130-4234")


def test_cpr_a_labelled_ten_digit_number_is_accepted_but_not_with_separators():
    assert looks_like_cpr("1001234567")  # 10 January 2023: a reader cannot tell
    assert not looks_like_cpr("P-nr. 1001234567")
    assert not looks_like_cpr("kontonr.: 0101901234")
    assert looks_like_cpr("P-nr. 010190-1234")  # written like a CPR number, it is one
    assert looks_like_cpr("kopi 0101901234")  # "p" inside a word is no label


def test_cpr_plain_text_check_is_quick_for_long_text():
    import time

    text = ("12 34 56 78 90 " * 2000) + "*tekst* " * 2000
    started = time.perf_counter()
    assert not looks_like_cpr(text)
    assert time.perf_counter() - started < 2


# --- every place where a person types text that others read ---------------------------------

MESSAGE = "Det ligner et CPR-nummer"
HOW_TO = "P-nr. 1012345678"


@pytest.mark.parametrize(
    ("key", "field", "value"),
    [
        ("udfordring", "challenge_title", "Borgeren 01.01.90-1234"),
        ("udfordring", "target_group", "Fx borgeren 01**01**90-1234"),
        ("udfordring", "why_it_matters", "Se 0101<!-- x -->90\u20111234"),
        ("handleplan", "activities-0-what", "Ringer til 01 01 90 1234"),
        ("afproevning", "cycles-0-saw", "٠١٠١٩٠-١٢٣٤ kom"),
    ],
    ids=["text", "markdown-emphasis", "markdown-comment", "row-cell", "row-cell-digits"],
)
def test_cpr_module_answers_and_rows_are_refused_over_http(client, login, team, key, field,
                                                            value):
    login(team.tovholder)
    response = client.post(module_url(team, key), data={"version": "0", "intent": "save",
                                                         field: value})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert MESSAGE in page and HOW_TO in page  # why, and how to write another number
    assert stored(team, key) is None


def test_cpr_autosave_refuses_too(client, login, team):
    login(team.tovholder)
    response = client.post(module_url(team, suffix="/autosave"),
                           data={"version": "0", "target_group": "010190\n1234"})
    assert response.status_code == 422
    assert stored(team) is None


def test_cpr_ordinary_numbers_are_saved_over_http(client, login, team):
    login(team.tovholder)
    text = "Tlf. 70 10 20 30, P-nr. 1001234567, 1.234.567,50 kr. den 02.03.2026 kl. 10.30"
    response = client.post(module_url(team), data={"version": "0", "target_group": text})
    assert response.status_code == 302
    assert stored(team).answers["target_group"] == text


@pytest.mark.parametrize("value", ["CPR 01.01.90-1234", "01*01*90-1234"],
                         ids=["dots", "markdown"])
def test_cpr_comment_is_refused_over_http(client, login, team, value):
    login(team.tovholder)
    response = client.post(module_url(team, suffix="/kommentarer"), data={"body": value})
    assert response.status_code == 422
    assert MESSAGE in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ModuleComment.id))) == 0


def test_cpr_review_comment_is_refused_over_http(client, login, team):
    from laks.enums import ModuleState
    from tests.test_workflow import module_in

    module_in(team, ModuleState.SUBMITTED)
    login(team.facilitator)
    response = client.post(module_url(team, suffix="/vurdering"), data={
        "decision": "request_changes", "comment": "Borgeren 01 01 90 1234 mangler"})
    assert response.status_code == 422
    assert MESSAGE in response.get_data(as_text=True)
    assert stored(team).state == ModuleState.SUBMITTED
    assert not db.session.scalar(select(StateChange).where(
        StateChange.comment.contains("1234")))


QUESTION = {"label_da": "Hvem?", "label_en": "Who?", "help_da": "", "help_en": ""}


@pytest.mark.parametrize("field", ["label_da", "label_en", "help_da", "help_en"])
def test_cpr_question_label_and_help_are_refused_over_http(client, login, team, field):
    login(team.admin)
    before = db.session.scalar(select(ModuleDefinition.revision).where(
        ModuleDefinition.module_key == "udfordring", ModuleDefinition.programme_id.is_(None)))
    response = client.post("/admin/moduler/udfordring/spoergsmaal/health_offer",
                           data={**QUESTION, field: "Fx 01.01.90-1234"})
    assert response.status_code == 422
    assert MESSAGE in response.get_data(as_text=True)
    db.session.expire_all()
    after = db.session.scalar(select(ModuleDefinition.revision).where(
        ModuleDefinition.module_key == "udfordring", ModuleDefinition.programme_id.is_(None)))
    assert after == before


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [("choice", "options", "ja | Ja, fx 010190-1234 | Yes"),
     ("rows", "columns", "who | text | Hvem (01 01 90 1234) | Who"),
     ("text", "help_da", "Skriv *0101*90-1234")],
    ids=["option-label", "column-label", "help-markdown"],
)
def test_cpr_new_question_texts_are_refused_over_http(client, login, team, kind, field,
                                                      value):
    login(team.admin)
    response = client.post("/admin/moduler/refleksion/nyt-spoergsmaal", data={
        "section": "anchoring", "key": "newq", "kind": kind, "label_da": "Nyt",
        "label_en": "", "help_da": "", "help_en": "", "options": "ja | Ja | Yes",
        "columns": "who | text | Hvem | Who", field: value})
    assert response.status_code == 422
    assert MESSAGE in response.get_data(as_text=True)
    assert get_spec("refleksion").question("newq") is None


def test_cpr_definition_service_refuses_cpr_in_a_label(team):
    from laks.definitions import DefinitionError
    from laks.services import definitions as service

    with pytest.raises(DefinitionError, match="CPR"):
        service.update_question(actor=team.admin, module_key="udfordring",
                                question_key="health_offer", label_da="Fx 010190-1234",
                                label_en="", help_da="", help_en="", required=True)


@pytest.mark.parametrize("comment", ["Borgeren 01/01/90 1234", "Se 0101**90**-1234", "a\x00b"],
                         ids=["slashes", "markdown", "nul"])
def test_cpr_reopen_comment_is_refused_over_http(client, login, team, comment):
    from laks.enums import ModuleState
    from tests.test_workflow import module_in

    module_in(team, ModuleState.APPROVED)
    login(team.facilitator)
    response = client.post(module_url(team, suffix="/genaabn"), data={"comment": comment})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert MESSAGE in page or "NUL" in page
    assert stored(team).state == ModuleState.APPROVED


SEPARATORS = ["", " ", "-", ".", "/", "\u00a0", "\u2013", "\n", " - ", "..", "\u200b"]


@given(st.dates(min_value=date(1940, 1, 1), max_value=date(2020, 12, 31)),
       st.integers(min_value=0, max_value=999),
       st.lists(st.sampled_from(SEPARATORS), min_size=3, max_size=3))
def test_cpr_any_separators_between_the_groups_are_seen_through(birth, sequence, seps):
    century = "0" if birth.year < 2000 else "4"  # a 7th digit that gives back this year
    number = (f"{birth:%d}{seps[0]}{birth:%m}{seps[1]}{birth:%y}{seps[2]}"
              f"{century}{sequence:03d}")
    assert looks_like_cpr(f"Borgeren {number} kom ikke")


@given(st.lists(st.integers(min_value=10, max_value=99), min_size=4, max_size=4),
       st.integers(min_value=1, max_value=9_999_999), st.integers(min_value=0, max_value=99))
def test_cpr_phone_numbers_and_amounts_are_never_refused(pairs, kroner, oere):
    phone = "+45 " + " ".join(str(p) for p in pairs)
    amount = f"{kroner:,}".replace(",", ".") + f",{oere:02d} kr."
    assert not looks_like_cpr(f"Ring på {phone} – prisen er {amount}")
