"""A rendering worker: ``python laks/render/worker.py`` reads one job per line on stdin
(JSON: html, anchors, stem), renders the part into the cache and answers one JSON line.

Plain subprocesses rather than multiprocessing: they need nothing from the caller (no
``if __name__ == "__main__"`` guard, no fork of a process with threads), and a worker that
exits gives all its memory back. Started as a script, it imports laks.render without
running laks/__init__.py (Flask, SQLAlchemy…), which would cost a worker most of a second.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path


def main() -> None:
    for line in sys.stdin:
        job = json.loads(line)
        try:
            from laks.render.parts import render_one

            result = render_one(job["html"], tuple(job["anchors"]), job["stem"])
            answer = {"ok": True, "result": result}
        except Exception as error:  # noqa: BLE001 - reported to the caller, who raises
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    package = Path(__file__).resolve().parents[1]
    sys.path[0] = str(package.parent)
    if "laks" not in sys.modules:
        stub = types.ModuleType("laks")
        stub.__path__ = [str(package)]
        sys.modules["laks"] = stub
    main()
