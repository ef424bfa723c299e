"""Markdown is rendered and sanitised by one function."""

from __future__ import annotations

import pytest

from laks.rendering import render_markdown


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ("[klik](javascript:alert(1))", "javascript:"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ('<img src="x" onerror="alert(1)">', "onerror"),
        ('<p style="color:red" onclick="x()">hej</p>', "onclick"),
        ("<iframe src='https://evil.example'></iframe>", "<iframe"),
        ('[x](data:text/html;base64,PHNjcmlwdD4=)', "data:"),
    ],
    ids=["script", "js-link", "js-anchor", "img-onerror", "event-handler", "iframe", "data-url"],
)
def test_rendering_neutralises_html_and_scripts(source, forbidden):
    assert forbidden not in str(render_markdown(source))


def test_rendering_keeps_ordinary_markdown():
    html = str(render_markdown("# Mål\n\n**8 af 12** gennemførte\n\n- a\n- b\n\n"
                               "[Sundhedsstyrelsen](https://www.sst.dk)"))
    assert "<h3>Mål</h3>" in html  # headings never outrank the page's own
    assert "<strong>8 af 12</strong>" in html
    assert "<li>a</li>" in html
    assert 'href="https://www.sst.dk"' in html and "noopener" in html


def test_rendering_empty():
    assert str(render_markdown(None)) == ""


@pytest.mark.parametrize(
    ("source", "items"),
    [
        ("Vi beder jer om at:\n- tilføje målgruppen\n- rette datoen", ["tilføje målgruppen",
                                                                        "rette datoen"]),
        ("Næste skridt:\n1. ring til borgerne\n2. book lokalet", ["ring til borgerne",
                                                                  "book lokalet"]),
        ("**Vigtigt**\n* én\n* to", ["én", "to"]),
    ],
    ids=["bullets", "numbered", "after-emphasis"],
)
def test_rendering_list_right_under_a_line_is_a_list(source, items):
    html = str(render_markdown(source))
    for item in items:
        assert f"<li>{item}</li>" in html
    assert html.count("<p>") == 1  # the line before stays a paragraph of its own


def test_rendering_code_fence_and_plain_numbers_are_left_alone():
    fenced = str(render_markdown("```\ntekst\n- ikke en liste\n```"))
    assert "<li>" not in fenced and "- ikke en liste" in fenced
    year = str(render_markdown("Vi startede i foråret\n2016 med to hold."))
    assert "<li>" not in year and "<ol>" not in year


def test_rendering_plain_text_reads_as_the_page_does():
    from laks.rendering import first_sentence, markdown_to_text, plain_words

    assert plain_words("Ældre **mænd**, der bor *alene*. Mange i Gellerup.") == (
        "Ældre mænd, der bor alene. Mange i Gellerup.")
    assert first_sentence("- Ældre **mænd**. Der bor alene.") == "Ældre mænd."
    lines = [line for line in markdown_to_text("A\n\nB &amp; C").split("\n") if line.strip()]
    assert lines == ["A", "B & C"]  # one line per block, entities decoded
