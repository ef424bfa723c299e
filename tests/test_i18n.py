"""Danish first: every message has a Danish translation, and Danish is the default."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

PO = Path(__file__).resolve().parents[1] / "laks/translations/da/LC_MESSAGES/messages.po"


def test_i18n_every_message_has_a_danish_translation():
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="da")
    missing = [
        m.id for m in catalog
        if m.id and (not all(m.string) if isinstance(m.string, tuple) else not m.string)
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert missing == [] and fuzzy == []


def test_i18n_danish_is_default_and_unknown_language_falls_back(client):
    assert 'lang="da"' in client.get("/").get_data(as_text=True)
    client.get("/sprog/xx")
    assert "Log ind" in client.get("/").get_data(as_text=True)
    client.get("/sprog/en")
    page = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in page and "Log in" in page


def test_i18n_catalog_holds_every_string_in_the_source():
    """A string added to code or templates without `make messages` fails here."""
    from babel.messages.extract import extract_from_dir

    root = PO.parents[4]
    method_map = [("laks/**.py", "python"), ("templates/**.html", "jinja2")]
    found = set()
    for sub in ("laks", "templates"):
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            str(root / sub),
            method_map=[(pattern.split("/", 1)[1], method) for pattern, method in method_map
                        if pattern.startswith(sub)],
            keywords={"_": None, "gettext": None, "ngettext": (1, 2), "_l": None,
                      "lazy_gettext": None},
            directory_filter=lambda path: not path.rsplit("/", 1)[-1].startswith("."),
        ):
            found.add(message if isinstance(message, str) else message[0])
    with PO.open("rb") as handle:
        catalog = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle)}
    assert sorted(found - catalog) == []
