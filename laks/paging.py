"""A long list shown a page at a time: which page is shown, and how many there are."""

from __future__ import annotations


def page_of(total: int, page: int, size: int) -> tuple[int, int]:
    """The page shown – ``page`` brought within the first and the last, so that a page past
    the end shows the last – and how many pages ``total`` rows make at ``size`` a page (one,
    even for no rows)."""
    pages = max(1, -(-total // size))
    return min(max(page, 1), pages), pages
