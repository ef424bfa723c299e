"""What the hostile-input fuzzer (tests/test_fuzz_*.py) found, each kept as a test of its
own: the smallest request that showed it."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from laks.extensions import db
from laks.models import AuditEvent, ModuleComment
from laks.privacy import looks_like_cpr


@pytest.mark.parametrize("body", ["[]", '[["email", "a@b.dk", "x"]]', '"tekst"', "1", "null",
                                  '{"email": ["a", "b"]}'],
                         ids=["empty-list", "list-of-triples", "string", "number", "null",
                              "object"])
def test_fuzz_found_a_json_body_is_a_bad_request(client, body):
    # Flask-WTF reads a JSON body as the form; a list of three made it fail with a 500.
    response = client.post("/log-ind", data=body, content_type="application/json",
                           headers={"X-CSRFToken": client.csrf_token()})
    assert response.status_code == 400
    assert "Ugyldig forespørgsel" in response.get_data(as_text=True)


def test_fuzz_found_a_json_comment_is_not_stored(client, login, team):
    login(team.facilitator)
    url = f"/enheder/{team.unit.id}/moduler/udfordring/kommentarer"
    response = client.post(url, data=json.dumps({"body": "Via JSON"}),
                           content_type="application/json",
                           headers={"X-CSRFToken": client.csrf_token()})
    assert response.status_code == 400
    assert db.session.query(ModuleComment).count() == 0
    # The same comment as a form is taken, as before.
    assert client.post(url, data={"body": "Som formular"}).status_code == 302


def _chunked(client, url: str, body: bytes):
    """``body`` sent in chunks, as a server that reads chunked bodies hands it on: no
    Content-Length to check beforehand."""
    return client.post(url, input_stream=io.BytesIO(body), csrf=False,
                       content_type="application/x-www-form-urlencoded",
                       headers={"Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})


def test_fuzz_found_a_chunked_body_over_the_limit_is_refused_not_cut(client, login, team):
    # Werkzeug read a chunked body up to the 2 MB limit and stopped there without a word:
    # the form was taken, cut short.
    login(team.facilitator)
    url = f"/enheder/{team.unit.id}/moduler/udfordring/kommentarer"
    token = client.csrf_token().encode()
    response = _chunked(client, url, b"csrf_token=" + token + b"&body=Hej&pad="
                        + b"x" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert "større, end laks tager imod" in response.get_data(as_text=True)
    assert db.session.query(ModuleComment).count() == 0
    # A chunked body within the limit is read whole.
    response = _chunked(client, url, b"csrf_token=" + token + b"&pad=" + b"x" * 1_000_000
                        + b"&body=Hele+teksten")
    assert response.status_code == 302
    assert [c.body for c in db.session.query(ModuleComment)] == ["Hele teksten"]


@pytest.mark.parametrize("who", ["observer", "anonymous"])
def test_fuzz_found_a_cpr_number_in_an_address_is_not_logged(client, login, team, who):
    # The access log kept the address of a refused request as it was sent: with a CPR
    # number in it, the number was stored.
    if who == "observer":
        login(team.observer)
    base = f"/enheder/{team.unit.id}/afproevning/maalinger"
    assert client.post(f"{base}/010190-1234/punkter").status_code in (302, 403)
    assert client.post(f"{base}/01/01/90/1234/punkter").status_code in (302, 403, 404)
    assert client.post(f"{base}/m-fremmoede/punkter").status_code in (302, 403)
    paths = [e.details["path"] for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "access.refused")
        .order_by(AuditEvent.id))]
    assert paths[0] == f"{base}/…/punkter"
    assert paths[-1] == f"{base}/m-fremmoede/punkter"
    assert not any(looks_like_cpr(path) for path in paths)
