"""Whatever a person (or a script) posts to a module form, laks answers with a page or a
message – never a server error – and stores only what passes the checks."""

from __future__ import annotations

import io
import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from laks.models import UnitModule

FIELDS = ["challenge_title", "challenge_type", "health_offer", "target_group",
          "baseline_in_target_group", "baseline_reached", "themes", "version", "intent",
          "unknown_field"]

#: Stands for a file upload in a field; each request gets a fresh one.
FILE = object()

values = st.one_of(st.text(max_size=300), st.integers().map(str),
                   st.sampled_from(["", "12,5", "1.200", "1 234", "1\u00a0234", "-1", "NaN",
                                    "inf", "-Infinity", "1e400", "1e1000000", "1e5000",
                                    "9" * 5000, "rekruttering", "tobak", "add_row:themes",
                                    "submit", "010190-1234", "01.01.90 1234", "01*01*90-1234",
                                    "<script>x</script>", "\x00", "a\x00b", FILE]))


def _request_data(data: dict):
    """The posted form: FILE becomes a fresh upload; a list sends a field several times."""
    out = {}
    for key, value in data.items():
        items = value if isinstance(value, list) else [value]
        out[key] = [(io.BytesIO(b"010190-1234\x00"), "svar.txt") if v is FILE else v
                    for v in items]
    return out


def _assert_nothing_bad_stored():
    from laks.extensions import db
    from laks.privacy import any_cpr

    db.session.expire_all()
    for um in db.session.query(UnitModule):
        assert not any_cpr(um.answers.values())
        assert "\\u0000" not in json.dumps(um.answers)
        assert len(um.answers.get("challenge_title") or "") <= 200
        for key in ("baseline_in_target_group", "baseline_reached"):
            value = um.answers.get(key)
            assert value is None or (isinstance(value, int | float)
                                     and math.isfinite(value) and 0 <= value <= 1000000)
        assert len(um.answers.get("activities") or []) <= 30


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(FIELDS),
                       st.one_of(values, st.lists(values, min_size=2, max_size=3)),
                       max_size=8))
def test_module_fuzz_save_never_fails(client, login, team, data):
    login(team.tovholder)
    response = client.post(f"/enheder/{team.unit.id}/moduler/udfordring",
                           data=_request_data(data))
    assert response.status_code in (200, 302, 409, 422), response.status_code
    autosave = client.post(f"/enheder/{team.unit.id}/moduler/udfordring/autosave",
                           data=_request_data(data))
    assert autosave.status_code in (200, 409, 422), autosave.status_code
    _assert_nothing_bad_stored()


#: Row numbers as a page sends them, and as a script might: huge, negative, other digits.
row_indices = st.one_of(st.integers(min_value=0, max_value=40).map(str),
                        st.sampled_from(["9" * 5000, "1" * 20, "-1", "01", "x", "\u0663",
                                         "\u00b2", ""]))
row_keys = st.builds(lambda i, c: f"activities-{i}-{c}", row_indices,
                     st.sampled_from(["who", "what", "where", "when", "unknown"]))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.one_of(row_keys, st.sampled_from(["trial_action", "start_date",
                                                            "intent", "version"])),
                       values, max_size=12),
       st.integers(min_value=0, max_value=80))
def test_module_fuzz_rows_never_fail_and_are_never_cut(client, login, team, data, many):
    login(team.tovholder)
    data = {**{f"activities-{i}-who": f"Person {i}" for i in range(many)}, **data}
    response = client.post(f"/enheder/{team.unit.id}/moduler/handleplan",
                           data=_request_data(data))
    assert response.status_code in (200, 302, 409, 422), response.status_code
    if many > 30 and data.get("intent") in (None, "save", "submit"):
        assert response.status_code in (409, 422)  # more rows than allowed: nothing saved
    _assert_nothing_bad_stored()
