"""Credentials inside a base URL, kept out of everything stored or printed.

`--api-base https://user:secret@host/v1?key=abc` must reach the server as given, but the
workspace (run parameters, cache keys), a recipe, a log line or an error message gets
`https://***@host/v1?key=***`. Every query value is hidden except a few that are never
secrets (`api-version`), because a query is where proxies put keys under any name.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote_plus, urlsplit, urlunsplit

MASK = "***"
PUBLIC_QUERY_KEYS = frozenset({"api-version", "api_version"})


def redact_url(url: str | None) -> str | None:
    """`url` with its user-info and secret query values replaced by `***` (None stays None)."""
    if not url:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    query = "&".join(f"{quote(k, safe='')}={v if k.lower() in PUBLIC_QUERY_KEYS else MASK}"
                     for k, v in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment and MASK))


def _secrets(url: str | None) -> list[str]:
    """The secret pieces of `url` (user-info, hidden query values), longest first, raw and
    percent-decoded: what `scrub` removes from messages that may quote the URL."""
    if not url:
        return []
    parts = urlsplit(url)
    found = []
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        pieces = [userinfo, *userinfo.split(":", 1)]
        found += pieces + [unquote_plus(p) for p in pieces]
    for raw in parts.query.split("&"):
        k, _, v = raw.partition("=")
        if k.lower() not in PUBLIC_QUERY_KEYS:
            found += [v, unquote_plus(v)]
    if parts.fragment:
        found.append(parts.fragment)
    return sorted({s for s in found if len(s) >= 3}, key=len, reverse=True)


def scrub(text: str, url: str | None) -> str:
    """`text` with every secret piece of `url` replaced by `***` (the whole URL by its redacted form)."""
    if not url:
        return text
    text = text.replace(url, redact_url(url))
    for s in _secrets(url):
        text = text.replace(s, MASK)
    return text
