"""The module pages over HTTP: saving, nothing typed lost, conflicts, submit and review,
discussion, revisions, and every write endpoint refused to those outside the unit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from laks.enums import ModuleState as S
from laks.extensions import db
from laks.models import AuditEvent, ModuleComment, ModuleRevision, UnitModule
from laks.services import modules as service
from laks.services.definitions import get_spec
from tests.conftest import PASSWORD
from tests.test_workflow import COMPLETE_UDFORDRING, module_in


def url(team, key="udfordring", suffix=""):
    return f"/enheder/{team.unit.id}/moduler/{key}{suffix}"


def stored(team, key="udfordring") -> UnitModule | None:
    db.session.expire_all()
    return db.session.scalar(select(UnitModule).where(UnitModule.unit_id == team.unit.id,
                                                      UnitModule.module_key == key))


def form(version=0, intent="save", **answers):
    return {"version": str(version), "intent": intent, **answers}


def test_module_views_staff_saves_a_draft(client, login, team):
    login(team.tovholder)
    response = client.post(url(team), data=form(challenge_title="Vi når ikke de enlige"))
    assert response.status_code == 302
    um = stored(team)
    assert um.state == S.DRAFT
    assert um.answers["challenge_title"] == "Vi når ikke de enlige"
    assert [r.kind for r in um.revisions] == ["save"]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "module.save"))
    page = client.get(url(team)).get_data(as_text=True)
    assert "Gemt." in page and "Vi når ikke de enlige" in page
    assert "Sidst gemt" in page and "Tove Tovholder" in page


def test_module_views_errors_keep_everything_typed(client, login, team):
    login(team.tovholder)
    typed = form(challenge_title="Vores udfordring",
                 target_group="Borgere med **kort** uddannelse",
                 baseline_in_target_group="mange",
                 themes=["tobak", "alkohol"], challenge_type="rekruttering")
    response = client.post(url(team), data=typed)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Der er et problem" in page and "Skriv et tal" in page
    assert 'value="Vores udfordring"' in page
    assert "Borgere med **kort** uddannelse" in page
    assert 'value="mange"' in page
    assert page.count("checked") >= 3  # two themes and the chosen radio
    assert stored(team) is None  # nothing half-saved


def test_module_views_cpr_is_refused_and_the_rest_kept(client, login, team):
    login(team.tovholder)
    response = client.post(url(team), data=form(
        challenge_title="Enlige mænd", target_group="Fx borgeren 010190-1234 fra Nordby"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Det ligner et CPR-nummer" in page and "ingen personoplysninger" in page
    assert 'value="Enlige mænd"' in page
    assert stored(team) is None


def test_module_views_cpr_in_activity_rows_is_refused(client, login, team):
    login(team.tovholder)
    response = client.post(url(team, "handleplan"), data=form(**{
        "activities-0-who": "Sygeplejerske", "activities-0-what": "Ringer til 0101901234"}))
    assert response.status_code == 422
    assert "Det ligner et CPR-nummer" in response.get_data(as_text=True)


@pytest.mark.parametrize(("contact", "message"), [
    ("Tove, tove@holbaek.dk", "ikke en e-mailadresse"),
    ("Sundhedscenteret, tlf. 42 45 09 90", "ikke et telefonnummer"),
], ids=["email", "phone"])
def test_module_views_case_contact_is_a_role_not_a_person(client, login, team, contact,
                                                         message):
    """The catalogue's contact is named by role: the module-5 form says so at the field
    when it is saved, not first when the tovholder consents to publication."""
    login(team.tovholder)
    response = client.post(url(team, "refleksion"), data=form(case_contact_role=contact))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and contact in page
    assert stored(team, "refleksion") is None
    role = "Sundhedskonsulent i Sundhedscenteret, Kalundborgvej 2, 4300 Holbæk"
    assert client.post(url(team, "refleksion"),
                       data=form(case_contact_role=role)).status_code == 302
    assert stored(team, "refleksion").answers["case_contact_role"] == role


def test_module_views_too_long_is_refused_not_truncated(client, login, team):
    login(team.tovholder)
    long_title = "lang " * 50  # 250 characters; the limit is 200
    response = client.post(url(team), data=form(challenge_title=long_title))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "højst 200 tegn" in page
    assert long_title.strip() in page  # the whole text comes back to be shortened
    assert "maxlength" not in page  # the browser must not cut it silently either


def test_module_views_conflict_keeps_both_versions(app, client, login, team):
    login(team.tovholder)
    client.post(url(team), data=form(challenge_title="Første udgave"))
    # A colleague saves in between, from the same starting version.
    other = app.test_client()
    other.post("/log-ind", data={"email": team.staff.email, "password": PASSWORD})
    base = stored(team).version
    assert other.post(url(team), data=form(base, challenge_title="Kollegaens udgave")
                      ).status_code == 302
    response = client.post(url(team), data=form(base, challenge_title="Min udgave"))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Kollegaens udgave" in page and "Min udgave" in page  # side by side
    assert "Intet er overskrevet" in page
    um = stored(team)
    assert um.answers["challenge_title"] == "Kollegaens udgave"
    kinds = [(r.kind, r.answers["challenge_title"]) for r in um.revisions]
    assert ("conflict", "Min udgave") in kinds
    # Saving the merged form (it carries the current version) now goes through.
    merged = client.post(url(team), data=form(um.version, challenge_title="Flettet udgave"))
    assert merged.status_code == 302
    assert stored(team).answers["challenge_title"] == "Flettet udgave"


def test_module_views_autosave(client, login, team):
    login(team.tovholder)
    first = client.post(url(team, suffix="/autosave"), data=form(challenge_title="Kladde 1"))
    assert first.status_code == 200 and first.json["status"] == "saved"
    second = client.post(url(team, suffix="/autosave"),
                         data=form(first.json["version"], challenge_title="Kladde 2"))
    assert second.json["status"] == "saved"
    um = stored(team)
    assert um.answers["challenge_title"] == "Kladde 2"
    assert [r.kind for r in um.revisions] == ["autosave"]  # coalesced within the window
    stale = client.post(url(team, suffix="/autosave"), data=form(1, challenge_title="Gammel"))
    assert stale.status_code == 409 and stale.json["status"] == "conflict"
    assert stored(team).answers["challenge_title"] == "Kladde 2"
    invalid = client.post(url(team, suffix="/autosave"),
                          data=form(um.version, baseline_in_target_group="x"))
    assert invalid.status_code == 422


def test_module_views_submit_names_each_missing_answer(client, login, team):
    login(team.tovholder)
    response = client.post(url(team), data=form(intent="submit", challenge_title="Kun titel"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "4 obligatoriske svar mangler" in page
    assert page.count("Besvar spørgsmålet, før I indsender.") >= 4
    assert 'href="#health_offer"' in page
    um = stored(team)
    assert um.state == S.DRAFT and um.answers["challenge_title"] == "Kun titel"


def test_module_views_submit_and_review(client, login, team):
    login(team.tovholder)
    assert client.post(url(team), data=form(intent="submit", **COMPLETE_UDFORDRING)
                       ).status_code == 302
    assert stored(team).state == S.SUBMITTED
    page = client.get(url(team)).get_data(as_text=True)
    assert "Indsendt" in page and 'name="challenge_title"' not in page  # read-only now
    client.post("/log-ud")
    login(team.facilitator)
    page = client.get(url(team)).get_data(as_text=True)
    assert "Godkend" in page and "Bed om ændringer" in page
    empty = client.post(url(team, suffix="/vurdering"), data={"decision": "approve",
                                                               "comment": ""})
    assert empty.status_code == 422 and "påkrævet" in empty.get_data(as_text=True)
    assert stored(team).state == S.SUBMITTED
    done = client.post(url(team, suffix="/vurdering"),
                       data={"decision": "request_changes", "comment": "Tilføj **tal**."})
    assert done.status_code == 302
    assert stored(team).state == S.CHANGES_REQUESTED
    page = client.get(url(team)).get_data(as_text=True)
    assert "<strong>tal</strong>" in page and "Frida Facilitator" in page


def test_module_views_review_twice_is_refused_with_a_message(client, login, team):
    module_in(team, S.APPROVED)
    login(team.facilitator)
    response = client.post(url(team, suffix="/vurdering"),
                           data={"decision": "approve", "comment": "Igen"})
    assert response.status_code == 409
    assert "ikke muligt" in response.get_data(as_text=True)


def test_module_views_submitted_module_cannot_be_saved_but_text_is_kept(client, login, team):
    module_in(team, S.SUBMITTED)
    login(team.staff)
    response = client.post(url(team), data=form(5, challenge_title="Sen rettelse"))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "kan ikke redigeres nu" in page and "Sen rettelse" in page
    assert stored(team).answers["challenge_title"] == COMPLETE_UDFORDRING["challenge_title"]


def test_module_views_add_row_without_javascript(client, login, team):
    login(team.tovholder)
    response = client.post(url(team, "handleplan"), data=form(
        intent="add_row:activities", **{"activities-0-who": "Sygeplejerske"}))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="activities-1-who"' in page and '>Sygeplejerske</textarea>' in page
    assert stored(team, "handleplan") is None  # adding a row does not save


def test_module_views_discussion(client, login, team):
    login(team.tovholder)
    client.post(url(team, suffix="/kommentarer"), data={"body": "Første <script>x</script>"})
    client.post("/log-ud")
    login(team.facilitator)
    client.post(url(team, suffix="/kommentarer"), data={"body": "Svar med [link](javascript:x)"})
    page = client.get(url(team)).get_data(as_text=True)
    assert page.index("Første") < page.index("Svar med")  # newest last
    assert "<script>x" not in page and "javascript:x" not in page
    assert "Tove Tovholder" in page and "Frida Facilitator" in page
    refused = client.post(url(team, suffix="/kommentarer"), data={"body": "CPR 0101901234"})
    assert refused.status_code == 422
    assert db.session.scalar(select(func.count(ModuleComment.id))) == 2


def test_module_views_revisions_and_diff(client, login, team):
    login(team.tovholder)
    client.post(url(team), data=form(0, challenge_title="Første", health_offer="Rygestop"))
    v = stored(team).version
    client.post(url(team), data=form(v, challenge_title="Anden", health_offer="Rygestop"))
    page = client.get(url(team, suffix="/revisioner?fra=1&til=2")).get_data(as_text=True)
    assert "<del>" in page and "Første" in page and "<ins>" in page and "Anden" in page
    assert "Rygestop" not in page  # unchanged answers are not listed
    bad = client.get(url(team, suffix="/revisioner?fra=1&til=99"))
    assert bad.status_code == 200 and "Vælg to revisioner" in bad.get_data(as_text=True)


def test_module_views_unknown_module_is_404(client, login, team):
    login(team.tovholder)
    assert client.get(url(team, "modul6")).status_code == 404


# --- access per endpoint -------------------------------------------------------------------

WRITES = [
    ("save", "", lambda: form(0, challenge_title="Indtrængen")),
    ("autosave", "/autosave", lambda: form(0, challenge_title="Indtrængen")),
    ("review", "/vurdering", lambda: {"decision": "approve", "comment": "Godkendt"}),
    ("withdraw", "/traek-tilbage", dict),
    ("reopen", "/genaabn", lambda: {"comment": "Genåbnet"}),
    ("comment", "/kommentarer", lambda: {"body": "Indtrængen"}),
]
WRITE_STATE = {"review": S.SUBMITTED, "withdraw": S.SUBMITTED, "reopen": S.APPROVED}
OUTSIDERS = ["other_staff", "other_facilitator", "observer"]


@pytest.mark.parametrize("who", OUTSIDERS)
@pytest.mark.parametrize(("name", "suffix", "data"), WRITES, ids=[w[0] for w in WRITES])
def test_module_views_outsiders_cannot_write(client, login, team, who, name, suffix, data):
    um = module_in(team, WRITE_STATE.get(name, S.DRAFT))
    before = (um.state, dict(um.answers), len(um.revisions))
    login(getattr(team, who))
    response = client.post(url(team, suffix=suffix), data=data())
    assert response.status_code in (403, 404)
    um = stored(team)
    assert (um.state, um.answers, len(um.revisions)) == before
    assert db.session.scalar(select(func.count(ModuleComment.id))) == 0


@pytest.mark.parametrize("who", OUTSIDERS[:2])
def test_module_views_outsiders_cannot_read(client, login, team, who):
    module_in(team, S.DRAFT)
    login(getattr(team, who))
    response = client.get(url(team))
    assert response.status_code in (403, 404)
    assert COMPLETE_UDFORDRING["challenge_title"] not in response.get_data(as_text=True)


def test_module_views_observer_reads_without_forms(client, login, team):
    module_in(team, S.DRAFT)
    login(team.observer)
    page = client.get(url(team)).get_data(as_text=True)
    assert COMPLETE_UDFORDRING["challenge_title"] in page
    assert "<form" not in page.split("<main")[1].split("</main>")[0]


def test_module_views_facilitator_cannot_edit_answers(client, login, team):
    module_in(team, S.DRAFT)
    login(team.facilitator)
    response = client.post(url(team), data=form(2, challenge_title="Facilitatorens tekst"))
    assert response.status_code == 403
    assert stored(team).answers["challenge_title"] == COMPLETE_UDFORDRING["challenge_title"]


def test_module_views_anonymous_is_sent_to_login(client, team):
    for suffix in ("", "/revisioner"):
        response = client.get(url(team, suffix=suffix))
        assert response.status_code == 302 and "/log-ind" in response.headers["Location"]
    assert client.post(url(team), data=form()).status_code == 302
    assert db.session.scalar(select(func.count(ModuleRevision.id))) == 0


def test_module_views_save_service_refuses_cpr_directly(team):
    um = service.unit_module_for(team.unit, "udfordring")
    with pytest.raises(service.PersonalDataError):
        service.save_answers(um, {"target_group": "0101901234"}, actor=team.tovholder,
                             base_version=0)


def test_module_views_tampered_version_is_a_conflict_not_an_error(client, login, team):
    module_in(team, S.DRAFT)
    login(team.tovholder)
    for path in ("", "/autosave"):
        response = client.post(url(team, suffix=path), data=form("abc", challenge_title="X"))
        assert response.status_code == 409
    assert stored(team).answers["challenge_title"] == COMPLETE_UDFORDRING["challenge_title"]


def test_module_views_unit_page_marks_overdue_in_words_and_shows_next_step(
        client, login, team):
    # The factory programme's due dates are 1 Feb, 1 Apr, 1 Jun, 1 Aug, 1 Oct 2026.
    module_in(team, S.APPROVED)  # Udfordring: done, so never overdue
    login(team.tovholder)
    page = client.get(f"/enheder/{team.unit.id}").get_data(as_text=True)
    steps = page.split('class="step-indicator"')[1].split("</ol>")[0]
    items = steps.split("<li")[1:]
    assert "Godkendt" in items[0] and "overskredet" not in items[0]
    assert "Ikke startet" in items[1] and "Fristen er overskredet" in items[1]
    assert "Fortsæt med Præcisering" in page


def test_module_views_next_step_prefers_changes_requested(team):
    from laks import queries

    module_in(team, S.CHANGES_REQUESTED)
    steps = queries.module_steps(team.unit)
    assert queries.next_step(steps).key == "udfordring"
    assert [s.state for s in steps][:2] == [S.CHANGES_REQUESTED, S.NOT_STARTED]


# --- every save is kept, and none is a copy of the last ------------------------------------


def test_module_views_save_without_changes_adds_no_revision(client, login, team):
    login(team.tovholder)
    assert client.post(url(team), data=form(challenge_title="Samme tekst")).status_code == 302
    um = stored(team)
    version = um.version
    again = client.post(url(team), data=form(version, challenge_title="Samme tekst"),
                        follow_redirects=True)
    assert again.status_code == 200
    assert "Intet er ændret, siden modulet sidst blev gemt." in again.get_data(as_text=True)
    um = stored(team)
    assert [r.number for r in um.revisions] == [1]
    assert um.version == version
    assert len(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "module.save", AuditEvent.object_id == um.id)).all()) == 1
    # A real change is saved as ever.
    client.post(url(team), data=form(version, challenge_title="Ny tekst"))
    assert [r.answers["challenge_title"] for r in stored(team).revisions] == [
        "Samme tekst", "Ny tekst"]


def test_module_views_refused_submit_adds_no_copy_of_the_last_revision(client, login, team):
    login(team.tovholder)
    first = client.post(url(team), data=form(intent="submit", challenge_title="Kun titel"))
    assert first.status_code == 422
    version = stored(team).version
    assert f'name="version" type="hidden" value="{version}"' in first.get_data(as_text=True)
    second = client.post(url(team), data=form(version, intent="submit",
                                              challenge_title="Kun titel"))
    assert second.status_code == 422
    assert "4 obligatoriske svar mangler" in second.get_data(as_text=True)
    um = stored(team)
    assert [(r.number, r.kind) for r in um.revisions] == [(1, "save")]
    assert um.version == version and um.state == S.DRAFT


def test_module_views_submit_of_saved_answers_marks_that_revision(client, login, team):
    login(team.tovholder)
    client.post(url(team), data=form(**COMPLETE_UDFORDRING))
    um = stored(team)
    response = client.post(url(team), data=form(um.version, intent="submit",
                                                **COMPLETE_UDFORDRING))
    assert response.status_code == 302
    um = stored(team)
    assert um.state == S.SUBMITTED
    assert [r.number for r in um.revisions] == [1]
    assert um.state_changes[-1].revision_number == 1


# --- the exchange between the unit and its facilitator -------------------------------------

CHANGE_REQUEST = "Tilføj **jeres egne tal**:\n\n- hvor mange startede\n- hvor mange faldt fra"


def changes_requested_box(page: str) -> str:
    return page.split('class="alert alert-warning changes-requested"')[1].split("</section>")[0]


def test_module_views_change_request_is_shown_as_markdown(client, login, team):
    um = module_in(team, S.SUBMITTED)
    service.review(um, "request_changes", actor=team.facilitator, comment=CHANGE_REQUEST)
    db.session.commit()
    login(team.tovholder)
    page = client.get(url(team)).get_data(as_text=True)
    box = changes_requested_box(page)
    assert "Jeres facilitator beder om ændringer" in box
    assert "<strong>jeres egne tal</strong>" in box
    assert "<li>hvor mange startede</li>" in box and "<li>hvor mange faldt fra</li>" in box
    assert "**" not in box


def test_module_views_change_request_markdown_is_sanitised(client, login, team):
    um = module_in(team, S.SUBMITTED)
    service.review(um, "request_changes", actor=team.facilitator,
                   comment="Se [her](javascript:alert(1)) <script>alert(2)</script>")
    db.session.commit()
    login(team.tovholder)
    box = changes_requested_box(client.get(url(team)).get_data(as_text=True))
    assert "javascript:" not in box and "<script" not in box


def test_module_views_review_without_comment_gets_the_error_summary(client, login, team):
    module_in(team, S.SUBMITTED)
    login(team.facilitator)
    response = client.post(url(team, suffix="/vurdering"),
                           data={"decision": "request_changes", "comment": "  "})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = page.split('id="error-summary"')[1].split("</div>\n  </div>")[0]
    assert 'data-module="error-summary"' in page
    assert 'href="#comment"' in summary and "påkrævet" in summary
    assert page.index('id="error-summary"') < page.index('id="review-heading"')
    assert 'aria-invalid="true"' in page.split('id="review-heading"')[1]
    assert stored(team).state == S.SUBMITTED


def resubmit(client, team, **changes):
    """Staff change the answers and submit again (the module has changes requested)."""
    um = stored(team)
    return client.post(url(team), data=form(um.version, intent="submit",
                                            **{**um.answers, **changes}))


def test_module_views_facilitator_sees_what_changed_since_asking(client, login, team):
    module_in(team, S.CHANGES_REQUESTED)
    login(team.tovholder)
    assert resubmit(client, team, why_it_matters="Seks af fjorten faldt fra.").status_code \
        == 302
    staff_page = client.get(url(team)).get_data(as_text=True)
    assert "Ændringer siden du bad om ændringer" not in staff_page
    client.post("/log-ud")
    login(team.facilitator)
    page = client.get(url(team)).get_data(as_text=True)
    assert "Ændringer siden du bad om ændringer" in page
    section = page.split('id="since-review-heading"')[1].split("</section>\n  </section>")[0]
    assert "Revision 1" in section and "revision 2" in section
    assert "<del>" in section and COMPLETE_UDFORDRING["why_it_matters"] in section
    assert "<ins>" in section and "Seks af fjorten faldt fra." in section
    assert COMPLETE_UDFORDRING["health_offer"] not in section  # unchanged: not listed
    assert "revisioner?fra=1&amp;til=2" in section
    assert page.index('id="since-review-heading"') < page.index('id="review-heading"')


def test_module_views_resubmitted_unchanged_says_so(client, login, team):
    module_in(team, S.CHANGES_REQUESTED)
    login(team.tovholder)
    assert resubmit(client, team).status_code == 302
    client.post("/log-ud")
    login(team.facilitator)
    page = client.get(url(team)).get_data(as_text=True)
    assert "Ingen svar er ændret, siden der blev bedt om ændringer." in page


def test_module_views_revisions_page_marks_submitted_and_reviewed(client, login, team):
    um = module_in(team, S.CHANGES_REQUESTED)
    service.save_answers(um, {"why_it_matters": "Nye tal."}, actor=team.staff,
                         base_version=um.version)  # revision 2: never submitted
    service.save_answers(um, {"why_it_matters": "Nye tal, rettet."}, actor=team.staff,
                         base_version=um.version)  # revision 3
    service.submit(um, get_spec("udfordring"), actor=team.staff)
    service.review(um, "approve", actor=team.facilitator, comment="Godkendt.")
    db.session.commit()
    login(team.facilitator)
    page = client.get(url(team, suffix="/revisioner")).get_data(as_text=True)
    assert "Indsendt og vurderet" in page
    rows = {}
    for row in page.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]:
        number = int(row.split("<td>")[1].split("</td>")[0])
        steps = row.split('class="revision-steps">')[1].split("</td>")[0]
        rows[number] = [part.split("</span>")[0].split(">")[-1]
                        for part in steps.split("<span")[1:]]
    assert rows == {1: ["Indsendt", "Ændringer ønsket"], 2: [],
                    3: ["Indsendt", "Godkendt"]}


def test_module_views_staff_withdraw_a_submission(client, login, team):
    module_in(team, S.SUBMITTED)
    login(team.facilitator)
    assert "Træk indsendelsen tilbage" not in client.get(url(team)).get_data(as_text=True)
    client.post("/log-ud")
    login(team.staff)
    page = client.get(url(team)).get_data(as_text=True)
    assert "Træk indsendelsen tilbage" in page
    assert f'action="{url(team, suffix="/traek-tilbage")}"' in page
    # Without the form's CSRF token nothing happens.
    assert client.post(url(team, suffix="/traek-tilbage"), csrf=False).status_code == 400
    assert stored(team).state == S.SUBMITTED
    response = client.post(url(team, suffix="/traek-tilbage"), follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Indsendelsen er trukket tilbage" in page
    assert "Trukket tilbage" in page.split('id="timeline-heading"')[1]
    assert 'name="challenge_title"' in page  # editable again
    um = stored(team)
    assert um.state == S.DRAFT
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "module.withdraw", AuditEvent.object_id == um.id)).all()
    assert [(e.actor_id, e.details["unit_id"], e.details["module"]) for e in events] == [
        (team.staff.id, team.unit.id, "udfordring")]
    # Once withdrawn there is nothing to withdraw: a clear message, not an error page.
    again = client.post(url(team, suffix="/traek-tilbage"))
    assert again.status_code == 409 and "ikke muligt" in again.get_data(as_text=True)


def test_module_views_facilitator_cannot_withdraw(client, login, team):
    module_in(team, S.SUBMITTED)
    login(team.facilitator)
    assert client.post(url(team, suffix="/traek-tilbage")).status_code == 403
    assert stored(team).state == S.SUBMITTED


def test_module_views_facilitator_reopens_an_approved_module(client, login, team):
    module_in(team, S.APPROVED)
    login(team.tovholder)
    assert "Genåbn modulet" not in client.get(url(team)).get_data(as_text=True)
    client.post("/log-ud")
    login(team.facilitator)
    page = client.get(url(team)).get_data(as_text=True)
    assert "Genåbn modulet" in page and 'id="review-heading"' not in page
    empty = client.post(url(team, suffix="/genaabn"), data={"comment": ""})
    assert empty.status_code == 422
    page = empty.get_data(as_text=True)
    assert 'id="error-summary"' in page and 'href="#comment"' in page
    assert stored(team).state == S.APPROVED
    done = client.post(url(team, suffix="/genaabn"), data={"comment": CHANGE_REQUEST},
                       follow_redirects=True)
    assert "Modulet er genåbnet" in done.get_data(as_text=True)
    um = stored(team)
    assert um.state == S.CHANGES_REQUESTED and um.approved_at is None
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "module.reopen", AuditEvent.object_id == um.id)).all()
    assert [(e.actor_id, e.details["module"]) for e in events] == [
        (team.facilitator.id, "udfordring")]
    client.post("/log-ud")
    login(team.tovholder)
    page = client.get(url(team)).get_data(as_text=True)
    assert "<strong>jeres egne tal</strong>" in changes_requested_box(page)
    assert "Genåbnet" in page.split('id="timeline-heading"')[1]
    assert 'name="challenge_title"' in page  # the unit edits again


def test_module_views_unanswered_questions_sent_empty_are_no_change(client, login, team):
    """The form sends every question; those never answered come as empty, which is the
    same as what is stored – no new revision."""
    um = module_in(team, S.DRAFT)
    login(team.tovholder)
    response = client.post(url(team), data=form(um.version, **COMPLETE_UDFORDRING),
                           follow_redirects=True)
    assert "Intet er ændret" in response.get_data(as_text=True)
    assert [r.number for r in stored(team).revisions] == [1]
