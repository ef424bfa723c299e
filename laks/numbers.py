"""Numbers as people in Denmark type them, read the same way in every form and in every
imported file: "1.234", "1 234", "12,5", "1.234,5" – and the English "12.5".

The text's length is bounded before anything is parsed, and exponents, infinity and NaN
are refused with a message, so that no number typed or imported can stall a worker or
reach the database as something that is not a number.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

NUMBER_MESSAGE = _l("Write a number, e.g. 12 or 12,5.")

#: The longest number text that is parsed at all: enough for any real count or amount,
#: and a bound on the work a number can cause.
NUMBER_MAX_LENGTH = 40
#: Danish "1.234.567,5" / "1 234 567,5" (one kind of thousands separator), or digits with a
#: decimal comma; a first group starting with 0 is not thousands ("0.500" is a half).
_DANISH_NUMBER = re.compile(
    r"[+-]?(?:[1-9][0-9]{0,2}(?P<sep>[. ])[0-9]{3}(?:(?P=sep)[0-9]{3})*|[0-9]+)(?:,[0-9]+)?")
#: English "12.5": a decimal point that is not a thousands separator.
_ENGLISH_NUMBER = re.compile(r"[+-]?[0-9]+\.[0-9]+")
_EXPONENT = re.compile(r"[0-9.,]\s*[eE]|^[+-]?[eE]")
_NOT_FINITE = re.compile(r"[+-]?(?:inf(?:inity)?|s?nan|∞)", re.IGNORECASE)


def parse_number(text: str) -> Decimal:
    """A number as people in Denmark write it: "1.234", "1 234", "12,5", "1.234,5", or
    the English "12.5". Raises ValueError with a message saying how to write it: for a
    text over :data:`NUMBER_MAX_LENGTH` characters (checked before any parsing), an
    exponent ("1e5"), infinity or NaN, or anything else that is not a number."""
    raw = unicodedata.normalize("NFKC", text).strip().replace("\u2212", "-")
    if len(raw) > NUMBER_MAX_LENGTH:
        raise ValueError(_l("The number is too long: write it with at most %(max)d "
                            "characters.", max=NUMBER_MAX_LENGTH))
    if _NOT_FINITE.fullmatch(raw):
        raise ValueError(_l("Write an ordinary number, e.g. 1.234 or 12,5 – not infinity "
                            "or “NaN”."))
    if _EXPONENT.search(raw):
        raise ValueError(_l("Write the number without an exponent (e), e.g. 1.234 or 12,5."))
    if _DANISH_NUMBER.fullmatch(raw):
        raw = raw.replace(".", "").replace(" ", "").replace(",", ".")
    elif not _ENGLISH_NUMBER.fullmatch(raw):
        raise ValueError(NUMBER_MESSAGE)
    try:
        return Decimal(raw)
    except InvalidOperation:  # the patterns above admit only digits; kept as a guard
        raise ValueError(NUMBER_MESSAGE) from None
