"""Joining the rendered parts into the book.

The join holds every structure element of the book in memory, and qpdf would keep each
source part's objects too until the book is written (it reads copied streams lazily).
Each part's streams are therefore copied into the book right after its pages are grafted,
so that the part can be closed at once: the join then needs about as much memory as the
finished book's objects (about 130 MB for 500 cases).
"""

from __future__ import annotations

import pikepdf
from pikepdf import Array, Dictionary, Name

from . import fonts, stamps, tagging


def join(front: str, parts: list[str], out: str, title: str, author: str, subject: str,
         outline: list[tuple[str, int]]) -> int:
    """Write the book to ``out``: ``front`` followed by ``parts``, one structure tree,
    shared font subsets, stamped headers and page numbers, bookmarks (title, 0-based
    page) and metadata. Returns the page count."""
    with pikepdf.open(front) as book:
        for path in parts:
            with pikepdf.open(path) as part:
                first = len(book.pages)
                tagging.graft(book, part, first)
                _own_streams(book.pages[first:])
        tagging.sort_id_tree(book)
        fonts.share_subsets(book)
        stamps.stamp_pages(book, subject, author)
        with book.open_outline() as tree:
            tree.root.clear()
            tree.root.extend(pikepdf.OutlineItem(name, page) for name, page in outline)
        tagging.set_book_metadata(book, title, author, subject)
        book.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate,
                  compress_streams=True)
        return len(book.pages)


def _own_streams(pages) -> None:
    """Load the data of every stream the new pages use into the book, so that the part
    they were copied from (which qpdf reads lazily at save time) can be closed."""
    seen: set[tuple[int, int]] = set()
    stack = [page.obj for page in pages]
    while stack:
        obj = stack.pop()
        if not isinstance(obj, (Dictionary, Array, pikepdf.Stream)):
            continue  # names, numbers, strings: nothing to copy
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Stream):
            data = obj.read_raw_bytes()
            obj.write(data, filter=obj.get("/Filter"), decode_parms=obj.get("/DecodeParms"))
            stack.extend(v for k, v in obj.stream_dict.items() if k not in _SKIP)
        elif isinstance(obj, Dictionary):
            if obj.get("/Type") == Name.StructElem:
                continue
            stack.extend(v for k, v in obj.items() if k not in _SKIP)
        elif isinstance(obj, Array):
            stack.extend(obj)


# Links back up the page tree or into the structure tree lead to no stream of the page.
_SKIP = {"/Parent", "/P", "/Pg", "/StructParent", "/StructParents", "/Length"}
