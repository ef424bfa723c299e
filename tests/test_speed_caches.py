"""What a process keeps between requests so that a page is not made from scratch each time:
rendered markdown (sanitised HTML only, bounded, by the text's digest) and module form
classes (one per definition and language, bounded)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml
from flask import render_template_string
from flask_babel import force_locale

from laks import rendering
from laks.definitions import forms as module_forms
from laks.definitions import parse_module
from laks.rendering import markdown_cache, render_markdown
from laks.services.seed import SEED_DIR


@pytest.fixture
def empty_cache():
    markdown_cache.clear()
    yield markdown_cache
    markdown_cache.clear()


def test_speed_markdown_is_rendered_once_and_kept_sanitised(empty_cache):
    text = "Hej <script>alert(1)</script> **verden** [x](javascript:alert(2))"
    first = render_markdown(text)
    assert (empty_cache.hits, empty_cache.misses, len(empty_cache)) == (0, 1, 1)
    again = render_markdown(text)
    assert (empty_cache.hits, empty_cache.misses) == (1, 1)
    assert again == first
    for html in (first, again, *empty_cache._items.values()):
        assert "<script" not in html and "javascript:" not in html
        assert "<strong>verden</strong>" in html


def test_speed_the_cache_holds_only_what_nh3_let_through(empty_cache, monkeypatch):
    """Whatever markdown makes of a text, only nh3's output is kept and given back."""
    monkeypatch.setattr(rendering.md, "markdown",
                        lambda *_args, **_kwargs: '<p onclick="x()">a</p><iframe src=x>')
    assert render_markdown("noget") == "<p>a</p>"
    assert list(empty_cache._items.values()) == ["<p>a</p>"]
    assert render_markdown("noget") == "<p>a</p>"


def test_speed_the_markdown_cache_is_bounded(empty_cache, monkeypatch):
    monkeypatch.setattr(empty_cache, "size", 5)
    for n in range(8):
        render_markdown(f"tekst {n}")
    assert len(empty_cache) == 5
    render_markdown("tekst 7")  # the newest is kept
    render_markdown("tekst 0")  # the oldest was dropped, and is rendered again
    assert (empty_cache.hits, empty_cache.misses) == (1, 9)
    assert len(empty_cache) == 5


def test_speed_a_long_text_is_rendered_but_not_kept(empty_cache):
    long = "ord " * (rendering.MARKDOWN_CACHE_MAX_TEXT // 4 + 1)
    assert render_markdown(long).startswith("<p>ord ord")
    assert len(empty_cache) == 0


def _spec(name: str = "3_handleplan.yaml"):
    return parse_module(yaml.safe_load((SEED_DIR / "modules" / name).read_text("utf-8")))


def test_speed_a_module_form_class_is_built_once_per_definition_and_language(app):
    with app.test_request_context():
        with force_locale("da"):
            danish = module_forms.build_module_form(_spec())
            # The same questions read again (as each request reads them): the same class.
            assert module_forms.build_module_form(_spec()) is danish
        with force_locale("en"):
            english = module_forms.build_module_form(_spec())
        assert english is not danish
        with force_locale("da"):
            assert str(danish().trial_action.label.text) == "Hvad er prøvehandlingen?"
        with force_locale("en"):
            assert str(english().trial_action.label.text) == "What is the trial action?"
        # Other questions are another class.
        assert module_forms.build_module_form(_spec("1_udfordring.yaml")) is not danish


def test_speed_a_changed_definition_gets_a_form_of_its_own(app):
    data = yaml.safe_load((SEED_DIR / "modules" / "3_handleplan.yaml").read_text("utf-8"))
    with app.test_request_context():
        before = module_forms.build_module_form(parse_module(data))
        data["sections"][0]["questions"][0]["label"]["da"] = "Hvad prøver I af?"
        after = module_forms.build_module_form(parse_module(data))
        assert after is not before
        assert after().trial_action.label.text == "Hvad prøver I af?"
        assert before().trial_action.label.text == "Hvad er prøvehandlingen?"


def test_speed_the_form_classes_kept_are_bounded(app, monkeypatch):
    monkeypatch.setattr(module_forms, "FORM_CACHE_SIZE", 3)
    data = yaml.safe_load((SEED_DIR / "modules" / "2_praecisering.yaml").read_text("utf-8"))
    with app.test_request_context():
        for n in range(6):
            data["sections"][0]["questions"][0]["label"]["da"] = f"Spørgsmål {n}"
            module_forms.build_module_form(parse_module(data))
        assert len(module_forms._form_classes) == 3


def test_speed_words_and_moments_follow_the_language_of_the_moment(app):
    """The templates' translations and formatted moments are found once per request and
    remembered – per language and time zone, so a block in another language (a mail in the
    recipient's) gets its own."""
    moment = datetime(2026, 11, 25, 22, 27, tzinfo=UTC)
    template = "{{ _('Save draft') }} | {{ format_moment(m) }} | {{ format_date(d, 'long') }}"
    with app.test_request_context():
        seen = []
        for locale in ("da", "en_GB", "da", "en_GB"):
            with force_locale(locale):
                seen.append(render_template_string(template, m=moment, d=moment.date()))
    assert seen[0] == seen[2] == "Gem kladde | 25. nov. 2026 kl. 23.27 | 25. november 2026"
    assert seen[1] == seen[3] == "Save draft | 25 Nov 2026, 23:27 | 25 November 2026"
