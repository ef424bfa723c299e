"""laks holds no personal data about citizens. This module finds text that a reader would
recognise as a CPR number, so that it can be refused before it is stored.

A CPR number is DDMMYY-SSSS with a real date. The modulus-11 check no longer holds for every
number issued since 2007, so it is deliberately not used: any ten digits whose first six are
a real, past birth date count as a CPR number.

What a reader recognises is wider than the digits as typed, so the text is normalised first
(NFKC, digits of every script as 0-9, invisible characters removed), any run of separators
counts as one (spaces of every kind, dots, slashes, dashes, line breaks – also inside the
date: ``01.01.90-1234``, ``01 01 90 1234``), and markdown is checked both as written and as
it renders (``010190\\-1234``, ``01**01**90-1234``, ``0101<!-- -->90-1234``).

Ordinary Danish numbers are not refused: phone numbers, amounts, dates, times, postcodes,
CVR and EAN numbers never have the shape. Ten bare digits that start with a real date do –
a P-number or an account number – unless the text says what the number is just before it
("P-nr. 1001234567", "kontonr. 0101901234"); the refusal message says so.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from stdnum.dk import cpr
from stdnum.exceptions import ValidationError

#: Characters a reader skips over between the digit groups: any whitespace, dots, slashes,
#: backslashes, underscores and every kind of dash or minus.
_SEP_CLASS = r"[\s./\\_\-\u2010-\u2015\u2212\u2043\ufe58\ufe63\uff0d]"
_SEP = rf"{_SEP_CLASS}{{0,4}}"
#: DD MM YY SSSS, each group whole, with at most a short run of separators between them;
#: the lookahead finds overlapping candidates, so a failed date never hides a real one.
_CANDIDATE = re.compile(
    rf"(?<![0-9])(?=([0-9]{{2}}){_SEP}([0-9]{{2}}){_SEP}([0-9]{{2}}){_SEP}([0-9]{{4}})(?![0-9]))")
#: What a number may be called just before it, so that a reader knows it is not a CPR
#: number: P-nr., CVR, EAN, GLN, SE-nr., konto(nr.), reg.nr., tlf., sags- and journalnr.
_LABEL = re.compile(
    r"\b(?:(?:p|se|reg|sags|journal|j|kunde|faktura|ordre)[\s.\-]*(?:nr|nummer)"
    r"|(?:cvr|ean|gln|konto|tlf|telefon|mobil)[\s.\-]*(?:nr|nummer)?)[\s.:\-]*$",
    re.IGNORECASE,
)
_INVISIBLE = {"Cf"}  # zero-width spaces and joiners, soft hyphen, direction marks, BOM
_MARKDOWN_HINT = re.compile(r"[\\&*_<>`~\[\]#]")
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)


def normalise(text: str) -> str:
    """``text`` as a reader sees its digits: NFKC, every decimal digit as 0-9, invisible
    format characters removed."""
    text = unicodedata.normalize("NFKC", text)
    out = []
    for char in text:
        if char.isascii():
            out.append(char)
            continue
        category = unicodedata.category(char)
        if category in _INVISIBLE:
            continue
        if category == "Nd":
            out.append(str(unicodedata.decimal(char)))
        else:
            out.append(char)
    return "".join(out)


def rendered_text(text: str) -> str:
    """The plain text a reader sees when ``text`` is shown as markdown: tags and comments
    gone, entities decoded."""
    from laks.rendering import markdown_to_text

    # A comment inside a number hides nothing from a reader: take it out before rendering.
    return markdown_to_text(_COMMENT.sub("", text))


def _is_birth_number(digits: str) -> bool:
    try:
        cpr.validate(digits)
    except ValidationError:
        return False
    return True


def _labelled(text: str, match: re.Match) -> bool:
    """A bare ten-digit number named just before it ("P-nr. 1001234567")."""
    start = match.start()
    number = text[start:start + 10]
    if not number.isdigit():
        return False  # written with separators, it looks like a CPR number, whatever its name
    return bool(_LABEL.search(text[max(0, start - 30):start]))


def _found(text: str) -> bool:
    for match in _CANDIDATE.finditer(text):
        if _is_birth_number("".join(match.groups())) and not _labelled(text, match):
            return True
    return False


def looks_like_cpr(text: str | None) -> bool:
    """True if ``text`` contains something a reader would take for a CPR number: ten digits
    whose first six are a real, past birth date, however the groups are separated, as
    written or as rendered from markdown. Safe for any string; never raises."""
    if not text or not isinstance(text, str):
        return False
    plain = normalise(text)
    if _found(plain):
        return True
    if _MARKDOWN_HINT.search(plain):
        return _found(normalise(rendered_text(plain)))
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


def small_count(n: int | None) -> str:
    """A count of citizens as it may be shown outside the unit (the public catalogue, its
    PDF): "" for no number, "0" for none, "<5" for 1–4 – so that no one in a small group
    can be recognised – and the number itself from 5 on."""
    if n is None or n == "":
        return ""
    n = int(n)
    if 1 <= n <= 4:
        return "<5"
    return str(n)


_EMAIL = re.compile(r"[^\s@<>()]+@[^\s@<>()]+\.[A-Za-z]{2,}")
#: Eight or more digits written as one number, with spaces, dots or dashes between groups
#: and an optional +45 / 0045 in front: a Danish phone number, however it is written.
_PHONE = re.compile(r"(?:\+|\b00)?\d(?:[\s.\-]?\d){7,}")


#: What to tell the writer, by what contact_details found.
CONTACT_DETAILS_MESSAGES = {
    "email": _l("Write a role and the unit's general address, not an e-mail address."),
    "phone": _l("Write a role and the unit's general address, not a phone number."),
}


def contact_details(text: str | None) -> str | None:
    """"email" or "phone" if ``text`` holds an e-mail address or a phone number, else None.
    A published case names a contact by role ("Sundhedskonsulent i Sundhedscenteret"):
    an address or a number belongs to a person, and a catalogue outlives jobs."""
    if not text:
        return None
    text = normalise(text)
    if _EMAIL.search(text):
        return "email"
    if _PHONE.search(text):
        return "phone"
    return None
