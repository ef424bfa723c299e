"""The URL fetcher that lets WeasyPrint read nothing but laks' own files.

A case's text comes from users. It is sanitised before it reaches the engine, but the PDF
must stay safe even if something slips through: WeasyPrint's default fetcher would read
``file:`` URLs (pulling local files into a published PDF) and fetch any external URL. The
fetcher here serves an allow-list of laks' own files (the stylesheet and the bundled font)
and ``data:`` URIs (charts), and refuses everything else, recording what it refused.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

from .assets import font_files


class RefusedURL(ValueError):
    """Raised (and caught by WeasyPrint, which then leaves the resource out) for any URL
    that is not a data: URI or one of laks' own allowed files."""


class SafeFetcher(URLFetcher):
    """Serves laks' allowed files and data: URIs; refuses file:, http(s) and the rest.

    ``refused`` lists every URL that was asked for and not served.
    """

    def __init__(self, allowed: set[Path] | None = None):
        super().__init__(timeout=1, allowed_protocols={"data", "file"}, allow_redirects=False)
        self.allowed = {p.resolve() for p in (allowed or set(font_files().values()))}
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = Path(unquote(urlsplit(url).path)).resolve()
            if path in self.allowed:
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": "font/ttf"})
        self.refused.append(url)
        raise RefusedURL(f"laks renders no outside resource: {url}")
