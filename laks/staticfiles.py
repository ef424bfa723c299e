"""Static files as browsers should get them: under a name that holds a digest of their content
(``css/laks.css`` → ``css/laks.3f2a9c1b2d4e.css``), compressed with brotli and gzip, and
served by WhiteNoise with ``Cache-Control: max-age=31536000, public, immutable``. A page view
then costs no request for them at all: a changed file has a new name, so a browser never has
to ask whether the old one is still good.

:func:`build` copies the static folder into a build folder (in the instance folder) under
those names – stylesheets with their ``url(...)`` references, and stylesheets and scripts with
their source-map comments, pointed at the fingerprinted names – and writes ``.br`` and
``.gz`` beside each text file. Names are content-addressed, so a file already built is never
written again, and several processes starting at once write the same bytes (each file is
written under a temporary name and renamed into place). ``url_for('static', filename=...)``
gives the fingerprinted URL of every file the build knows (laks.create_app registers it);
a file that is not in the build is still served, unfingerprinted, by Flask.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

#: A year, the longest a cache is asked to keep anything.
YEAR = 365 * 24 * 3600
#: Hex digits of the SHA-256 digest in a fingerprinted name.
HASH_LENGTH = 12
#: Files sent compressed: the text that pages load. (Fonts in woff/woff2 and images are
#: compressed already; ttf, otf and eot are fallbacks that browsers of today never ask for,
#: and source maps are read by developer tools only.)
COMPRESSED = {".css", ".js", ".svg", ".json", ".txt", ".html", ".xml"}
#: Files whose references to other static files are rewritten to fingerprinted names.
_REWRITTEN = {".css", ".js"}

_URL = re.compile(r"""url\(\s*(['"]?)([^'")\s]+)\1\s*\)""")
_SOURCE_MAP = re.compile(r"""(sourceMappingURL=)([^\s*'"]+)""")
_PATH_AND_REST = re.compile(r"([^?#]*)(.*)", re.DOTALL)


@dataclass(frozen=True)
class Build:
    """What :func:`build` made: the folder, and each file's fingerprinted path by its own."""

    folder: Path
    names: dict[str, str]


def fingerprinted(path: str, content: bytes) -> str:
    """``css/laks.css`` with ``content`` → ``css/laks.<12 hex digits>.css``."""
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    folder, name = posixpath.split(path)
    stem, dot, suffix = name.rpartition(".")
    new = f"{stem}.{digest}.{suffix}" if dot and stem else f"{name}.{digest}"
    return posixpath.join(folder, new)


def _rewrite(path: str, text: str, names: dict[str, str]) -> str:
    """Point the relative references of the stylesheet or script at ``path`` to the
    fingerprinted names (query and fragment kept: ``font.eot?#iefix``)."""
    folder = posixpath.dirname(path)

    def swap(reference: str) -> str:
        if reference.startswith(("data:", "http:", "https:", "//", "/", "#")):
            return reference
        target, rest = _PATH_AND_REST.match(reference).groups()
        found = names.get(posixpath.normpath(posixpath.join(folder, target)))
        if found is None:
            return reference
        return posixpath.relpath(found, folder or ".") + rest

    text = _URL.sub(lambda m: f"url({m.group(1)}{swap(m.group(2))}{m.group(1)})", text)
    return _SOURCE_MAP.sub(lambda m: m.group(1) + swap(m.group(2)), text)


def _write(target: Path, content: bytes) -> None:
    """Write ``content`` to ``target`` unless it is there: under a temporary name first, so
    that no process ever serves half a file."""
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(temporary, 0o644)  # public files, like the ones they are made from
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _compress(target: Path, content: bytes, compressor: Compressor) -> None:
    if target.suffix not in COMPRESSED or not content:
        return
    for suffix, squeeze in ((".br", compressor.compress_brotli),
                            (".gz", compressor.compress_gzip)):
        if suffix == ".br" and not compressor.use_brotli:
            continue
        variant = target.with_name(target.name + suffix)
        if variant.exists():
            continue
        packed = squeeze(content)
        if len(packed) <= len(content) * 0.95:  # WhiteNoise's measure of worth it
            _write(variant, packed)


def build(source: Path, folder: Path) -> Build:
    """Fingerprint and compress every file under ``source`` into ``folder``."""
    files = sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith("."))
    relative = {p: p.relative_to(source).as_posix() for p in files}
    compressor = Compressor(quiet=True)
    names: dict[str, str] = {}
    # Files that refer to others come last, when the names they refer to are known.
    for path in sorted(files, key=lambda p: (p.suffix in _REWRITTEN, p.suffix == ".css")):
        name = relative[path]
        content = path.read_bytes()
        if path.suffix in _REWRITTEN:
            text = content.decode("utf-8")
            rewritten = _rewrite(name, text, names)
            if rewritten != text:
                content = rewritten.encode("utf-8")
        names[name] = fingerprinted(name, content)
        target = folder / names[name]
        _write(target, content)
        _compress(target, content, compressor)
    return Build(folder, names)


_builds: dict[tuple, Build] = {}
_builds_lock = threading.Lock()


def build_once(source: Path, folder: Path) -> Build:
    """:func:`build`, once per process (an app made again – as each test does – finds the
    build made for the first). A server process never sees its static files change: they
    change with a new release, which starts new processes; in debug mode, where they change
    under a running server, laks does not fingerprint them."""
    key = (source.resolve(), folder.resolve())
    with _builds_lock:
        if key not in _builds:
            _builds[key] = build(source, folder)
        return _builds[key]


class StaticFiles(WhiteNoise):
    """WhiteNoise for fingerprinted files: each is cached for a year and never revalidated
    (``immutable``); anything else goes on to the app."""

    FOREVER = YEAR


_served: dict[tuple, dict] = {}


def serve(app_wsgi, built: Build, prefix: str, headers: dict[str, str]) -> StaticFiles:
    """Wrap ``app_wsgi`` so that the fingerprinted files of ``built`` are answered before
    the app sees the request, with ``headers`` (the app's security headers) on each."""

    def add_headers(found, _path, _url):
        for name, value in headers.items():
            found[name] = value

    static = StaticFiles(app_wsgi, max_age=YEAR, allow_all_origins=False,
                         immutable_file_test=lambda _path, _url: True,
                         add_headers_function=add_headers)
    # The files' answers (headers, sizes, compressed variants) are worked out once per
    # process for a build, not for every app made from it.
    key = (id(built), prefix, tuple(sorted(headers.items())))
    with _builds_lock:
        if key not in _served:
            static.add_files(str(built.folder), prefix=prefix)
            _served[key] = static.files
        static.files = _served[key]
    return static
