"""What the pages keep rendered between requests (laks.views.fragments): a module's questions,
the page header, a unit's steps, the empty comment field. A kept piece is keyed by all it
shows, so the page is the same as one rendered from scratch – after a save, in the other
language, after the questions change, for another person, in another unit – and nothing of
one request (a CSRF token, an error, a conflict) is kept."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from laks.enums import Role
from laks.extensions import db
from laks.memo import BoundedCache, content_digest
from laks.models import UnitModule
from laks.services import definitions as definition_service
from laks.services import notifications
from laks.views import fragments
from laks.views.fragments import CSRF_SLOT, fragment_cache

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@pytest.fixture(autouse=True)
def empty_cache():
    fragment_cache.clear()
    yield fragment_cache
    fragment_cache.clear()


def url(unit, key="udfordring"):
    return f"/enheder/{unit.id}/moduler/{key}"


def page_of(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def without_tokens(html: str) -> str:
    return _TOKEN.sub("TOKEN", html)


def save(client, unit, version, **answers):
    response = client.post(url(unit), data={"version": str(version), "intent": "save",
                                            **answers})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def version_of(unit, key="udfordring") -> int:
    db.session.expire_all()
    return db.session.scalar(select(UnitModule.version).where(
        UnitModule.unit_id == unit.id, UnitModule.module_key == key))


def test_speed_fragments_a_kept_page_is_the_page_rendered_from_scratch(client, login, team):
    login(team.tovholder)
    save(client, team.unit, 0, challenge_title="Enlige mænd over 60")
    page_of(client, url(team.unit))  # with the message "Gemt."
    fragment_cache.clear()
    first = page_of(client, url(team.unit))
    assert fragment_cache.misses and not fragment_cache.hits
    again = page_of(client, url(team.unit))
    assert fragment_cache.hits >= 3  # the header, the steps, the questions, the comment field
    assert without_tokens(again) == without_tokens(first)
    fragment_cache.clear()
    assert without_tokens(page_of(client, url(team.unit))) == without_tokens(first)


def test_speed_fragments_a_save_shows_the_new_answers_and_version(client, login, team):
    login(team.tovholder)
    save(client, team.unit, 0, challenge_title="Første titel")
    assert 'value="Første titel"' in page_of(client, url(team.unit))
    save(client, team.unit, version_of(team.unit), challenge_title="Anden titel")
    page = page_of(client, url(team.unit))
    assert 'value="Anden titel"' in page and "Første titel" not in page
    assert f'name="version" type="hidden" value="{version_of(team.unit)}"' in page


def test_speed_fragments_each_request_has_its_own_csrf_token(client, login, team):
    """The logout forms in the kept header and the module form carry the token of the
    request – one the server accepts – never the slot that stands for it."""
    login(team.tovholder)
    for _ in range(2):
        page = page_of(client, url(team.unit))
        assert str(CSRF_SLOT) not in page
        tokens = {a or b for a, b in _TOKEN.findall(page)}
        assert len(tokens) == 1 and "csrf-slot" not in tokens.pop()
    token = _TOKEN.search(page_of(client, "/hjem"))
    response = client.post("/log-ud", data={"csrf_token": token.group(1) or token.group(2)})
    assert response.status_code == 302
    assert client.get("/hjem").status_code == 302  # logged out: sent to log in


def test_speed_fragments_the_language_is_part_of_the_key(client, login, team):
    login(team.tovholder)
    danish = page_of(client, url(team.unit))
    client.get("/sprog/en")
    english = page_of(client, url(team.unit))
    assert "Log out" in english and "Log ud" in danish
    assert "Required for submission." in english and "Required for submission." not in danish
    client.get("/sprog/da")
    assert without_tokens(page_of(client, url(team.unit))) == without_tokens(danish)


def test_speed_fragments_changed_questions_are_shown_at_once(client, login, team):
    login(team.tovholder)
    assert "Udfordringens titel, ny ordlyd" not in page_of(client, url(team.unit))
    spec = definition_service.get_spec("udfordring", team.unit.programme_id)
    question = spec.question("challenge_title")
    definition_service.update_question(
        actor=team.admin, module_key="udfordring", question_key="challenge_title",
        label_da="Udfordringens titel, ny ordlyd", label_en="Title, new wording",
        help_da="", help_en="", required=question.required, programme=team.unit.programme)
    db.session.commit()
    definition_service._cache().clear()
    assert "Udfordringens titel, ny ordlyd" in page_of(client, url(team.unit))


def test_speed_fragments_the_same_answers_in_another_unit_link_to_that_unit(
        client, login, team, make_user):
    """Two units with the same answers: each page's pieces are its own unit's."""
    login(team.tovholder)
    save(client, team.unit, 0, challenge_title="Samme titel")
    mine = page_of(client, url(team.unit))
    client.post("/log-ud", data={})
    other_staff = make_user(Role.STAFF, team.other_unit, tovholder=True, name="Otto Anden")
    login(other_staff)
    save(client, team.other_unit, 0, challenge_title="Samme titel")
    theirs = page_of(client, url(team.other_unit))
    assert f"/enheder/{team.unit.id}/" not in theirs
    assert f"/enheder/{team.other_unit.id}/" not in mine
    assert "Otto Anden" in theirs and "Tove Tovholder" not in theirs


def test_speed_fragments_the_header_is_each_persons_own(client, login, team):
    login(team.tovholder)
    assert "Tove Tovholder" in page_of(client, url(team.unit))
    client.post("/log-ud", data={})
    login(team.staff)
    page = page_of(client, url(team.unit))
    assert "Sanne Sygeplejerske" in page and "Tove Tovholder" not in page.split("<main")[0]


def test_speed_fragments_a_new_notification_shows_in_the_kept_header(client, login, team):
    login(team.tovholder)
    assert "Meddelelser (1 ny)" not in page_of(client, url(team.unit))
    notifications.notify([team.tovholder], "module_commented", "En kommentar", "home.index")
    db.session.commit()
    assert "Meddelelser (1 ny)" in page_of(client, url(team.unit))


def test_speed_fragments_an_error_page_is_rendered_and_not_kept(client, login, team):
    """A save with errors shows what was typed, with the errors; the next plain view shows
    the stored answers again, not the refused ones."""
    login(team.tovholder)
    response = client.post(url(team.unit), data={
        "version": "0", "intent": "save", "challenge_title": "Skrevet",
        "baseline_in_target_group": "mange"})
    assert response.status_code == 422
    assert 'value="mange"' in response.get_data(as_text=True)
    page = page_of(client, url(team.unit))
    assert 'value="mange"' not in page and "Skriv et tal" not in page


def test_speed_fragments_a_step_moved_on_shows_in_the_steps(client, login, team):
    """The unit's steps are kept by each module's state: a submitted module is shown as
    waiting at once."""
    from tests.test_workflow import COMPLETE_UDFORDRING

    login(team.tovholder)
    before = page_of(client, url(team.unit, "praecisering"))
    save(client, team.unit, 0, **COMPLETE_UDFORDRING)
    response = client.post(url(team.unit), data={
        "version": str(version_of(team.unit)), "intent": "submit", **COMPLETE_UDFORDRING})
    assert response.status_code == 302
    after = page_of(client, url(team.unit, "praecisering"))
    steps = re.compile(r'<nav class="step-guide".*?</nav>', re.S)
    assert steps.search(before).group(0) != steps.search(after).group(0)
    assert "Indsendt" in steps.search(after).group(0)


def test_speed_fragments_the_cache_is_bounded():
    cache = BoundedCache(3)
    for n in range(5):
        cache.get_or_make(n, lambda n=n: f"piece {n}")
    assert len(cache) == 3 and cache.get(0) is None and cache.get(4) == "piece 4"


def test_speed_fragments_answers_are_keyed_by_content_not_order():
    assert content_digest({"a": 1, "b": [1, 2]}) == content_digest({"b": [1, 2], "a": 1})
    assert content_digest({"a": 1}) != content_digest({"a": 2})
    assert content_digest({"a": [1, 2]}) != content_digest({"a": [2, 1]})


def test_speed_fragments_kept_keys_take_lists(app):
    """A template's key may hold a filter's list: it is kept as a tuple."""
    with app.test_request_context():
        template = app.jinja_env.from_string(
            "{% kept [1, 2], 'x' %}{{ n }}{% endkept %}")
        assert template.render(n="first") == "first"
        assert template.render(n="second") == "first"  # the key, not n, decides
    assert fragments._frozen([1, [2, 3]]) == (1, (2, 3))


def test_speed_fragments_the_history_shows_new_comments_and_renamed_people(
        client, login, team):
    """The timeline and discussion are kept by the steps and comments shown and by their
    people's names and roles: a new comment, or a person renamed, shows at once."""
    login(team.tovholder)
    save(client, team.unit, 0, challenge_title="Titel")
    page_of(client, url(team.unit))
    assert "Ingen kommentarer endnu." in page_of(client, url(team.unit))
    assert client.post(url(team.unit) + "/kommentarer",
                       data={"body": "Første **kommentar**"}).status_code == 302
    page = page_of(client, url(team.unit))
    assert "<strong>kommentar</strong>" in page and "Ingen kommentarer endnu." not in page
    team.tovholder.name = "Tove Omdøbt"
    db.session.commit()
    discussion = page_of(client, url(team.unit)).split('id="discussion"')[1]
    assert "Tove Omdøbt" in discussion and "Tove Tovholder" not in discussion
