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


def prefix_struct_ids(path: str, prefix: str) -> None:
    """Prefix every structure element /ID (and the /Headers that point at them) with
    ``prefix``, so that IDs stay unique in a book joined from many parts."""
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        root = pdf.Root.get("/StructTreeRoot")
        if root is None:
            return
        changed = False
        stack = list(_kids(root))
        seen = set()
        while stack:
            element = stack.pop()
            if not isinstance(element, Dictionary) or element.objgen in seen:
                continue
            if element.objgen != (0, 0):
                seen.add(element.objgen)
            if "/ID" in element:
                element.ID = String(f"{prefix}-{element.ID}")
                changed = True
            attributes = element.get("/A")
            if isinstance(attributes, Dictionary) and "/Headers" in attributes:
                attributes.Headers = Array([String(f"{prefix}-{h}")
                                            for h in attributes.Headers])
                changed = True
            stack.extend(_kids(element))
        if changed:
            pdf.save(path)


def _kids(element):
    kids = element.get("/K")
    if kids is None:
        return []
    if isinstance(kids, Array):
        return [k for k in kids if isinstance(k, Dictionary) and "/S" in k]
    return [kids] if isinstance(kids, Dictionary) and "/S" in kids else []


def graft(book: pikepdf.Pdf, part: pikepdf.Pdf, first_page: int) -> None:
    """Append ``part``'s pages to ``book`` and its structure tree to the book's Document.

    ``first_page`` is the 0-based index the part's first page gets in the book (the book's
    page count before the call).
    """
    book_root = book.Root.StructTreeRoot
    document = book_root.K[0] if isinstance(book_root.K, Array) else book_root.K
    nums = book_root.ParentTree.Nums
    offset = _next_key(book_root)

    part_root = part.Root.StructTreeRoot
    part_document = part_root.K[0] if isinstance(part_root.K, Array) else part_root.K
    # Cut the part's Document from its root before copying, so that copying its kids does
    # not drag the part's whole root and parent tree along a second time.
    del part_document["/P"]
    book.pages.extend(part.pages)
    part_kids = part_document.K if isinstance(part_document.K, Array) else [part_document.K]
    kids = [book.copy_foreign(kid) for kid in part_kids]
    part_nums = book.copy_foreign(part_root.ParentTree).Nums
    for kid in kids:
        kid.P = document
        document.K.append(kid)
    largest = -1
    for i in range(0, len(part_nums), 2):
        key = int(part_nums[i])
        largest = max(largest, key)
        nums.append(key + offset)
        nums.append(part_nums[i + 1])
    for page in book.pages[first_page:]:
        page_obj = page.obj
        if "/StructParents" in page_obj:
            page_obj.StructParents = int(page_obj.StructParents) + offset
        for annotation in page_obj.get("/Annots", ()):
            if "/StructParent" in annotation:
                annotation.StructParent = int(annotation.StructParent) + offset
    book_root.ParentTreeNextKey = offset + largest + 1


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
