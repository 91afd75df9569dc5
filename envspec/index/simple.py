"""Project pages of the simple repository API → :class:`ProjectFiles`; pure, no I/O.

An index answers either PEP 691 JSON or PEP 503 HTML (the client asks for JSON first and decides by
Content-Type), and both carry the same facts: file URL and hashes, requires-python, yanked (PEP 592),
the PEP 658/714 metadata file, and in JSON also size and upload time (PEP 700). Parsing is kept apart
from fetching so it can be tested against the pages in ``fixtures/pages/``.

Files whose names are not valid wheel or sdist names (``.egg``, ``.exe``, mis-named uploads) or that
belong to another project are skipped: the resolver could never use them. So is a file whose
``requires-python`` is not a valid specifier, or whose name is longer than any filesystem allows (a
5,000-digit version): one bad entry must not break the whole page, and ``-v`` says what was skipped
(the ``envspec.notes`` logger).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from envspec.errors import OutsideWorldError
from envspec.values.files import FileInfo, ProjectFiles
from envspec.values.urls import strip_credentials

__all__ = [
    "JSON_CONTENT_TYPE",
    "InvalidIndexPage",
    "is_json_content_type",
    "parse_html_page",
    "parse_json_page",
    "parse_page",
]

JSON_CONTENT_TYPE = "application/vnd.pypi.simple.v1+json"
# No filesystem stores a longer file name; a longer one is hostile or broken, and parsing its
# version (thousands of digits) is slow or fails.
MAX_FILENAME_LENGTH = 255

notes = logging.getLogger("envspec.notes")


class InvalidIndexPage(OutsideWorldError):
    """A project page could not be understood; the index, not the user, is at fault."""

    def __init__(self, page_url: str, reason: str) -> None:
        super().__init__(f"The index page {page_url!r} is invalid: {reason}.")
        self.page_url = page_url
        self.reason = reason


def is_json_content_type(content_type: str) -> bool:
    base = content_type.split(";", 1)[0].strip().lower()
    return base == JSON_CONTENT_TYPE or (base.startswith("application/") and base.endswith("json"))


def parse_page(
    data: bytes, *, content_type: str, page_url: str, index_url: str, name: str | None = None
) -> ProjectFiles:
    """Dispatch on Content-Type: PEP 691 JSON, anything else as PEP 503 HTML."""
    if is_json_content_type(content_type):
        return parse_json_page(data, page_url=page_url, index_url=index_url, name=name)
    return parse_html_page(data, page_url=page_url, index_url=index_url, name=name)


def parse_json_page(
    data: bytes, *, page_url: str, index_url: str, name: str | None = None
) -> ProjectFiles:
    """A PEP 691 project page. ``name`` defaults to the page's own ``name``."""
    page_url = strip_credentials(page_url)
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidIndexPage(page_url, f"not valid JSON ({error})") from None
    except RecursionError:
        raise InvalidIndexPage(page_url, "its JSON is nested too deeply to read") from None
    if not isinstance(document, dict) or not isinstance(document.get("files"), list):
        raise InvalidIndexPage(page_url, "it has no 'files' list")
    project = _project_name(document.get("name") or name, page_url)
    files: list[FileInfo] = []
    for entry in document["files"]:
        if not isinstance(entry, dict):
            continue
        filename = entry.get("filename")
        raw_url = entry.get("url")
        if not isinstance(filename, str) or not isinstance(raw_url, str):
            continue
        url, fragment_hashes = _split_url(raw_url, page_url)
        hashes = _hash_dict(entry.get("hashes")) or fragment_hashes
        yanked_value = entry.get("yanked", False)
        yanked = yanked_value is not False and yanked_value is not None
        reason = yanked_value if isinstance(yanked_value, str) and yanked_value else None
        requires_python = entry.get("requires-python")
        size = entry.get("size")
        metadata = entry.get("core-metadata", entry.get("data-dist-info-metadata"))
        if metadata is None:
            metadata = entry.get("dist-info-metadata")
        info = FileInfo(
            filename=filename,
            url=url,
            index_url=index_url,
            hashes=hashes,
            requires_python=requires_python.strip() or None
            if isinstance(requires_python, str)
            else None,
            yanked=yanked,
            yanked_reason=reason,
            size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            upload_time=_parse_time(entry.get("upload-time")),
            metadata_hashes=_json_metadata(metadata),
        )
        if _usable(info, project, page_url):
            files.append(info)
    return ProjectFiles(name=project, index_url=index_url, files=tuple(files))


def parse_html_page(
    data: bytes, *, page_url: str, index_url: str, name: str | None = None
) -> ProjectFiles:
    """A PEP 503 project page (with the PEP 592/658/714 ``data-*`` attributes).

    ``name`` defaults to the page URL's last path segment.
    """
    page_url = strip_credentials(page_url)
    parser = _AnchorParser()
    parser.feed(data.decode("utf-8", errors="replace"))  # html.parser is lenient: never raises
    parser.close()
    project = _project_name(name, page_url)
    base = urljoin(page_url, parser.base_href) if parser.base_href else page_url
    files: list[FileInfo] = []
    for attrs, text in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        url, hashes = _split_url(href, base)
        filename = text.strip() or unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        requires_python = attrs.get("data-requires-python")
        yanked = "data-yanked" in attrs
        reason = attrs.get("data-yanked") or None
        metadata = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        info = FileInfo(
            filename=filename,
            url=url,
            index_url=index_url,
            hashes=hashes,
            requires_python=unescape(requires_python).strip() or None
            if requires_python
            else None,
            yanked=yanked,
            yanked_reason=reason,
            metadata_hashes=_html_metadata(metadata),
        )
        if _usable(info, project, page_url):
            files.append(info)
    return ProjectFiles(name=project, index_url=index_url, files=tuple(files))


class _AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self.base_href: str | None = None
        self._current: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base" and self.base_href is None:
            self.base_href = dict(attrs).get("href")
        elif tag == "a":
            self._finish()
            # attribute values arrive already unescaped; a valueless attribute maps to ""
            self._current = {key: ("" if value is None else value) for key, value in attrs}
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._finish()

    def close(self) -> None:
        super().close()
        self._finish()

    def _finish(self) -> None:
        if self._current is not None:
            self.anchors.append((self._current, "".join(self._text)))
        self._current = None
        self._text = []


def _project_name(name: object, page_url: str) -> NormalizedName:
    if isinstance(name, str) and name.strip():
        return canonicalize_name(name.strip())
    segments = [segment for segment in urlsplit(page_url).path.split("/") if segment]
    if not segments:
        raise InvalidIndexPage(page_url, "the project name cannot be told from the page or URL")
    return canonicalize_name(unquote(segments[-1]))


def _split_url(raw: str, base: str) -> tuple[str, dict[str, str]]:
    """Absolute URL without fragment or credentials, and the ``#algo=digest`` hash if present."""
    if raw.startswith(("https://", "http://")) and not any(c in raw for c in "#@ \t\n"):
        return raw, {}  # the common case (PyPI's JSON): already absolute and clean
    absolute = strip_credentials(urljoin(base, raw.strip()))
    parts = urlsplit(absolute)
    hashes: dict[str, str] = {}
    if parts.fragment and "=" in parts.fragment:
        algo, _, digest = parts.fragment.partition("=")
        if algo and digest:
            hashes[algo.strip().lower()] = digest.strip().lower()
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, "")), hashes


def _hash_dict(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {
        str(algo).lower(): digest.lower()
        for algo, digest in value.items()
        if isinstance(digest, str) and digest
    }


def _json_metadata(value: object) -> Mapping[str, str] | None:
    if value is True:
        return {}
    if isinstance(value, Mapping):
        return _hash_dict(value)
    return None


def _html_metadata(value: str | None) -> Mapping[str, str] | None:
    if value is None:
        return None
    value = value.strip()
    if value.lower() == "false":
        return None
    if "=" in value:
        algo, _, digest = value.partition("=")
        return {algo.strip().lower(): digest.strip().lower()}
    return {}


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _usable(info: FileInfo, project: NormalizedName, page_url: str) -> bool:
    """Whether the resolver can use the file; says (under ``-v``) why a broken entry is skipped."""
    if len(info.filename) > MAX_FILENAME_LENGTH:
        notes.info(
            "skipped a file of %s on %s: its name is %d characters long",
            project, page_url, len(info.filename),
        )
        return False
    try:
        parsed = info.name_and_version()
    except ValueError:  # a version packaging cannot hold (int digit limits)
        parsed = None
    if parsed is None or parsed[0] != project:
        return False
    if info.requires_python is not None and not _valid_specifier(info.requires_python):
        notes.info(
            "skipped %s on %s: its requires-python %r is not a valid specifier",
            info.filename, page_url, info.requires_python,
        )
        return False
    return True


@functools.lru_cache(maxsize=1024)
def _valid_specifier(text: str) -> bool:
    """Cached: a page of thousands of files has a handful of distinct requires-python values."""
    try:
        SpecifierSet(text)
    except InvalidSpecifier:
        return False
    return True
