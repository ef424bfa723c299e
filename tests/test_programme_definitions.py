"""Module questions belong to a programme: a new programme starts from the network's, a
change reaches one programme only, a module already answered keeps its questions, and the
editor moves, retires and takes back questions and changes a choice's options."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from laks.audit_log import audit_page
from laks.enums import MODULE_KEYS, ModuleState, Role
from laks.extensions import db
from laks.models import AuditEvent, ModuleDefinition
from laks.services import definitions as service
from laks.services import network
from laks.services.definitions import get_spec, module_spec
from laks.services.modules import save_answers, submit, unit_module_for
from tests.catalogue_support import demo_answers, fill_module

NEW_QUESTION = {"key": "partners", "kind": "text", "required": True,
                "label": {"da": "Hvem samarbejder I med?", "en": "Who are your partners?"}}


def _fresh(module_key: str, programme_id: int | None = None):
    """The spec as the database holds it now: requests run in their own context, so what
    this test read before them is forgotten first."""
    db.session.expire_all()
    service._cache().clear()
    return get_spec(module_key, programme_id)


def _base(unit) -> str:
    return f"/admin/programmer/{unit.programme_id}/moduler"


def _page(client, unit, key="udfordring") -> str:
    return client.get(f"/enheder/{unit.id}/moduler/{key}").get_data(as_text=True)


def test_a_new_programme_starts_from_the_networks_current_questions(team):
    service.update_question(actor=team.admin, module_key="udfordring",
                            question_key="health_offer", label_da="Hvilket tilbud?",
                            label_en="", help_da="", help_en="", required=True)
    programme = network.create_programme(
        actor=team.admin, name="LAKS 2027", starts_on=date(2027, 1, 1),
        ends_on=date(2027, 12, 31),
        dues={key: date(2027, 2 * i, 1) for i, key in enumerate(MODULE_KEYS, start=1)})
    db.session.commit()
    own = db.session.scalars(select(ModuleDefinition.module_key).where(
        ModuleDefinition.programme_id == programme.id)).all()
    assert sorted(own) == sorted(MODULE_KEYS)
    assert get_spec("udfordring", programme.id).question("health_offer").label.da \
        == "Hvilket tilbud?"
    # A later change to the network's questions does not reach the programme already made.
    service.add_question(actor=team.admin, module_key="udfordring", section_key="challenge",
                         question=NEW_QUESTION)
    db.session.commit()
    assert get_spec("udfordring").question("partners") is not None
    assert get_spec("udfordring", programme.id).question("partners") is None
    # …nor the programme of the team, made before it.
    assert _fresh("udfordring", team.unit.programme_id).question("partners") is None


def test_a_question_added_to_one_programme_is_not_in_another(client, login, team, make_unit):
    elsewhere = make_unit("Andetsteds")
    login(team.admin)
    response = client.post(f"{_base(team.unit)}/udfordring/nyt-spoergsmaal", data={
        "section": "challenge", "key": "partners", "kind": "text",
        "label_da": "Hvem samarbejder I med?", "label_en": "", "help_da": "", "help_en": "",
        "options": "", "columns": "", "required": "y"})
    assert response.status_code == 302
    assert "Hvem samarbejder I med?" in _page(client, team.unit)
    assert "Hvem samarbejder I med?" not in _page(client, elsewhere)
    assert "Hvem samarbejder I med?" not in client.get(
        "/admin/moduler/udfordring").get_data(as_text=True)


def test_an_approved_module_shows_the_questions_it_was_answered_with(client, login, team):
    answers = demo_answers()["udfordring"]
    fill_module(team.unit, "udfordring", answers, staff=team.tovholder,
                facilitator=team.facilitator)
    fill_module(team.unit, "praecisering", demo_answers()["praecisering"],
                staff=team.tovholder, facilitator=team.facilitator, approve=False)
    programme = team.unit.programme
    for key in ("udfordring", "praecisering"):
        service.add_question(actor=team.admin, module_key=key,
                             section_key=get_spec(key).sections[0].key,
                             question=NEW_QUESTION, programme=programme)
    service.update_question(actor=team.admin, module_key="udfordring",
                            question_key="health_offer", label_da="Hvilket tilbud nu?",
                            label_en="", help_da="", help_en="", required=True,
                            programme=programme)
    db.session.commit()
    login(team.facilitator)
    approved = _page(client, team.unit)
    assert "Hvem samarbejder I med?" not in approved  # not "unanswered": it was not asked
    assert "Ikke besvaret endnu" not in approved
    assert "Hvilket sundhedstilbud drejer det sig om?" in approved  # the wording answered
    assert "Hvilket tilbud nu?" not in approved
    # A module still being written is answered with the programme's current questions.
    assert "Hvem samarbejder I med?" in _page(client, team.unit, "praecisering")
    # Reopened, the module is edited with today's questions, and must answer the new one.
    client.post("/log-ud")
    um = unit_module_for(team.unit, "udfordring")
    from laks.services.modules import reopen
    reopen(um, actor=team.facilitator, comment="Tilføj samarbejdspartnere.")
    db.session.commit()
    login(team.tovholder)
    page = _page(client, team.unit)
    assert "Hvem samarbejder I med?" in page and "Hvilket tilbud nu?" in page
    assert module_spec(um).question("partners") is not None


def test_questions_move_up_and_down_within_their_section(client, login, team):
    login(team.admin)
    base = f"{_base(team.unit)}/udfordring/spoergsmaal"
    first = [q.key for q in get_spec("udfordring").sections[0].questions]
    response = client.post(f"{base}/{first[0]}/flyt", data={"retning": "ned"})
    assert response.status_code == 302
    moved = [q.key for q in _fresh("udfordring", team.unit.programme_id).sections[0].questions]
    assert moved == [first[1], first[0], *first[2:]]
    client.post(f"{base}/{first[0]}/flyt", data={"retning": "op"})
    client.post(f"{base}/{first[0]}/flyt", data={"retning": "op"})  # at the top: stays
    back = [q.key for q in _fresh("udfordring", team.unit.programme_id).sections[0].questions]
    assert back == first
    assert client.post(f"{base}/{first[0]}/flyt", data={"retning": "sidelaens"}
                       ).status_code == 400
    client.post("/log-ud")
    login(team.tovholder)
    page = _page(client, team.unit)
    labels = [str(q.label.da) for q in get_spec("udfordring").sections[0].questions]
    assert page.index(labels[0]) < page.index(labels[1])
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action == "definition.move")).all()
    assert len(actions) == 2  # the move at the top changed nothing and wrote nothing


def test_a_retired_question_is_not_asked_but_its_answer_is_kept(client, login, team):
    um = unit_module_for(team.unit, "udfordring")
    save_answers(um, {"health_offer": "Rygestop"}, actor=team.tovholder, base_version=0)
    db.session.commit()
    login(team.admin)
    base = f"{_base(team.unit)}/udfordring/spoergsmaal/health_offer"
    assert client.post(f"{base}/udgaaet", data={"udgaaet": "ja"}).status_code == 302
    show = client.get(f"{_base(team.unit)}/udfordring").get_data(as_text=True)
    assert "Ikke længere spurgt" in show and "Spørg igen" in show
    client.post("/log-ud")
    login(team.tovholder)
    page = _page(client, team.unit)
    assert 'name="health_offer"' not in page  # not in the form
    # Saving the module keeps the retired answer; it is no longer required to submit.
    data = {**demo_answers()["udfordring"]}
    data.pop("health_offer")
    form = {k: v for k, v in data.items() if isinstance(v, str)}
    form["themes"] = data["themes"]
    form.update({"version": str(um.version), "intent": "submit"})
    response = client.post(f"/enheder/{team.unit.id}/moduler/udfordring", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.refresh(um)
    assert um.state == ModuleState.SUBMITTED
    assert um.answers["health_offer"] == "Rygestop"
    submitted = _page(client, team.unit)
    assert "Rygestop" in submitted and "Ikke længere spurgt" in submitted
    # Taken back into use, it is asked (and required) again.
    client.post("/log-ud")
    login(team.admin)
    client.post(f"{base}/udgaaet", data={"udgaaet": "nej"})
    assert _fresh("udfordring", team.unit.programme_id).question("health_offer").retired \
        is False


def test_a_retired_question_unanswered_is_not_shown(client, login, team):
    service.retire_question(actor=team.admin, module_key="udfordring",
                            question_key="health_offer", retired=True,
                            programme=team.unit.programme)
    db.session.commit()
    login(team.facilitator)  # reads the module, cannot edit it
    assert "Hvilket sundhedstilbud drejer det sig om?" not in _page(client, team.unit)


def test_the_options_of_a_choice_are_renamed_retired_and_added(client, login, team,
                                                               make_unit, make_user):
    chosen = unit_module_for(team.unit, "udfordring")
    save_answers(chosen, {"challenge_type": "opsoegende"}, actor=team.tovholder,
                 base_version=0)
    db.session.commit()
    login(team.admin)
    url = f"{_base(team.unit)}/udfordring/spoergsmaal/challenge_type/valgmuligheder"
    page = client.get(url).get_data(as_text=True)
    assert 'value="Opsøgende indsats"' in page
    options = get_spec("udfordring").question("challenge_type").options
    form = {}
    for i, option in enumerate(options):
        form[f"options-{i}-label_da"] = option.label.da
        form[f"options-{i}-label_en"] = option.label.en
    form["options-0-label_da"] = "Rekruttering af borgere"
    form["options-3-retired"] = "y"  # opsoegende
    form.update({"new_da": "Overgange mellem tilbud", "new_en": "Transitions"})
    assert client.post(url, data=form).status_code == 302
    question = _fresh("udfordring", team.unit.programme_id).question("challenge_type")
    assert [o.value for o in question.options] == [
        "rekruttering", "gennemfoersel", "fastholdelse", "opsoegende",
        "overgange_mellem_tilbud"]
    assert question.options[0].label.da == "Rekruttering af borgere"
    assert question.options[3].retired
    client.post("/log-ud")
    login(team.tovholder)
    mine = _page(client, team.unit)
    assert 'value="opsoegende"' in mine  # the unit that chose it keeps it while editing
    assert 'value="overgange_mellem_tilbud"' in mine and "Rekruttering af borgere" in mine
    other = make_unit("Nabo", programme=team.unit.programme)
    neighbour = make_user(Role.STAFF, other)
    client.post("/log-ud")
    login(neighbour)
    theirs = _page(client, other)
    assert 'value="opsoegende"' not in theirs and 'value="rekruttering"' in theirs


def test_options_all_retired_or_empty_are_refused_and_kept(client, login, team):
    login(team.admin)
    url = f"{_base(team.unit)}/udfordring/spoergsmaal/challenge_type/valgmuligheder"
    options = get_spec("udfordring").question("challenge_type").options
    form = {"new_da": "", "new_en": ""}
    for i, option in enumerate(options):
        form[f"options-{i}-label_da"] = option.label.da
        form[f"options-{i}-label_en"] = "Typed in English"
        form[f"options-{i}-retired"] = "y"
    response = client.post(url, data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Mindst én valgmulighed skal fortsat kunne vælges." in page
    assert page.count('value="Typed in English"') == len(options)
    form["options-1-label_da"] = ""
    form.pop("options-1-retired")
    response = client.post(url, data=form)
    assert response.status_code == 422
    assert "Skriv valgmuligheden på dansk." in response.get_data(as_text=True)
    assert _fresh("udfordring", team.unit.programme_id).question("challenge_type").options \
        == options
    # A question without options has no options page.
    assert client.get(f"{_base(team.unit)}/udfordring/spoergsmaal/health_offer/"
                      "valgmuligheder").status_code == 404


def test_the_programmes_questions_are_the_admins_alone(client, login, team):
    base = _base(team.unit)
    for who in (team.tovholder, team.facilitator, team.observer):
        login(who)
        assert client.get(f"{base}/").status_code == 403
        assert client.post(f"{base}/udfordring/spoergsmaal/health_offer/udgaaet",
                           data={"udgaaet": "ja"}).status_code == 403
        client.post("/log-ud")
    assert _fresh("udfordring", team.unit.programme_id).question("health_offer").retired \
        is False
    login(team.admin)
    assert client.get("/admin/programmer/999999/moduler/").status_code == 404
    index = client.get(f"{base}/").get_data(as_text=True)
    assert team.unit.programme.name in index
    assert f'href="{base}/"' in client.get("/admin/moduler/").get_data(as_text=True)


def test_the_audit_log_names_the_programme_of_a_changed_question(team):
    service.retire_question(actor=team.admin, module_key="udfordring",
                            question_key="health_offer", retired=True,
                            programme=team.unit.programme)
    db.session.commit()
    rows, _total = audit_page(page=1, action="definition.retire")
    assert [(row.action, row.object) for row in rows] == [
        ("Spørgsmål taget ud af brug", f"{team.unit.programme.name}: Udfordring")]


def test_submit_uses_the_programmes_required_questions(team):
    programme = team.unit.programme
    service.add_question(actor=team.admin, module_key="udfordring", section_key="challenge",
                         question=NEW_QUESTION, programme=programme)
    db.session.commit()
    um = unit_module_for(team.unit, "udfordring")
    save_answers(um, demo_answers()["udfordring"], actor=team.tovholder, base_version=0)
    from laks.services.modules import IncompleteModule
    try:
        submit(um, get_spec("udfordring", programme.id), actor=team.tovholder)
    except IncompleteModule as exc:
        assert [q.key for q in exc.missing] == ["partners"]
    else:
        raise AssertionError("submitted without the programme's required question")


def test_the_migration_gives_each_programme_its_own_copy(database_url, tmp_path,
                                                          instance_path):
    """A database from before: its definitions become the network's, each programme gets a
    copy with the same questions, and every definition its first kept version."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from tests.conftest import make_test_app
    from tests.test_migrations import empty_database

    maker = empty_database.__wrapped__(database_url, tmp_path)
    url = next(maker)
    try:
        app = make_test_app(url, instance_path)
        with app.app_context():
            upgrade(revision="8a6589a4408d")
            content = ('{"key": "udfordring", "title": "Udfordring", "sections": [{"key": "a", '
                       '"title": "A", "questions": [{"key": "q", "kind": "text", '
                       '"label": "Q"}]}]}')
            with db.engine.begin() as conn:
                conn.execute(text(
                    "INSERT INTO module_definition (module_key, content, revision, updated_at) "
                    "VALUES ('udfordring', :content, 4, CURRENT_TIMESTAMP)"), {"content": content})
                for slug in ("p2015", "p2027"):
                    conn.execute(text(
                        "INSERT INTO programme (slug, name, description, starts_on, ends_on, "
                        "status) VALUES (:slug, :slug, '', '2015-01-01', '2016-12-31', "
                        "'running')"), {"slug": slug})
            upgrade()
            with db.engine.connect() as conn:
                rows = conn.execute(text(
                    "SELECT d.programme_id, d.revision, d.content, v.revision "
                    "FROM module_definition d JOIN module_definition_version v "
                    "ON v.definition_id = d.id")).all()
            db.engine.dispose()
    finally:
        next(maker, None)
    assert sorted((row[0] is None, row[1], row[3]) for row in rows) == [
        (False, 4, 4), (False, 4, 4), (True, 4, 4)]
    assert len({str(row[2]) for row in rows}) == 1  # the same questions everywhere
