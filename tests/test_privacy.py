"""No personal data about citizens: CPR-like text is found, whatever its check digit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from laks.privacy import any_cpr, looks_like_cpr


@pytest.mark.parametrize(
    "text",
    ["211062-5629", "2110625629", "borgeren (010190-1234) kom", "født 311299-4321.",
     "070707-0707"],
    ids=["hyphen", "no-hyphen", "in-text", "end-of-sentence", "fails-modulus-11"],
)
def test_privacy_finds_cpr_numbers(text):
    assert looks_like_cpr(text)


@pytest.mark.parametrize(
    "text",
    ["8 af 12 gennemførte", "tlf. 70 10 10 10", "sagsnr. 2016-04-1234", "311399-1234",
     "12345678901", "pris 7.700 kr.", "", None],
    ids=["counts", "phone", "case-number", "invalid-date", "eleven-digits", "price", "empty",
         "none"],
)
def test_privacy_leaves_other_numbers_alone(text):
    assert not looks_like_cpr(text)


@given(st.dates(min_value=__import__("datetime").date(1940, 1, 1),
                max_value=__import__("datetime").date(2020, 12, 31)),
       st.integers(min_value=0, max_value=9999), st.booleans())
def test_privacy_any_real_birth_date_with_any_sequence_is_refused(birth, sequence, hyphen):
    # The 7th digit selects the century; pick one that gives back this birth year.
    year = birth.year
    century_digit = "0" if year < 2000 else "4"
    seq = f"{century_digit}{sequence % 1000:03d}"
    number = f"{birth:%d%m%y}{'-' if hyphen else ''}{seq}"
    assert looks_like_cpr(f"tekst {number} tekst")


def test_privacy_nested_values():
    assert any_cpr([{"who": "Sygeplejerske", "what": "ringede til 0101901234"}])
    assert not any_cpr([{"who": "Sygeplejerske", "count": 5}, ["ok"]])
