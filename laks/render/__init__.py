"""The catalogue PDF engine: a Book of Chapters in, one tagged A4 PDF out.

Independent of the database and of Flask, so it can run in a background job or a
benchmark: ``build_book(book, cache_dir, out_path)`` renders what changed since the last
build in ``cache_dir`` and joins it with what did not.
"""

from .model import Book, BuildReport, Chapter
from .pdf import build_book

__all__ = ["Book", "BuildReport", "Chapter", "build_book"]
