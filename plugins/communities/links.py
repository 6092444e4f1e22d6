"""Link check: every website, contact page and co-op or partner URL in the records, tried once.

Run weekly by .github/workflows/links.yml (never on pull requests, so a site
that is down never blocks a contributor). Each distinct URL is asked for once:
HEAD first, then GET when the server refuses HEAD. Only http(s) is followed,
and addresses that resolve to this machine's own or private networks are not
fetched unless `allow_private` is set (the tests' local server).

    >>> sorted(collect([]))
    []
"""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from .model import Community
from .review import md_escape

OK, BROKEN, UNVERIFIED, SKIPPED = "ok", "broken", "unverified", "skipped"
# Answers that mean "this server does not talk to robots", not "this page is gone".
UNVERIFIED_CODES = {401, 403, 429, 999}
RETRY_WITH_GET = {400, 403, 404, 405, 406, 500, 501, 503}


@dataclass(frozen=True)
class LinkRef:
    """Where a URL appears: community, and the field inside it (website, contact.url, cooperatives[2].url...)."""

    slug: str
    name: str
    field: str
    url: str


@dataclass(frozen=True)
class Result:
    url: str
    state: str  # ok, broken, unverified, skipped
    reason: str  # "200", "404 Not Found", "timed out after 15 s", "host not found"...
    final_url: str = ""


def collect(communities: Iterable[Community]) -> dict[str, list[LinkRef]]:
    """URL -> every place it appears, in record order."""
    found: dict[str, list[LinkRef]] = {}

    def add(c: Community, field: str, url: str) -> None:
        if url and url.lower().startswith(("http://", "https://")):
            found.setdefault(url, []).append(LinkRef(c.slug, c.name, field, url))

    for c in communities:
        add(c, "website", c.website)
        add(c, "contact.url", c.contact_url)
        for i, link in enumerate(c.cooperatives):
            add(c, f"cooperatives[{i}].url", link.url)
        for i, link in enumerate(c.partners):
            add(c, f"partners[{i}].url", link.url)
    return found


def _private(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False  # the request itself reports the lookup failure
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified:
            return True
    return False


def _request(url: str, method: str, timeout: float, user_agent: str) -> tuple[int, str]:
    request = urllib.request.Request(url, method=method, headers={"User-Agent": user_agent, "Accept": "*/*"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # http(s) only: checked by the caller
        if method == "GET":
            response.read(1)
        return response.status, response.geturl()


def check_url(url: str, *, timeout: float = 15.0, user_agent: str = "link-check", allow_private: bool = False) -> Result:
    """One URL, tried with HEAD then GET. Never raises."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Result(url, SKIPPED, "not an http(s) address")
    if not allow_private and _private(parts.hostname):
        return Result(url, SKIPPED, "points at a private or local network address")
    reason = ""
    for method in ("HEAD", "GET"):
        try:
            status, final = _request(url, method, timeout, user_agent)
            return Result(url, OK, str(status), final if final != url else "")
        except urllib.error.HTTPError as exc:
            reason = f"{exc.code} {exc.reason}".strip()
            if method == "HEAD" and exc.code in RETRY_WITH_GET:
                continue
            state = UNVERIFIED if exc.code in UNVERIFIED_CODES else BROKEN
            return Result(url, state, reason)
        except TimeoutError:
            return Result(url, BROKEN, f"timed out after {timeout:g} s")
        except urllib.error.URLError as exc:
            inner = exc.reason
            if isinstance(inner, (TimeoutError, socket.timeout)):
                return Result(url, BROKEN, f"timed out after {timeout:g} s")
            if isinstance(inner, socket.gaierror):
                return Result(url, BROKEN, "host not found")
            if isinstance(inner, ConnectionRefusedError):
                return Result(url, BROKEN, "connection refused")
            return Result(url, BROKEN, str(inner) or "could not connect")
        except (http.client.HTTPException, OSError, ValueError) as exc:
            return Result(url, BROKEN, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    state = UNVERIFIED if reason.split(" ")[0].isdigit() and int(reason.split(" ")[0]) in UNVERIFIED_CODES else BROKEN
    return Result(url, state, reason)


def check_all(urls: Iterable[str], *, workers: int = 8, check: Callable[[str], Result] = check_url) -> dict[str, Result]:
    """Every URL checked by a small pool of threads; results in the order given."""
    ordered = list(dict.fromkeys(urls))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return dict(zip(ordered, pool.map(check, ordered), strict=True))


# --- the report ------------------------------------------------------------------------

def _rows(refs: dict[str, list[LinkRef]], results: dict[str, Result], state: str) -> list[tuple[LinkRef, Result]]:
    rows = [(ref, results[url]) for url, places in refs.items() for ref in places if results[url].state == state]
    return sorted(rows, key=lambda row: (row[0].slug, row[0].field))


def summary(refs: dict[str, list[LinkRef]], results: dict[str, Result]) -> dict[str, int]:
    counts = {OK: 0, BROKEN: 0, UNVERIFIED: 0, SKIPPED: 0}
    for url in refs:
        counts[results[url].state] += 1
    return counts


def _code(url: str) -> str:
    return "`" + url.replace("`", "%60") + "`"


def format_report(refs: dict[str, list[LinkRef]], results: dict[str, Result], fmt: str, today: dt.date,
                  repo: str = "", branch: str = "main") -> str:
    """Markdown for the tracking issue, text for people, JSON for tools: all from the same results."""
    counts = summary(refs, results)
    if fmt == "json":
        return json.dumps({"checked_on": today.isoformat(), "counts": counts,
                           "links": [{**asdict(ref), **{k: v for k, v in asdict(results[url]).items() if k != "url"}}
                                     for url, places in refs.items() for ref in places]}, indent=1, ensure_ascii=False)
    broken, unverified = _rows(refs, results, BROKEN), _rows(refs, results, UNVERIFIED)
    if fmt == "text":
        lines = [f"{len(refs)} links checked: {counts[OK]} work, {counts[BROKEN]} broken, {counts[UNVERIFIED]} could not be verified."]
        lines += [f"  broken: {ref.slug}: {ref.field}: {ref.url} ({res.reason})" for ref, res in broken]
        lines += [f"  unverified: {ref.slug}: {ref.field}: {ref.url} ({res.reason})" for ref, res in unverified]
        return "\n".join(lines)
    repo = repo.rstrip("/")
    out = [
        f"Checked on {today.isoformat()}: {len(refs)} distinct links from the community records. "
        f"{counts[OK]} work, {counts[BROKEN]} look broken and {counts[UNVERIFIED]} could not be verified.",
        "",
        "A link can fail for a day when a site is down, so a link that stays on this list for two weeks is worth fixing: "
        "update the address in the community's file, or remove it if the site has gone. "
        "This issue is updated automatically every week; please do not edit it.",
    ]
    for title, rows in ((f"Broken links ({len(broken)})", broken),
                        (f"Could not be verified ({len(unverified)}): the site refused an automated check; worth a look by hand", unverified)):
        out += ["", f"## {title}", ""]
        if not rows:
            out.append("None.")
            continue
        out += ["| Community | Field | Link | Problem |", "| --- | --- | --- | --- |"]
        for ref, res in rows:
            rel = f"data/communities/{ref.slug}.yaml"
            where = f"[{md_escape(ref.name)}]({repo}/blob/{branch}/{rel})" if repo else md_escape(ref.name)
            out.append(f"| {where} | `{ref.field}` | {_code(ref.url)} | {md_escape(res.reason)} |")
    return "\n".join(out) + "\n"
