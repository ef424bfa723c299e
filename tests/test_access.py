"""The access policy: the rule table itself, deny-by-default over the URL map, and a matrix of
every role (and anonymous) against its own unit and another unit."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from laks.access import RULES, can, require
from laks.enums import ModuleState, Role
from laks.models import UnitModule
from laks.views import ACCESS_ATTR

# --- the table as a table ----------------------------------------------------------------------

# (action, who) -> allowed; "who" is a role plus its relation to the unit in question.
WHO = ["anonymous", "staff_own", "staff_other", "tovholder_own", "facilitator_own",
       "facilitator_other", "admin", "observer"]

EXPECTED = {
    "public.view": set(WHO),
    "home.view": set(WHO) - {"anonymous"},
    "account.logout": set(WHO) - {"anonymous"},
    "account.two_factor": set(WHO) - {"anonymous"},
    "account.two_factor_off": {"staff_own", "staff_other", "tovholder_own", "observer"},
    "user.two_factor_reset": {"admin"},
    "unit.view": {"staff_own", "tovholder_own", "facilitator_own", "admin", "observer"},
    # module.* rows are asked about a draft module of the unit
    "module.view": {"staff_own", "tovholder_own", "facilitator_own", "admin", "observer"},
    "module.edit": {"staff_own", "tovholder_own"},
    "module.save": {"staff_own", "tovholder_own"},
    "module.submit": {"staff_own", "tovholder_own"},
    "module.withdraw": {"staff_own", "tovholder_own"},
    "module.review": {"facilitator_own", "admin"},
    "module.comment": {"staff_own", "tovholder_own", "facilitator_own", "admin"},
    "progress.view": {"staff_own", "tovholder_own", "facilitator_own", "admin", "observer"},
    "progress.set": {"facilitator_own", "admin"},
    "testlog.data": {"staff_own", "tovholder_own", "facilitator_own", "admin"},
    "definition.edit": {"admin"},
    "programme.view": {"admin", "observer"},
    "overview.view": {"facilitator_own", "facilitator_other", "admin", "observer"},
    "overview.totals": {"admin", "observer"},
    "programme.measures": {"admin"},
    "user.list": {"admin"},
    "audit.view": {"admin"},
    "catalogue.consent": {"tovholder_own"},
    "catalogue.curate": {"admin"},
    "programme.create": {"admin"},
    "programme.edit": {"admin"},
    "unit.create": {"admin"},
    "unit.edit": {"admin"},
    "unit.move": {"admin"},
    "unit.close": {"admin"},
    "unit.reopen": {"admin"},
    "unit.members": {"admin"},
    "user.create": {"admin"},
    "user.invite": {"admin"},
    "user.deactivate": {"admin"},
    "user.activate": {"admin"},
    "account.profile": set(WHO) - {"anonymous"},
    "account.notifications": set(WHO) - {"anonymous"},
    "account.password": set(WHO) - {"anonymous"},
    "mail.view": {"admin"},
    "mail.resend": {"admin"},
}


@pytest.fixture
def people(make_unit, make_user):
    own, other = make_unit("Egen enhed"), make_unit("Anden enhed")
    return own, {
        "anonymous": AnonymousUserMixin(),
        "staff_own": make_user(Role.STAFF, own),
        "staff_other": make_user(Role.STAFF, other),
        "tovholder_own": make_user(Role.STAFF, own, tovholder=True),
        "facilitator_own": make_user(Role.FACILITATOR, own),
        "facilitator_other": make_user(Role.FACILITATOR, other),
        "admin": make_user(Role.ADMIN),
        "observer": make_user(Role.OBSERVER),
    }


def test_access_table_covers_every_action():
    assert set(EXPECTED) == set(RULES)


@pytest.mark.parametrize("action", sorted(EXPECTED), ids=str)
def test_access_table_row(people, action):
    unit, who = people
    obj = UnitModule(unit=unit, module_key="udfordring", state=ModuleState.DRAFT) \
        if action.startswith("module.") else unit
    allowed = {name for name, user in who.items() if can(user, action, obj)}
    assert allowed == EXPECTED[action]


@pytest.mark.parametrize("state", list(ModuleState), ids=str)
def test_access_module_edit_follows_state(people, state):
    unit, who = people
    module = UnitModule(unit=unit, module_key="handleplan", state=state)
    editable = state in (ModuleState.NOT_STARTED, ModuleState.DRAFT,
                         ModuleState.CHANGES_REQUESTED)
    assert can(who["staff_own"], "module.edit", module) == editable
    assert not can(who["observer"], "module.edit", module)
    assert not can(who["facilitator_own"], "module.edit", module)


def test_access_unknown_action_is_an_error(people):
    with pytest.raises(LookupError):
        can(people[1]["admin"], "unit.destroy")


def test_access_require_distinguishes_anonymous_from_forbidden(people):
    from werkzeug.exceptions import Forbidden, Unauthorized

    unit, who = people
    with pytest.raises(Unauthorized):
        require(who["anonymous"], "unit.view", unit)
    with pytest.raises(Forbidden):
        require(who["staff_other"], "unit.view", unit)
    require(who["staff_own"], "unit.view", unit)


# --- deny by default ---------------------------------------------------------------------------


def test_access_every_endpoint_declares_a_rule(app):
    undeclared = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], ACCESS_ATTR, None) not in RULES
    ]
    assert undeclared == []


def test_access_undeclared_endpoint_is_refused(app, client):
    app.add_url_rule("/unguarded", "unguarded", lambda: "secret")
    response = client.get("/unguarded")
    assert response.status_code == 403
    assert b"secret" not in response.data


# --- the matrix over real endpoints -------------------------------------------------------------

# Pages that show a unit's data; {unit} is replaced by the unit's id.
UNIT_PAGES = ["/enheder/{unit}"]
ADMIN_PAGES = ["/admin/brugere", "/admin/log"]
OVERVIEW_PAGES = ["/programmer/{programme}"]
# Each signed-in person belongs (where their role has units) to the unit called "own".
MATRIX_WHO = ["anonymous", "staff", "tovholder", "facilitator", "admin", "observer"]


def _roles_matrix():
    cases = []
    for who in MATRIX_WHO:
        for url in UNIT_PAGES:
            cases.append((who, url, "own", who != "anonymous"))
            cases.append((who, url, "other", who in {"admin", "observer"}))
        for url in ADMIN_PAGES:
            cases.append((who, url, "own", who == "admin"))
        for url in OVERVIEW_PAGES:
            cases.append((who, url, "own", who in {"admin", "observer"}))
    return cases


@pytest.mark.parametrize(
    ("who", "url_pattern", "which", "allowed"),
    _roles_matrix(),
    ids=lambda v: str(v) if not isinstance(v, bool) else ("allowed" if v else "refused"),
)
def test_access_matrix(client, login, make_unit, make_user, who, url_pattern, which, allowed):
    own = make_unit("Egen enhed", target_group="Egen målgruppe")
    other = make_unit("Anden enhed", target_group="Hemmelig målgruppe")
    users = {
        "staff": lambda: make_user(Role.STAFF, own),
        "tovholder": lambda: make_user(Role.STAFF, own, tovholder=True),
        "facilitator": lambda: make_user(Role.FACILITATOR, own),
        "admin": lambda: make_user(Role.ADMIN),
        "observer": lambda: make_user(Role.OBSERVER),
    }
    if who != "anonymous":
        assert login(users[who]()).status_code == 302
    target = own if which == "own" else other
    response = client.get(url_pattern.format(unit=target.id, programme=target.programme_id))
    if allowed:
        assert response.status_code == 200
        if "{unit}" in url_pattern:
            assert target.target_group.encode() in response.data
    elif who == "anonymous":
        assert response.status_code == 302
        assert "/log-ind" in response.headers["Location"]
    else:
        assert response.status_code in (403, 404)
        assert b"Hemmelig" not in response.data
