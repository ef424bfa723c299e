"""The tagged structure of the parts and of the joined book.

WeasyPrint writes one structure tree per document: a StructTreeRoot whose single kid is a
Document element, a ParentTree number tree that maps each page's marked content (keyed by
the page's /StructParents) and each link annotation (keyed by its /StructParent) back to
structure elements. Joining parts page by page would keep only the first tree; here the
parts' trees are grafted into the first one, with their keys shifted, so that the book has
one Document with every heading in reading order.
"""

from __future__ import annotations

import pikepdf
from pikepdf import Array, Dictionary, Name, String


def tidy_part(path: str, prefix: str) -> None:
    """Prepare a rendered part for joining, in place.

    - Every structure element /ID (and each /Headers entry pointing at one) gets
      ``prefix``: WeasyPrint makes table-header IDs from object numbers, which repeat
      across parts. The IDs go into an /IDTree, which PDF asks for when elements have
      IDs.
    - A link whose target is not http(s) or mailto loses its target: case text is
      sanitised before it gets here, but a file: or javascript: link must not reach a
      published PDF even if something slipped through.
    - WeasyPrint wraps every run of text in its own Span element with nothing but the
      marked content in it; such Spans are replaced by their marked-content ids in the
      parent (what the parent's text is made of is unchanged for a reader). Two thirds of
      the elements go, and with them most of the join's time and memory.
    """
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        root = pdf.Root.get("/StructTreeRoot")
        if root is None:
            return
        moved: dict[tuple[tuple[int, int], int], Dictionary] = {}
        ids: list[tuple[str, Dictionary]] = []
        seen = set()
        stack = list(_kids(root))
        while stack:
            element = stack.pop()
            if element.objgen in seen:
                continue
            seen.add(element.objgen)
            if "/ID" in element:
                element.ID = String(f"{prefix}-{element.ID}")
                ids.append((str(element.ID), element))
            attributes = element.get("/A")
            if isinstance(attributes, Dictionary) and "/Headers" in attributes:
                attributes.Headers = Array([String(f"{prefix}-{h}")
                                            for h in attributes.Headers])
            kids = element.get("/K")
            if isinstance(kids, Array):
                flat = _flatten_spans(element, kids, moved)
                if flat is not None:
                    element.K = flat
            stack.extend(_kids(element))
        if moved:
            pages = {}
            for page in pdf.pages:
                if "/StructParents" in page.obj:
                    pages[page.obj.objgen] = int(page.obj.StructParents)
            arrays = parent_tree_arrays(root)
            for (page, mcid), element in moved.items():
                arrays[pages[page]][mcid] = element
        _drop_unsafe_links(pdf)
        if ids:
            root.IDTree = pdf.make_indirect(Dictionary(Names=Array(
                [item for key, element in sorted(ids, key=lambda pair: pair[0].encode())
                 for item in (String(key), element)])))
        pdf.save(path)


SAFE_SCHEMES = ("http:", "https:", "mailto:")


def _drop_unsafe_links(pdf: pikepdf.Pdf) -> None:
    for page in pdf.pages:
        for annotation in page.obj.get("/Annots", ()):
            action = annotation.get("/A")
            if action is None or action.get("/S") != Name.URI:
                continue
            if not str(action.get("/URI", "")).strip().lower().startswith(SAFE_SCHEMES):
                del annotation["/A"]
                annotation.Contents = String("Link fjernet")


_PLAIN_SPAN = {"/Type", "/S", "/K", "/Pg", "/P"}


def _flatten_spans(element, kids, moved) -> Array | None:
    """``kids`` with each plain Span on the element's own page replaced by its MCIDs, or
    None when there is none."""
    page = element.get("/Pg")
    if page is None:
        return None
    flat, changed = [], False
    for kid in kids:
        if (isinstance(kid, Dictionary) and kid.get("/S") == Name.Span
                and set(kid.keys()) <= _PLAIN_SPAN and kid.get("/Pg") is not None
                and kid.Pg.objgen == page.objgen):
            mcids = kid.K if isinstance(kid.K, Array) else [kid.K]
            if all(isinstance(m, int) for m in mcids):
                for mcid in mcids:
                    flat.append(int(mcid))
                    moved[(page.objgen, int(mcid))] = element
                changed = True
                continue
        flat.append(kid)
    return Array(flat) if changed else None


def parent_tree_arrays(root) -> dict[int, Array]:
    """The ParentTree's page entries: StructParents key → array indexed by MCID."""
    found = {}
    nums = root.ParentTree.Nums
    for i in range(0, len(nums), 2):
        if isinstance(nums[i + 1], Array):
            found[int(nums[i])] = nums[i + 1]
    return found


def _kids(element):
    kids = element.get("/K")
    if kids is None:
        return []
    if isinstance(kids, Array):
        return [k for k in kids if isinstance(k, Dictionary) and "/S" in k]
    return [kids] if isinstance(kids, Dictionary) and "/S" in kids else []


def document_kids(book: pikepdf.Pdf) -> Array:
    """The kids of the book's Document element (made an array if it was a single kid)."""
    root = book.Root.StructTreeRoot
    document = root.K[0] if isinstance(root.K, Array) else root.K
    if not isinstance(document.get("/K"), Array):
        document.K = Array([document.K] if "/K" in document else [])
    return document.K


def graft(book: pikepdf.Pdf, part: pikepdf.Pdf, at_page: int, at_kid: int) -> tuple[int, int]:
    """Insert ``part``'s pages into ``book`` before page ``at_page`` (0-based) and its
    structure tree's elements into the book's Document before kid ``at_kid``; returns the
    number of pages and of Document kids inserted. Parts may come in any order: the keys
    of the parent tree only need to be unique, not ordered like the pages.
    """
    book_root = book.Root.StructTreeRoot
    document = book_root.K[0] if isinstance(book_root.K, Array) else book_root.K
    book_kids = document_kids(book)
    nums = book_root.ParentTree.Nums
    offset = _next_key(book_root)

    part_root = part.Root.StructTreeRoot
    part_document = part_root.K[0] if isinstance(part_root.K, Array) else part_root.K
    # Cut the part's Document from its root before copying, so that copying its kids does
    # not drag the part's whole root and parent tree along a second time.
    del part_document["/P"]
    count = len(part.pages)
    if at_page == len(book.pages):
        book.pages.extend(part.pages)
    else:
        for i, page in enumerate(part.pages):
            book.pages.insert(at_page + i, page)
    part_kids = part_document.K if isinstance(part_document.K, Array) else [part_document.K]
    kids = [book.copy_foreign(kid) for kid in part_kids]
    part_nums = book.copy_foreign(part_root.ParentTree).Nums
    for i, kid in enumerate(kids):
        kid.P = document
        book_kids.insert(at_kid + i, kid)
    if "/IDTree" in part_root:
        names = book.copy_foreign(part_root.IDTree).Names
        if "/IDTree" not in book_root:
            book_root.IDTree = book.make_indirect(Dictionary(Names=Array()))
        book_root.IDTree.Names.extend(names)
    largest = -1
    for i in range(0, len(part_nums), 2):
        key = int(part_nums[i])
        largest = max(largest, key)
        nums.append(key + offset)
        nums.append(part_nums[i + 1])
    for page in book.pages[at_page:at_page + count]:
        page_obj = page.obj
        if "/StructParents" in page_obj:
            page_obj.StructParents = int(page_obj.StructParents) + offset
        for annotation in page_obj.get("/Annots", ()):
            if "/StructParent" in annotation:
                annotation.StructParent = int(annotation.StructParent) + offset
    book_root.ParentTreeNextKey = offset + largest + 1
    return count, len(kids)


def cut(book: pikepdf.Pdf, slots: list[tuple[int, int, int, int, str]]) -> None:
    """Take parts out of a joined book: each slot is (first page, pages, first Document
    kid, kids, ID prefix). Their pages, their structure elements under the Document, their
    parent-tree entries and their IDs go; the rest of the tree is untouched."""
    kids = document_kids(book)
    root = book.Root.StructTreeRoot
    dead_keys: set[int] = set()
    for first_page, pages, first_kid, count, _prefix in sorted(slots, reverse=True):
        for page in book.pages[first_page:first_page + pages]:
            if "/StructParents" in page.obj:
                dead_keys.add(int(page.obj.StructParents))
            for annotation in page.obj.get("/Annots", ()):
                if "/StructParent" in annotation:
                    dead_keys.add(int(annotation.StructParent))
        del book.pages[first_page:first_page + pages]
        del kids[first_kid:first_kid + count]
    # Deleted in place, from the end: rebuilding the arrays would copy every entry.
    nums = root.ParentTree.Nums
    for i in reversed(range(0, len(nums), 2)):
        if int(nums[i]) in dead_keys:
            del nums[i:i + 2]
    prefixes = tuple(f"{prefix}-".encode() for *_, prefix in slots)
    if prefixes and "/IDTree" in root:
        names = root.IDTree.Names
        for i in reversed(range(0, len(names), 2)):
            if bytes(names[i]).startswith(prefixes):
                del names[i:i + 2]


def sort_id_tree(book: pikepdf.Pdf) -> None:
    """Sort the book's /IDTree names, as a name tree must be, once every part is in."""
    root = book.Root.StructTreeRoot
    if "/IDTree" not in root:
        return
    names = root.IDTree.Names
    pairs = sorted(((names[i], names[i + 1]) for i in range(0, len(names), 2)),
                   key=lambda pair: bytes(pair[0]))
    root.IDTree.Names = Array([item for pair in pairs for item in pair])


def _next_key(root) -> int:
    if "/ParentTreeNextKey" in root:
        return int(root.ParentTreeNextKey)
    nums = root.ParentTree.Nums
    return max((int(nums[i]) for i in range(0, len(nums), 2)), default=-1) + 1


def set_book_metadata(book: pikepdf.Pdf, title: str, author: str, subject: str) -> None:
    """Title, author, subject and language in the document info and in XMP, and the
    PDF/UA-1 identification, on the joined book."""
    book.Root.Lang = String("da")
    book.Root.MarkInfo = Dictionary(Marked=True)
    book.Root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
    book.Root.PageMode = Name.UseOutlines  # open with the bookmarks: one per case
    with book.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:title"] = title
        meta["dc:creator"] = [author]
        meta["dc:description"] = subject
        meta["dc:language"] = ["da"]
        meta["pdf:Producer"] = "laks"
    book.docinfo[Name.Title] = String(title)
    book.docinfo[Name.Author] = String(author)
    book.docinfo[Name.Subject] = String(subject)
    book.docinfo[Name.Producer] = String("laks")
