"""What the hostile-input fuzzer (test_fuzz_endpoints.py) found, each kept as a test of its
own: the smallest request that showed it."""

from __future__ import annotations

import json

import pytest

from laks.extensions import db
from laks.models import ModuleComment


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
