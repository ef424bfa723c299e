"""The CSRF token, fuzzed: every endpoint that changes something, with its form as the page
fills it, refuses a request without a token, with a forged one, with another session's and
with the person's own from before they logged in again – a 400, and nothing changed."""

from __future__ import annotations

from tests.fuzz_support import (
    MUTATING,
    FormFields,
    check_response,
    database_snapshot,
    label,
    mutating_rules,
    request_kwargs,
)
from tests.test_fuzz_endpoints import (  # noqa: F401 - the fixtures, shared
    actors,
    discover_forms,
    error_log,
    fillings,
    quick_sqlite,
    world,
)


def test_fuzz_csrf_token_missing_foreign_or_old_is_refused(app, world, error_log):  # noqa: F811
    """Every endpoint that changes something, with its form as the page fills it, from the
    network admin, the tovholder and an anonymous visitor: without a token, with a valid
    token of another session, with the person's own token from before they logged in again,
    and with a forged one – a 400 and nothing changed."""
    people = actors(app, world)
    forms = discover_forms(app, world, people, error_log)
    stranger = app.test_client()
    foreign = stranger.csrf_token()
    old = {}
    for role in ("admin", "tovholder"):
        old[role] = people[role].csrf_token()
        people[role].sign_in()  # a new session, with a new token
        assert people[role].csrf_token() != old[role]
    before = database_snapshot()
    refused = 0
    for rule in mutating_rules(app):
        target = forms.get(label(rule), FormFields())
        pairs = [(name, sorted(values)[0] if values else "")
                 for name, values in sorted(target.values.items())]
        path = fillings(world, rule, "own")[0]
        for role in ("admin", "tovholder", "anonymous"):
            actor = people[role]
            tokens = {"none": None, "another session's": foreign, "forged": "x" * 40,
                      "from before logging in again": old.get(role)}
            for how, token in tokens.items():
                if how == "from before logging in again" and token is None:
                    continue
                actor.ensure()
                kwargs = request_kwargs(pairs, "form", token or "", target.files)
                if token is None:
                    kwargs["data"] = kwargs["data"].split(b"&", 1)[1] if pairs else b""
                error_log.records.clear()
                for method in sorted(rule.methods & MUTATING):
                    response = actor.client.open(path, method=method, **kwargs)
                    what = f"{role}, token {how}: {method} {path}"
                    check_response(response, error_log.records, what)
                    assert response.status_code == 400, what
                    refused += 1
        assert database_snapshot() == before, f"{label(rule)} changed something"
    print(f"{refused} requests refused")
