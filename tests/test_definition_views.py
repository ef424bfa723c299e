"""The admin changes the module questions in the browser, without code."""

from __future__ import annotations

import pytest

from laks.extensions import db
from laks.services.definitions import get_spec
from laks.services.modules import save_answers, unit_module_for


def test_definition_views_admin_changes_a_label(client, login, team):
    um = unit_module_for(team.unit, "udfordring")
    save_answers(um, {"health_offer": "Rygestop"}, actor=team.tovholder, base_version=0)
    db.session.commit()
    login(team.admin)
    base = f"/admin/programmer/{team.unit.programme_id}/moduler"
    page = client.get(f"{base}/udfordring").get_data(as_text=True)
    assert "health_offer" in page and "Hvilket sundhedstilbud drejer det sig om?" in page
    response = client.post(f"{base}/udfordring/spoergsmaal/health_offer", data={
        "label_da": "Hvilket tilbud?", "label_en": "Which offer?", "help_da": "",
        "help_en": "", "required": "y"})
    assert response.status_code == 302
    client.post("/log-ud")
    login(team.tovholder)
    page = client.get(f"/enheder/{team.unit.id}/moduler/udfordring").get_data(as_text=True)
    assert "Hvilket tilbud?" in page and 'value="Rygestop"' in page  # answer kept by key
    # The network's own question – what a new programme starts from – is as it was.
    assert get_spec("udfordring").question("health_offer").label.da != "Hvilket tilbud?"


def test_definition_views_admin_adds_a_choice_question(client, login, team):
    login(team.admin)
    base = f"/admin/programmer/{team.unit.programme_id}/moduler"
    response = client.post(f"{base}/refleksion/nyt-spoergsmaal", data={
        "section": "anchoring", "key": "spread", "kind": "choice",
        "label_da": "Deler I erfaringerne?", "label_en": "Do you share?",
        "options": "ja | Ja | Yes\nnej | Nej | No", "columns": "", "help_da": "",
        "help_en": ""})
    assert response.status_code == 302
    question = get_spec("refleksion", team.unit.programme_id).question("spread")
    assert [o.value for o in question.options] == ["ja", "nej"]
    assert get_spec("refleksion").question("spread") is None  # the network's: unchanged
    client.post("/log-ud")
    login(team.tovholder)
    page = client.get(f"/enheder/{team.unit.id}/moduler/refleksion").get_data(as_text=True)
    assert "Deler I erfaringerne?" in page and 'value="nej"' in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"key": "case_text", "kind": "text"}, "har allerede et spørgsmål"),
        ({"key": "Ny Nøgle", "kind": "text"}, "Brug små bogstaver"),
        ({"key": "spread", "kind": "choice", "options": ""}, "mindst én mulighed"),
        ({"key": "log2", "kind": "rows", "columns": "who | colour | Hvem | Who"},
         "text, number eller date"),
        ({"key": "x1", "kind": "text", "label_da": ""}, "Skriv spørgsmålet på dansk"),
    ],
    ids=["duplicate-key", "bad-key", "choice-without-options", "bad-column-kind",
         "no-danish-label"],
)
def test_definition_views_bad_question_is_refused_and_kept(client, login, team, data,
                                                           message):
    login(team.admin)
    before = len(get_spec("refleksion").questions)
    posted = {"section": "anchoring", "label_da": "Et nyt spørgsmål", "label_en": "",
              "help_da": "Min hjælpetekst", "help_en": "", "options": "", "columns": "",
              **data}
    response = client.post("/admin/moduler/refleksion/nyt-spoergsmaal", data=posted)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "Min hjælpetekst" in page  # what was typed is kept
    assert len(get_spec("refleksion").questions) == before  # nothing added


@pytest.mark.parametrize("who", ["tovholder", "facilitator", "observer"])
def test_definition_views_only_admin(client, login, team, who):
    login(getattr(team, who))
    assert client.get("/admin/moduler/").status_code == 403
    response = client.post("/admin/moduler/udfordring/spoergsmaal/health_offer", data={
        "label_da": "Kapret", "label_en": "", "help_da": "", "help_en": ""})
    assert response.status_code == 403
    assert str(get_spec("udfordring").question("health_offer").label) != "Kapret"


def test_definition_views_unknown_question_is_404(client, login, team):
    login(team.admin)
    assert client.get("/admin/moduler/udfordring/spoergsmaal/nope").status_code == 404
    assert client.get("/admin/moduler/modul9").status_code == 404


def test_definition_views_admin_menu_links_to_questions(client, login, team):
    login(team.admin)
    assert 'href="/admin/moduler/"' in client.get("/hjem").get_data(as_text=True)
    client.post("/log-ud")
    login(team.facilitator)
    assert 'href="/admin/moduler/"' not in client.get("/hjem").get_data(as_text=True)
