"""Time, peak memory and size of the catalogue PDF for 17, 100 and 500 generated cases:
a full build, rebuilds after one case changed (the median of three), and (for the size ratio)
the same book rendered by WeasyPrint as one document.

    python -m bench.catalogue [--cases 17 100 500] [--no-single-pass]

Peak memory is that of the whole process tree (this process and its rendering workers),
summed resident set sizes sampled every 20 ms, so shared libraries count once per process.
CPU seconds (this process and its children) are printed beside wall time, and the load
average after each full build: on a shared machine, wall time grows with others' work.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

from laks.render import Book, Chapter, build_book
from laks.render import html as book_html
from laks.rendering import render_markdown

MUNICIPALITIES = ["Aarhus", "Odense", "Aalborg", "Esbjerg", "Randers", "Kolding", "Horsens",
                  "Vejle", "Herning", "Roskilde", "Næstved", "Silkeborg", "Frederikshavn",
                  "Ærø", "Holbæk", "Sønderborg", "Svendborg", "Hjørring", "Viborg", "Køge"]
THEMES = ["Rygning", "Alkohol", "Kost", "Fysisk aktivitet", "Mental sundhed", "Søvn",
          "Ensomhed", "Sprog og kultur", "Digitale barrierer", "Økonomi og transport"]
GROUPS = ["Enlige mænd over 60 år", "Unge uden uddannelse", "Borgere med anden etnisk baggrund",
          "Småbørnsforældre i udsatte boligområder", "Borgere med psykisk sårbarhed"]
TYPES = ["Rekruttering", "Fastholdelse", "Kommunikation", "Samarbejde på tværs"]
SENTENCES = [
    "Vi så, at borgerne i målgruppen sjældent kom til de første samtaler.",
    "Flere fortalte, at de ikke vidste, at tilbuddet var gratis.",
    "Medarbejderne oplevede, at invitationen var skrevet i et sprog, der var svært at forstå.",
    "Vi talte med borgere på biblioteket, i fodboldklubben og ved indkøbscentret.",
    "Afstanden til sundhedscentret betød meget for dem, der ikke har bil.",
    "Vi flyttede en del af forløbet ud i lokalområdet, tæt på hvor borgerne bor.",
    "Tovholderen holdt et ugentligt møde med de frivillige for at følge op.",
    "Det var vigtigt, at den samme medarbejder fulgte borgeren hele vejen.",
    "Vi prøvede at ringe til borgerne i stedet for at sende et brev i e-Boks.",
    "Deltagerne fremhævede fællesskabet på holdet som det vigtigste.",
    "Nogle borgere faldt fra, da forløbet skiftede lokale midt i perioden.",
    "Vi lærte, at små ændringer i tidspunkt og sted kan gøre en stor forskel.",
    "Lederen bakkede op om, at vi brugte tid på at afprøve nye veje.",
    "Samarbejdet med jobcentret gav os kontakt til borgere, vi ellers ikke møder.",
    "Vi målte fremmøde og frafald hver måned og drøftede tallene i teamet.",
    "Æbler, øl og ål: også de særlige danske bogstaver skal stå rigtigt i kataloget.",
]


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(rng.choice(SENTENCES) for _ in range(sentences))


def case(number: int, revision: int = 0) -> Chapter:
    """A generated case of two to three pages."""
    rng = random.Random(number)  # noqa: S311 - repeatable test content, not secrets
    municipality = MUNICIPALITIES[number % len(MUNICIPALITIES)]
    months = ["Januar", "Februar", "Marts", "April", "Maj", "Juni"]
    table = "\n".join(f"| {m} | {rng.randint(2, 30)} | {rng.randint(0, 8)} |" for m in months)
    steps = "\n".join(f"- {rng.choice(SENTENCES)}" for _ in range(rng.randint(4, 7)))
    advice = "\n".join(f"{i}. {rng.choice(SENTENCES)}" for i in range(1, 5))
    text = f"""## Udfordringen

{paragraph(rng, 6)}

{paragraph(rng, 5)}

## Målgruppen

{paragraph(rng, 5)}

## Det gjorde vi

{paragraph(rng, 4)}

{steps}

### Forløbet måned for måned

| Måned | Fremmødte | Frafald |
|---|---|---|
{table}

## Det lærte vi

{paragraph(rng, 7)}

{paragraph(rng, 6)}

> {paragraph(rng, 2)}

## Gode råd til andre kommuner

{advice}

{paragraph(rng, rng.randint(4, 14))}
{" Revideret." * revision}
"""
    values = [rng.randint(5, 40) for _ in range(6)]
    bars = "".join(
        f'<rect x="{20 + i * 45}" y="{150 - v * 3}" width="30" height="{v * 3}" '
        f'fill="#0f3b5f"/><text x="{22 + i * 45}" y="168" font-size="10" '
        f'font-family="Laks Plex">{months[i][:3]}</text>'
        for i, v in enumerate(values))
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="300" height="175" '
           f'viewBox="0 0 300 175">{bars}</svg>')
    return Chapter(
        key=f"case-{number:04d}",
        title=f"{rng.choice(TYPES)}: {rng.choice(GROUPS).lower()} i {municipality}",
        municipality=municipality, unit=f"Sundhedscenter {municipality} {number % 7 + 1}",
        themes=tuple(sorted(rng.sample(THEMES, rng.randint(1, 3)))),
        target_group=rng.choice(GROUPS), challenge_type=rng.choice(TYPES),
        body_html=str(render_markdown(text)),
        chart_svg=svg if number % 2 == 0 else None,
        chart_alt="Søjlediagram over fremmødte borgere pr. måned" if number % 2 == 0 else None)


def generated_book(cases: int) -> Book:
    rng = random.Random(-1)  # noqa: S311 - repeatable test content, not secrets
    foreword = render_markdown(paragraph(rng, 8) + "\n\n" + paragraph(rng, 6))
    intro = render_markdown("## Sådan læser du kataloget\n\n" + paragraph(rng, 9))
    return Book(title="Lige adgang til sundhedstilbud", edition_number=3,
                published_on=date(2026, 11, 25), network_name="LAKS-netværket",
                foreword_html=str(foreword), introduction_html=str(intro),
                chapters=tuple(case(n) for n in range(cases)))


class PeakMemory:
    """Samples the summed RSS of this process and all its descendants."""

    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(os.getpid()))
            self._stop.wait(0.02)


def tree_rss(root: int) -> int:
    """Bytes resident in ``root`` and its descendants."""
    children: dict[int, list[int]] = {}
    rss = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def cpu_seconds() -> float:
    """CPU time of this process and its finished children: unlike wall time, it does not
    grow when other work shares the machine."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def single_pass(book: Book, folder: Path) -> tuple[float, int, int]:
    """Seconds, CPU seconds, peak bytes and size of the same book rendered as one
    WeasyPrint document (PDF/UA-1), in a child process."""
    pages = {c.key: 0 for c in book.chapters}
    parts = [book_html.front_html(book, []), book_html.chapters_html(list(book.chapters)),
             book_html.index_html(book, pages)]
    bodies = [p.split("<body>", 1)[1].split("</body>", 1)[0] for p in parts]
    whole = parts[0].split("<body>", 1)[0] + "<body>" + "".join(bodies) + "</body></html>"
    source = folder / "single.html"
    source.write_text(whole)
    code = ("import sys; from pathlib import Path; from laks.render.parts import render_one; "
            "render_one(Path(sys.argv[1]).read_text(), (), sys.argv[2])")
    started, cpu = time.perf_counter(), cpu_seconds()
    with PeakMemory() as memory:
        subprocess.run([sys.executable, "-c", code, str(source), str(folder / "single")],
                       check=True)
    return (time.perf_counter() - started, cpu_seconds() - cpu, memory.peak,
            (folder / "single.pdf").stat().st_size)


def measure(cases: int, with_single: bool) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="laks-catalogue-"))
    book = generated_book(cases)
    cpu = cpu_seconds()
    with PeakMemory() as memory:
        full = build_book(book, folder / "cache", folder / "book.pdf")
    full_peak, full_cpu = memory.peak, cpu_seconds() - cpu
    load = os.getloadavg()[0]
    # Three rebuilds, each after one more case changed (a quarter, half and three quarters
    # into the book): the batch a case falls in holds one to eight cases, so one rebuild
    # alone says as much about that batch as about the engine. The median is reported.
    changed = list(book.chapters)
    rebuilds = []
    for where in (len(changed) // 4, len(changed) // 2, 3 * len(changed) // 4):
        changed[where] = replace(case(where, revision=1), key=changed[where].key)
        cpu = cpu_seconds()
        with PeakMemory() as memory:
            again = build_book(replace(book, chapters=tuple(changed)), folder / "cache",
                               folder / "book.pdf")
        rebuilds.append((again.seconds, cpu_seconds() - cpu, memory.peak,
                         again.chapters_rendered))
    rebuild_s, rebuild_cpu, rebuild_mb, rebuilt = sorted(rebuilds)[1]
    row = {"cases": cases, "pages": full.pages, "full_s": full.seconds, "full_cpu": full_cpu,
           "full_mb": full_peak, "size": full.bytes, "rebuild_s": rebuild_s,
           "rebuild_cpu": rebuild_cpu, "rebuild_mb": max(r[2] for r in rebuilds),
           "rebuilt": rebuilt, "rebuilds": [r[0] for r in rebuilds], "load": load}
    if with_single:
        (row["single_s"], row["single_cpu"], row["single_mb"],
         row["single_size"]) = single_pass(book, folder)
    shutil.rmtree(folder)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, nargs="+", default=[17, 100, 500])
    parser.add_argument("--no-single-pass", action="store_true")
    args = parser.parse_args()
    rows = [measure(n, not args.no_single_pass) for n in args.cases]
    load = os.getloadavg()
    print(f"\nlaks catalogue PDF (PDF/UA-1), {os.cpu_count()} cores, load average "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end\n")
    print("| cases | load | pages | full build s (CPU s) | peak MB | size MB "
          "| rebuild s (CPU s), cases re-set | the three rebuilds s | rebuild % "
          "| rebuild peak MB "
          "| single pass s (CPU s) / peak MB / size MB | size ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    mb = 1024 * 1024
    for r in rows:
        single = (f"{r['single_s']:.1f} ({r['single_cpu']:.1f}) / {r['single_mb'] / mb:.0f} / "
                  f"{r['single_size'] / mb:.2f}" if "single_s" in r else "–")
        ratio = f"{r['size'] / r['single_size']:.2f}" if "single_s" in r else "–"
        print(f"| {r['cases']} | {r['load']:.1f} | {r['pages']} "
              f"| {r['full_s']:.1f} ({r['full_cpu']:.1f}) "
              f"| {r['full_mb'] / mb:.0f} | {r['size'] / mb:.2f} "
              f"| {r['rebuild_s']:.2f} ({r['rebuild_cpu']:.2f}), {r['rebuilt']} "
              f"| {' / '.join(f'{s:.2f}' for s in r['rebuilds'])} "
              f"| {100 * r['rebuild_s'] / r['full_s']:.1f} | {r['rebuild_mb'] / mb:.0f} "
              f"| {single} | {ratio} |")


if __name__ == "__main__":
    main()
