"""Checks of a built catalogue's tagged structure, by code (veraPDF is not available here).

They cover what PDF/UA-1 asks of the book as a whole and what joining parts could break:
one structure tree with one Document element, every page's and link's marked content
reachable through the ParentTree and nothing else in it, every structure element on a page
of this file, headings in order, figures with a text alternative, language, title and the marks.
Used by the tests and by the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass

import pikepdf
from pikepdf import Array, Dictionary, Name


@dataclass(frozen=True)
class Heading:
    """A heading element: its level and the 1-based page it is on."""

    level: int
    page: int


def structure_problems(pdf: pikepdf.Pdf) -> list[str]:
    """Everything wrong with the book's tagging; an empty list when all is well."""
    problems = []
    root = pdf.Root
    if root.get("/Lang") != "da":
        problems.append(f"/Lang is {root.get('/Lang')!r}, not 'da'")
    if root.get("/MarkInfo", {}).get("/Marked") is not True:
        problems.append("/MarkInfo /Marked is not true")
    if root.get("/ViewerPreferences", {}).get("/DisplayDocTitle") is not True:
        problems.append("/ViewerPreferences /DisplayDocTitle is not true")
    if not str(pdf.docinfo.get("/Title", "")):
        problems.append("no /Title in the document information")
    meta = pdf.open_metadata()
    if not meta.get("dc:title"):
        problems.append("no dc:title in the XMP metadata")
    if meta.get("pdfuaid:part") != "1":
        problems.append("the XMP metadata does not declare PDF/UA-1")
    tree = root.get("/StructTreeRoot")
    if tree is None:
        return [*problems, "no /StructTreeRoot"]
    kids = tree.K if isinstance(tree.K, Array) else [tree.K]
    if len(kids) != 1 or kids[0].get("/S") != Name.Document:
        problems.append("the structure tree has not exactly one Document element")
    parents = parent_tree(tree)
    pages = {page.obj.objgen: number for number, page in enumerate(pdf.pages)}
    for number, page in enumerate(pdf.pages, start=1):
        key = page.obj.get("/StructParents")
        if key is None or int(key) not in parents:
            problems.append(f"page {number}: /StructParents {key} not in the ParentTree")
        elif any(isinstance(e, Dictionary) and e.get("/Pg") is not None
                 and e.Pg.objgen != page.obj.objgen for e in parents[int(key)]):
            problems.append(f"page {number}: its ParentTree entry names another page's "
                            "elements")
        for annotation in page.obj.get("/Annots", ()):
            key = annotation.get("/StructParent")
            if key is None or int(key) not in parents:
                problems.append(f"page {number}: an annotation is not in the ParentTree")
    used = {int(page.obj.StructParents) for page in pdf.pages if "/StructParents" in page.obj}
    used |= {int(a.StructParent) for page in pdf.pages for a in page.obj.get("/Annots", ())
             if "/StructParent" in a}
    stale = sorted(set(parents) - used)
    if stale:
        problems.append(f"ParentTree keys {stale[:5]} belong to no page or link of the book")
    for key, value in parents.items():
        if not isinstance(value, Array):
            continue
        for mcid, element in enumerate(value):
            if not _holds(element, mcid):
                problems.append(f"ParentTree {key}: MCID {mcid} is not among its element's kids")
                break
    elements = list(walk(kids[0])) if kids else []
    for element in elements:
        page = element.get("/Pg")
        if page is not None and page.objgen not in pages:
            problems.append(f"a {element.S} element points to a page not in the book")
            break
        if element.S == Name.Figure and not str(element.get("/Alt", "")):
            problems.append(f"a Figure on page {pages.get(page.objgen, -1) + 1} has no /Alt")
    ids = [str(e.ID) for e in elements if "/ID" in e]
    if len(set(ids)) != len(ids):
        problems.append("two structure elements have the same /ID")
    if ids:
        names = tree.get("/IDTree", {}).get("/Names", Array())
        listed = {str(names[i]): names[i + 1] for i in range(0, len(names), 2)}
        keys = [bytes(names[i]) for i in range(0, len(names), 2)]
        if set(listed) != set(ids) or keys != sorted(keys):
            problems.append("the /IDTree does not list every element /ID, sorted")
    documents = [e for e in elements if e.S == Name.Document]
    if len(documents) != 1:
        problems.append(f"{len(documents)} Document elements in the tree, not 1")
    levels = [h.level for h in headings(pdf)]
    for before, after in zip(levels, levels[1:], strict=False):
        if after > before + 1:
            problems.append(f"heading level jumps from H{before} to H{after}")
            break
    return problems


def _holds(element, mcid: int) -> bool:
    """Whether structure element ``element`` has marked content ``mcid`` as a kid."""
    if not isinstance(element, Dictionary):
        return False
    kids = element.get("/K")
    kids = list(kids) if isinstance(kids, Array) else [kids]
    return any(kid == mcid or (isinstance(kid, Dictionary) and kid.get("/MCID") == mcid)
               for kid in kids)


def parent_tree(tree) -> dict[int, object]:
    """The ParentTree's keys and values (a flat /Nums array or /Kids nodes)."""
    found = {}
    stack = [tree.ParentTree]
    while stack:
        node = stack.pop()
        nums = node.get("/Nums", Array())
        for i in range(0, len(nums), 2):
            found[int(nums[i])] = nums[i + 1]
        stack.extend(node.get("/Kids", ()))
    return found


def walk(element):
    """Structure elements depth-first in reading order, ``element`` first."""
    stack = [element]
    while stack:
        current = stack.pop()
        yield current
        kids = current.get("/K")
        if kids is None:
            continue
        kids = list(kids) if isinstance(kids, Array) else [kids]
        stack.extend(k for k in reversed(kids)
                     if isinstance(k, Dictionary) and "/S" in k)


def headings(pdf: pikepdf.Pdf) -> list[Heading]:
    """The H1–H6 elements in reading order, with their pages."""
    pages = {page.obj.objgen: number for number, page in enumerate(pdf.pages, start=1)}
    found = []
    for element in walk(pdf.Root.StructTreeRoot.K[0]):
        name = str(element.S)
        if len(name) == 3 and name.startswith("/H") and name[2].isdigit():
            found.append(Heading(int(name[2]), pages.get(element.Pg.objgen, 0)))
    return found


def figures(pdf: pikepdf.Pdf) -> list[tuple[int, str]]:
    """(page, /Alt) of each Figure element."""
    pages = {page.obj.objgen: number for number, page in enumerate(pdf.pages, start=1)}
    return [(pages.get(e.Pg.objgen, 0), str(e.get("/Alt", "")))
            for e in walk(pdf.Root.StructTreeRoot.K[0]) if e.S == Name.Figure]
