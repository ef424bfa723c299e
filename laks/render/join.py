"""Joining the rendered parts into the book, starting from the last book where it can.

The parts are numbered slots (front matter, the batches in order, the index). Opening a
PDF costs qpdf nothing, while every object grafted into another PDF must be copied: joining
130 parts of a 500-case book takes about 0.7 s, almost all of it copying. So the last book
joined in a cache folder is kept there with a manifest of its slots (each part's key, pages
and structure elements), and a new build starts from it: the slots whose part is gone are
cut out (pages, structure elements, parent-tree and ID-tree entries), the page stamps are
taken off, and only the new parts are grafted in where they belong. A rebuild after one
changed case then copies one batch, not the book.

The join holds every structure element of the book in memory, and qpdf would keep each
source part's objects too until the book is written (it reads copied streams lazily).
Each part's streams are therefore copied into the book right after its pages are grafted,
so that the part can be closed at once: the join then needs about as much memory as the
finished book's objects (about 130 MB for 500 cases).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name

from . import fonts, stamps, tagging

MANIFEST = "book.json"


class Joiner:
    """Collects parts into one book: ``add`` each slot's part (any order), then ``finish``.
    ``Joiner.resume`` starts from the last book joined in a cache folder instead."""

    def __init__(self) -> None:
        self.book: pikepdf.Pdf | None = None
        self.sizes: dict[int, tuple[int, int]] = {}  # slot → (pages, Document kids)

    def __enter__(self) -> Joiner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @classmethod
    def resume(cls, cache: Path, keys: list[str]) -> Joiner:
        """A joiner holding what the last book joined in ``cache`` has of the parts
        ``keys`` (slot by slot, in their order); a fresh one when there is no such book or
        it shares less than half of its parts with this one."""
        joiner = cls()
        try:
            manifest = json.loads((cache / MANIFEST).read_text())
            old = [tuple(slot) for slot in manifest["slots"]]
            wanted = {key: slot for slot, key in enumerate(keys)}
            kept: dict[int, int] = {}  # old slot → new slot, in order on both sides
            last = -1
            for old_slot, (key, _pages, _kids) in enumerate(old):
                if wanted.get(key, -1) > last:
                    kept[old_slot] = last = wanted[key]
            if 2 * len(kept) < len(old):
                return joiner
            book = pikepdf.open(cache / manifest["file"])
        except (OSError, ValueError, KeyError, TypeError, pikepdf.PdfError):
            return joiner  # no usable last book: join from scratch
        cut = [(slot, key, pages, kids) for slot, (key, pages, kids) in enumerate(old)
               if slot not in kept]
        starts, page, kid = [], 0, 0
        for _key, pages, kids in old:
            starts.append((page, kid))
            page, kid = page + pages, kid + kids
        try:
            tagging.cut(book, [(starts[slot][0], pages, starts[slot][1], kids, key[:8])
                               for slot, key, pages, kids in cut])
            stamps.unstamp_pages(book)
        except (ValueError, KeyError, AttributeError, IndexError, pikepdf.PdfError):
            book.close()  # not the book the manifest describes: join from scratch
            return joiner
        joiner.book = book
        joiner.sizes = {new: tuple(old[slot][1:]) for slot, new in kept.items()}
        return joiner

    def add(self, slot: int, path: str) -> None:
        """Insert the part at ``path`` as slot ``slot``."""
        if slot in self.sizes:
            raise ValueError(f"Slot {slot} is joined already.")
        at_page = sum(pages for s, (pages, _) in self.sizes.items() if s < slot)
        at_kid = sum(kids for s, (_, kids) in self.sizes.items() if s < slot)
        if self.book is None:
            # The first part is the book's base: its structure tree root and Document are
            # the book's, so the book keeps exactly what WeasyPrint writes there.
            self.book = pikepdf.open(path)
            self.sizes[slot] = (len(self.book.pages), len(tagging.document_kids(self.book)))
            return
        with pikepdf.open(path) as part:
            pages, kids = tagging.graft(self.book, part, at_page, at_kid)
            _own_streams(self.book.pages[at_page:at_page + pages])
        self.sizes[slot] = (pages, kids)

    def finish(self, out: str, keys: list[str], cache: Path, title: str, author: str,
               subject: str, outline: list[tuple[str, int]]) -> int:
        """Write the book to ``out`` once every slot of ``keys`` (the parts' keys, in
        order) is in: one structure tree, shared font subsets, stamped headers and page
        numbers, bookmarks (title, 0-based page) and metadata. The book is kept in
        ``cache`` for the next build to start from. Returns the page count."""
        missing = sorted(set(range(len(keys))) - set(self.sizes))
        if missing or self.book is None:
            raise ValueError(f"Parts missing from the book: {missing}")
        book = self.book
        try:
            tagging.sort_id_tree(book)
            if "/Names" in book.Root:  # the first part's own anchors: none are linked to
                del book.Root["/Names"]
            fonts.share_subsets(book, cache)
            stamps.stamp_pages(book, subject, author)
            with book.open_outline() as tree:
                tree.root.clear()
                tree.root.extend(pikepdf.OutlineItem(name, page) for name, page in outline)
            tagging.set_book_metadata(book, title, author, subject)
            name = f"book-{secrets.token_hex(6)}.pdf"
            book.save(cache / name, object_stream_mode=pikepdf.ObjectStreamMode.generate,
                      compress_streams=True)
            pages = len(book.pages)
        finally:
            self.close()
        with open(cache / name, "rb") as source, open(out, "wb") as target:
            target.write(source.read())
        _remember(cache, name, [(key, *self.sizes[slot]) for slot, key in enumerate(keys)])
        return pages

    def close(self) -> None:
        if self.book is not None:
            self.book.close()
            self.book = None


def _remember(cache: Path, name: str, slots: list[tuple[str, int, int]]) -> None:
    """Point the manifest at the book just written, and delete the books before it."""
    tmp = cache / f"{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"file": name, "slots": slots}))
    os.replace(tmp, cache / MANIFEST)
    for old in cache.glob("book-*.pdf"):
        if old.name != name:
            old.unlink(missing_ok=True)


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
