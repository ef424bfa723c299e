"""laks holds no personal data about citizens. This module finds text that looks like a CPR
number so that it can be refused before it is stored.

A CPR number is DDMMYY-SSSS with a real date. The modulus-11 check no longer holds for every
number issued since 2007, so it is deliberately not used: any ten digits (with or without
the hyphen) whose first six are a real, past birth date count as a CPR number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from stdnum.dk import cpr
from stdnum.exceptions import ValidationError

_CANDIDATE = re.compile(r"(?<![\d])(\d{6})[-‐‑ ]?(\d{4})(?![\d])")


def looks_like_cpr(text: str | None) -> bool:
    """True if ``text`` contains something shaped like a CPR number with a valid birth date."""
    if not text:
        return False
    for match in _CANDIDATE.finditer(text):
        try:
            cpr.validate(match.group(1) + match.group(2))
        except ValidationError:
            continue
        return True
    return False


def any_cpr(values: Iterable) -> bool:
    """True if any string among ``values`` (nested lists and dicts included) looks like one."""
    for value in values:
        if isinstance(value, str) and looks_like_cpr(value):
            return True
        if isinstance(value, dict) and any_cpr(value.values()):
            return True
        if isinstance(value, list | tuple) and any_cpr(value):
            return True
    return False
