"""The public catalogue's search and filters (laks.catalogue_search), on the database's own
full-text index: FTS5 on SQLite, the Danish configuration on PostgreSQL."""

from __future__ import annotations

import pytest

from laks import catalogue_search as search
from laks.enums import EditionStatus
from laks.extensions import db
from tests.catalogue_factories import make_edition, snapshot

HOSTILE = [
    '"', '""', '"unclosed', "*", "**", "træn*", "NEAR(", "NEAR(a b)", "a AND", "AND", "OR",
    "NOT", "a OR b NOT c", "-borger", "(", ")", "^", ":", "text:borger", "{}", "'",
    "'; DROP TABLE catalogue_edition; --", "1' OR '1'='1", "borger\x00", "\x00",
    "🙂", "træning 🙂 borger", "ǅ̵̡", "<script>alert(1)</script>", "%", "_", "\\",
    "&|!:*()", "a" * 5000, "borger " * 500, " ", "\t\n",
]


@pytest.fixture
def edition(app):
    return make_edition([
        snapshot(title="Holdtræning tæt på hjemmet", municipality="Holbæk",
                 municipality_code="0316", summary="Vi flyttede træningen ud i boligområdet.",
                 themes=["fysisk_aktivitet"], theme_labels=["Fysisk aktivitet"],
                 challenge_type="fastholdelse", challenge_type_label="Fastholdelse",
                 target_group="Ældre, der bor **alene**. Ofte mænd."),
        snapshot(title="Rygestop i rusmiddelcentret", municipality="Gladsaxe",
                 municipality_code="0159", summary="Kortere forløb med en fast borger-kontakt.",
                 themes=["tobak", "mental_sundhed"], theme_labels=["Tobak", "Mental sundhed"],
                 challenge_type="rekruttering", challenge_type_label="Rekruttering",
                 target_group="- Borgere i behandling for misbrug"),
        snapshot(title="Livsstilscafé for sårbare", municipality="Aabenraa",
                 municipality_code="0580", summary="Kaffe og snak før vejningen.",
                 themes=[], theme_labels=[], challenge_type="", challenge_type_label="",
                 target_group="Overvægtige borgere"),
    ])


def titles(cases) -> list[str]:
    return [case.snapshot["title"] for case in cases]


@pytest.mark.parametrize(("q", "found"), [
    ("boligområdet", ["Holdtræning tæt på hjemmet"]),  # a word of the summary
    ("rygestop", ["Rygestop i rusmiddelcentret"]),  # a word of the title
    ("Gladsaxe", ["Rygestop i rusmiddelcentret"]),  # the municipality
    ("kaffe vejningen", ["Livsstilscafé for sårbare"]),  # every word must be there
    ("kaffe rygestop", []),
    ("RYGESTOP", ["Rygestop i rusmiddelcentret"]),  # any case
], ids=["summary", "title", "municipality", "two-words", "no-case-has-both", "upper-case"])
def test_search_finds_by_words(edition, q, found):
    assert titles(search.search_cases(edition, q, {})) == found


def test_search_without_text_lists_every_case_in_order(edition):
    assert titles(search.search_cases(edition, "", {})) == [
        "Holdtræning tæt på hjemmet", "Rygestop i rusmiddelcentret", "Livsstilscafé for sårbare"]
    assert len(search.search_cases(edition, "  🙂 * \" ", {})) == 3  # no words: no search


def test_search_danish_word_forms(edition):
    """PostgreSQL stems Danish words, so an inflected form finds the word ("borgerne" finds
    "borger"); SQLite matches every word as a prefix, so the stem finds longer words."""
    if db.engine.dialect.name == "postgresql":
        assert titles(search.search_cases(edition, "borgerne", {})) == titles(
            search.search_cases(edition, "borger", {}))
        assert "Rygestop i rusmiddelcentret" in titles(
            search.search_cases(edition, "borgerne", {}))
        assert titles(search.search_cases(edition, "træningerne", {})) == [
            "Holdtræning tæt på hjemmet"]
    else:
        assert titles(search.search_cases(edition, "træn", {})) == [
            "Holdtræning tæt på hjemmet"]
        assert titles(search.search_cases(edition, "rusmiddel", {})) == [
            "Rygestop i rusmiddelcentret"]


def test_search_ranks_the_better_match_first(app):
    edition = make_edition([
        snapshot(title="Om kost", summary="Lidt om motion."),
        snapshot(title="Motion i hverdagen", summary="Motion, motion og mere motion."),
    ])
    assert titles(search.search_cases(edition, "motion", {}))[0] == "Motion i hverdagen"


@pytest.mark.parametrize("q", HOSTILE, ids=[f"hostile-{i}" for i in range(len(HOSTILE))])
def test_search_reads_any_text_as_words(edition, q):
    found = search.search_cases(edition, q, {})
    assert isinstance(found, list)
    assert all(case.edition_id == edition.id for case in found)


def test_fts5_query_quotes_every_word():
    assert search.fts5_query('borger" OR NEAR(x *') == '"borger"* "OR"* "NEAR"* "x"*'
    assert search.fts5_query('"') == ""
    assert search.fts5_query("a " * 100).count('"a"*') == search.MAX_QUERY_TERMS


def test_excerpt_and_first_sentence_are_plain_words():
    assert search.excerpt("**Fed** tekst med [et link](https://example.org)") == (
        "Fed tekst med et link")
    long = search.excerpt("ord " * 200, limit=50)
    assert long.endswith(" …") and len(long) <= 52
    assert search.first_sentence("- Ældre *mænd*. Der bor alene.") == "Ældre mænd."
    assert len(search.first_sentence("x" * 300)) == 90


def test_clean_query_bounds_and_strips():
    assert search.clean_query("a\x00b\tc  d") == "a b c d"
    assert len(search.clean_query("x" * 10_000)) == search.MAX_QUERY_CHARS
    assert search.clean_query(None) == ""


def test_search_never_returns_drafts_or_other_editions(app, edition):
    draft = make_edition([snapshot(title="Hemmelig kladde om rygestop")],
                         status=EditionStatus.DRAFT)
    withdrawn = make_edition([snapshot(title="Trukket rygestop")],
                             status=EditionStatus.WITHDRAWN)
    assert search.search_cases(draft, "rygestop", {}) == []
    assert titles(search.search_cases(edition, "rygestop", {})) == [
        "Rygestop i rusmiddelcentret"]
    assert [e.number for e in search.published_editions()] == [edition.number]
    assert search.newest_edition() == edition
    assert withdrawn not in search.published_editions()


@pytest.mark.parametrize(("filters", "found"), [
    ({"municipality": "0159"}, ["Rygestop i rusmiddelcentret"]),
    ({"theme": "mental_sundhed"}, ["Rygestop i rusmiddelcentret"]),
    ({"theme": "fysisk_aktivitet"}, ["Holdtræning tæt på hjemmet"]),
    ({"challenge_type": "rekruttering"}, ["Rygestop i rusmiddelcentret"]),
    ({"target_group": "Ældre, der bor alene."}, ["Holdtræning tæt på hjemmet"]),
    ({"theme": "tobak", "municipality": "0316"}, []),
    ({"theme": ""}, ["Holdtræning tæt på hjemmet", "Rygestop i rusmiddelcentret",
                     "Livsstilscafé for sårbare"]),
], ids=["municipality", "theme", "other-theme", "challenge-type", "target-group",
        "all-filters-apply", "empty-is-all"])
def test_filters_on_the_snapshot(edition, filters, found):
    assert titles(search.search_cases(edition, "", filters)) == found


def test_filters_and_search_together(edition):
    assert titles(search.search_cases(edition, "borger", {"theme": "tobak"})) == [
        "Rygestop i rusmiddelcentret"]
    assert search.search_cases(edition, "kaffe", {"theme": "tobak"}) == []


def test_filter_choices_come_from_the_snapshots_in_danish_order(edition):
    choices = search.filter_choices(edition.cases)
    assert choices["municipality"] == [("0159", "Gladsaxe"), ("0316", "Holbæk"),
                                       ("0580", "Aabenraa")]
    assert choices["theme"] == [("fysisk_aktivitet", "Fysisk aktivitet"),
                                ("mental_sundhed", "Mental sundhed"), ("tobak", "Tobak")]
    assert choices["challenge_type"] == [("fastholdelse", "Fastholdelse"),
                                         ("rekruttering", "Rekruttering")]
    assert [label for _value, label in choices["target_group"]] == [
        "Borgere i behandling for misbrug", "Overvægtige borgere", "Ældre, der bor alene."]


def test_unknown_filter_values_are_ignored_and_listed(edition):
    choices = search.filter_choices(edition.cases)
    chosen = search.choose_filters(
        {"theme": "tobak", "municipality": "9999", "challenge_type": "x" * 1000,
         "target_group": ""}, choices)
    assert chosen.values == {"theme": "tobak"}
    assert [key for key, _value in chosen.ignored] == ["municipality", "challenge_type"]
    assert all(len(value) <= 60 for _key, value in chosen.ignored)


@pytest.mark.parametrize(("names", "expected"), [
    (["Øster", "Aabenraa", "Ærø", "Zealand", "Århus", "Brøndby"],
     ["Brøndby", "Zealand", "Ærø", "Øster", "Aabenraa", "Århus"]),
    (["émile", "Egå", "ebbe"], ["ebbe", "Egå", "émile"]),
], ids=["ae-oe-aa-last", "accents-ignored"])
def test_danish_sort_key(names, expected):
    assert sorted(names, key=search.danish_sort_key) == expected
