"""Checks that a page shown in one language carries no interface text of the other.

Every message in the Danish catalogue whose translation differs from its English msgid is a
marker of its language. A page in English must show no Danish marker as a text of its own,
and the other way round. Messages with placeholders are left out: they never appear whole.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

PO = Path(__file__).resolve().parents[2] / "laks/translations/da/LC_MESSAGES/messages.po"

# Every visible text of the page, one entry per text node, and the accessible names that
# are not text (aria-label, alt, title, placeholder).
_TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!el || el.closest('script, style, [hidden]')) continue;
    const text = node.textContent.replace(/\\s+/g, ' ').trim();
    if (text) out.push(text);
  }
  for (const el of document.querySelectorAll('[aria-label], [alt], [title], [placeholder]')) {
    for (const name of ['aria-label', 'alt', 'title', 'placeholder']) {
      const value = el.getAttribute(name);
      if (value) out.push(value.trim());
    }
  }
  out.push(document.title.replace(/ – laks$/, ''));
  return out;
}"""


@cache
def _markers() -> dict[str, set[str]]:
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="da")
    danish, english = set(), set()
    for message in catalog:
        if not message.id or isinstance(message.id, tuple):
            continue
        if "%(" in message.id or message.string == message.id or not message.string:
            continue
        danish.add(message.string.strip())
        english.add(message.id.strip())
    # A word that is the same in both languages (in another message) marks neither.
    return {"da": danish - english, "en": english - danish}


def foreign_texts(page, lang: str) -> list[str]:
    """The texts on ``page`` that belong to the interface language that is not ``lang``."""
    other = "en" if lang == "da" else "da"
    markers = _markers()[other]
    return sorted({t for t in page.evaluate(_TEXTS) if t in markers})


def assert_translated(page, lang: str) -> None:
    """Fail if the page, shown in ``lang``, shows interface text of the other language."""
    assert page.locator("html").get_attribute("lang") == lang
    left = foreign_texts(page, lang)
    assert left == [], f"interface text in the wrong language on {page.url}: {left}"
