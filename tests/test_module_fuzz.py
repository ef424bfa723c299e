"""Whatever a person (or a script) posts to a module form, laks answers with a page or a
message – never a server error – and stores only what passes the checks."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from laks.models import UnitModule

FIELDS = ["challenge_title", "challenge_type", "health_offer", "target_group",
          "baseline_in_target_group", "baseline_reached", "themes", "version", "intent",
          "unknown_field"]

values = st.one_of(st.text(max_size=300), st.integers().map(str),
                   st.sampled_from(["", "12,5", "1.200", "-1", "NaN", "inf", "1e400",
                                    "rekruttering", "tobak", "add_row:themes", "submit",
                                    "010190-1234", "<script>x</script>"]))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(FIELDS), values, max_size=8))
def test_module_fuzz_save_never_fails(client, login, team, data):
    login(team.tovholder)
    response = client.post(f"/enheder/{team.unit.id}/moduler/udfordring", data=data)
    assert response.status_code in (200, 302, 409, 422), response.status_code
    autosave = client.post(f"/enheder/{team.unit.id}/moduler/udfordring/autosave", data=data)
    assert autosave.status_code in (200, 409, 422), autosave.status_code
    from laks.extensions import db
    from laks.privacy import any_cpr

    db.session.expire_all()
    for um in db.session.query(UnitModule):
        assert not any_cpr(um.answers.values())
        assert len(um.answers.get("challenge_title") or "") <= 200
