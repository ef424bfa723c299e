"""Static files over HTTP, as laks serves them under gunicorn: every page names them by a
digest of their content, and each is sent compressed when the browser asks, cached for a
year and never revalidated – so a page view costs no request for them; an unknown digest is
404. And the build behind it (laks.staticfiles), on a folder of its own."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import re
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import brotli
import pytest

from laks.staticfiles import build
from tests import http_support

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
YEAR = "max-age=31536000, public, immutable"
FINGERPRINTED = re.compile(r"/static/(.+)\.([0-9a-f]{12})(\.[a-z0-9]+)?$")


@pytest.fixture(scope="module")
def gunicorn(_schema, database_url, tmp_path_factory):
    """laks under gunicorn (one worker), as production runs it: ``laks:create_app()``; for
    the tests of this file, which read only public pages and files."""
    env = {"LAKS_DATABASE_URL": database_url,
           "LAKS_SECRET_KEY": "a-key-for-the-static-file-test-only-0123456789",
           "LAKS_OUTBOX_DIR": str(tmp_path_factory.mktemp("outbox"))}
    with http_support.gunicorn(env, options=("--log-level", "warning")) as (port, _server):
        yield port


def get(port: int, path: str, **headers) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, \
            response.read()
    finally:
        connection.close()


def static_urls(html: str) -> list[str]:
    return sorted(set(re.findall(r'(?:href|src)="(/static/[^"#]+)', html)))


def original(url: str) -> Path:
    """The file in static/ that a fingerprinted URL names."""
    stem, _digest, suffix = FINGERPRINTED.match(urlsplit(url).path).groups()
    return STATIC / f"{stem}{suffix or ''}"


def test_static_a_page_names_each_file_by_its_content_cached_for_a_year(gunicorn):
    status, headers, body = get(gunicorn, "/")
    assert status == 200
    urls = static_urls(body.decode())
    # The stylesheets, the scripts, the favicon and the icons' sprite.
    assert len(urls) >= 5 and any("/css/laks." in u for u in urls)
    for url in urls:
        assert FINGERPRINTED.match(url), url
        status, headers, _body = get(gunicorn, url)
        assert status == 200, url
        assert headers["cache-control"] == YEAR, url
        assert "no-cache" not in headers["cache-control"]
    # The site's stylesheet refers to nothing, so its name holds the digest of the file.
    [css] = [u for u in urls if "/css/laks." in u]
    digest = hashlib.sha256((STATIC / "css" / "laks.css").read_bytes()).hexdigest()[:12]
    assert css == f"/static/css/laks.{digest}.css"


@pytest.mark.parametrize("encoding, decode", [
    ("br", brotli.decompress), ("gzip", gzip.decompress), (None, lambda data: data)],
    ids=["brotli", "gzip", "plain"])
def test_static_css_is_compressed_when_asked(gunicorn, encoding, decode):
    _status, _headers, page = get(gunicorn, "/")
    [css] = [u for u in static_urls(page.decode()) if "/css/laks." in u]
    asked = {"Accept-Encoding": encoding} if encoding else {}
    status, headers, body = get(gunicorn, css, **asked)
    assert status == 200
    assert headers.get("content-encoding") == encoding
    assert headers["vary"] == "Accept-Encoding"
    assert headers["content-type"].startswith("text/css")
    assert headers["cache-control"] == YEAR
    plain = (STATIC / "css" / "laks.css").read_bytes()
    assert decode(body) == plain
    if encoding:
        assert len(body) < len(plain) / 2
    # The app's security headers hold for its files too.
    assert headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in headers["content-security-policy"]


def test_static_an_unknown_digest_is_not_found(gunicorn):
    _status, _headers, page = get(gunicorn, "/")
    [css] = [u for u in static_urls(page.decode()) if "/css/laks." in u]
    wrong = re.sub(r"\.[0-9a-f]{12}\.css$", ".0123456789ab.css", css)
    assert wrong != css
    assert get(gunicorn, wrong)[0] == 404
    assert get(gunicorn, "/static/css/findes-ikke.0123456789ab.css")[0] == 404


def test_static_the_design_systems_fonts_are_fingerprinted_from_its_stylesheet(gunicorn):
    _status, _headers, page = get(gunicorn, "/")
    [css] = [u for u in static_urls(page.decode()) if "/dkfds/css/dkfds.min." in u]
    _status, _headers, body = get(gunicorn, css, **{"Accept-Encoding": "br"})
    text = brotli.decompress(body).decode()
    references = set(re.findall(r"url\(([^)'\"]+)\)", text)) - {
        r for r in re.findall(r"url\(([^)'\"]+)\)", text) if r.startswith("data:")}
    fonts = [r for r in references if ".woff2" in r]
    assert fonts and all(re.search(r"\.[0-9a-f]{12}\.woff2$", f) for f in fonts)
    for font in fonts[:3]:
        status, headers, data = get(gunicorn, urljoin(css, font))
        assert status == 200 and headers["cache-control"] == YEAR
        assert data == original(urljoin(css, font)).read_bytes()


def test_static_a_file_the_build_does_not_know_is_served_as_before(client):
    """Not fingerprinted, not cached for a year: asked for again on every view."""
    response = client.get("/static/css/laks.css")
    assert response.status_code == 200
    assert "immutable" not in response.headers.get("Cache-Control", "")
    response.close()


def test_static_in_debug_mode_files_keep_their_names(make_app):
    """A developer's server (flask run --debug) serves the files as they are: they change
    under it."""
    app = make_app(DEBUG=True)
    with app.test_request_context():
        from flask import url_for

        assert url_for("static", filename="css/laks.css") == "/static/css/laks.css"


# --- the build ------------------------------------------------------------------------------


def _tree(root: Path, files: dict[str, bytes | str]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


CSS = """@font-face { src: url(../fonts/a.woff2) format("woff2"),
  url('../fonts/a.eot?#iefix'), url("data:image/png;base64,AAAA"),
  url(https://example.org/x.png), url(../fonts/missing.woff2); }
.logo { background: url(../img/logo.svg); }
/*# sourceMappingURL=site.css.map */
""" + "p { color: black; }\n" * 200


def test_static_build_names_by_content_and_rewrites_references(tmp_path):
    source = _tree(tmp_path / "static", {
        "css/site.css": CSS, "css/site.css.map": "{}", "fonts/a.woff2": b"\x00font",
        "fonts/a.eot": b"\x00eot", "img/logo.svg": "<svg></svg>" * 100})
    made = build(source, tmp_path / "out")
    names = made.names
    for name in ("fonts/a.woff2", "fonts/a.eot", "img/logo.svg", "css/site.css.map"):
        content = (source / name).read_bytes()
        assert names[name] == re.sub(
            r"(\.[^./]+)$", "." + hashlib.sha256(content).hexdigest()[:12] + r"\1", name)
    css = (made.folder / names["css/site.css"]).read_text()
    woff2, eot, svg = (Path(names[n]).name for n in ("fonts/a.woff2", "fonts/a.eot",
                                                     "img/logo.svg"))
    assert f"url(../fonts/{woff2})" in css
    assert f"url('../fonts/{eot}?#iefix')" in css
    assert f"url(../img/{svg})" in css
    assert 'url("data:image/png;base64,AAAA")' in css and "url(https://example.org/x.png)" in css
    assert "url(../fonts/missing.woff2)" in css  # nothing to point at: left as it is
    assert f"sourceMappingURL={Path(names['css/site.css.map']).name}" in css
    # The stylesheet's own name holds the digest of what it became.
    assert names["css/site.css"].endswith(hashlib.sha256(css.encode()).hexdigest()[:12] + ".css")


def test_static_build_compresses_text_only_and_never_writes_a_file_twice(tmp_path):
    source = _tree(tmp_path / "static", {"css/site.css": CSS, "fonts/a.woff2": b"\x00" * 4000,
                                         "js/tiny.js": "x"})
    out = tmp_path / "out"
    names = build(source, out).names
    css = out / names["css/site.css"]
    assert brotli.decompress((out / (names["css/site.css"] + ".br")).read_bytes()) == \
        css.read_bytes()
    assert gzip.decompress((out / (names["css/site.css"] + ".gz")).read_bytes()) == \
        css.read_bytes()
    assert not (out / (names["fonts/a.woff2"] + ".br")).exists()  # compressed already
    assert not (out / (names["js/tiny.js"] + ".gz")).exists()  # nothing to gain
    assert oct(css.stat().st_mode & 0o777) == "0o644"
    written = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    time.sleep(0.01)
    assert build(source, out).names == names
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == written
    # A changed file gets a new name; the old one stays for pages already sent.
    (source / "css" / "site.css").write_text(CSS + "a { color: red; }\n")
    changed = build(source, out).names
    assert changed["css/site.css"] != names["css/site.css"]
    assert (out / changed["css/site.css"]).exists() and css.exists()
    assert not list(out.rglob(".*.tmp"))
