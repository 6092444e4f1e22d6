"""Open data: GeoJSON, CSV, JSON, JSON-LD and the Atom feed of new communities.

What is private never reaches this stage: the geocode stage drops an unpublished
postcode and rounds coordinates (geocoding.without_private). `public_record`,
the source of every JSON export, drops the postcode again as a last guard,
since it copies the record's raw data rather than picking fields.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from .model import Community

CSV_FIELDS = (
    "slug", "name", "kind", "summary", "place", "region", "country", "lat", "lon", "tags", "website",
    "email", "contact_url", "joined", "last_reviewed", "commitments", "commitments_achieved",
    "cooperatives", "url",
)


def community_url(site_url: str, slug: str) -> str:
    return f"{site_url}/communities/{slug}/"


def public_record(c: Community, site_url: str = "") -> dict[str, Any]:
    """The record as published: postcode only when opted in, coordinates as placed (rounded)."""
    data = dict(c.data)  # the record's own values are JSON types already (Trap is a str); only location is changed
    loc = data.get("location")
    if isinstance(loc, dict):
        loc = data["location"] = dict(loc)
        if not loc.get("publish_postcode"):
            loc.pop("postcode", None)
        loc.pop("publish_postcode", None)
        loc.pop("lat", None)
        loc.pop("lon", None)
        if c.point:
            loc["lat"], loc["lon"] = c.point.lat, c.point.lon
    return {"slug": c.slug, "url": community_url(site_url, c.slug), **data}


def dumps(value: Any) -> str:
    """Compact JSON: no indent keeps Python on its C encoder, several times faster at 10,000 files."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def geojson(communities: list[Community], site_url: str = "") -> dict[str, Any]:
    """RFC 7946: one Point feature per community that has a place on the map."""
    features = [geojson_feature(c, site_url) for c in communities if c.point]
    return {"type": "FeatureCollection", "features": features}


@dataclass(frozen=True)
class Joined:
    """A site-wide file made of each record's piece, in directory order, between a head and a tail.

    Written this way, not re-encoded as a whole, so that each record's piece is made once and kept
    between builds, and a quick rebuild can replace one record's piece in the file it wrote last time.
    """

    head: str
    sep: str
    tail: str

    def text(self, pieces: Iterable[str]) -> str:
        """The file; a record with no piece (an empty one) is not in it."""
        return self.head + self.sep.join(p for p in pieces if p) + self.tail


# Compact JSON of a list is its items' JSON joined by commas: dumps(...) of the whole, from the records' dumps.
ALL_JSON = Joined("[", ",", "]\n")
ALL_GEOJSON = Joined('{"type":"FeatureCollection","features":[', ",", "]}\n")
ALL_CSV = Joined(",".join(CSV_FIELDS) + "\n", "", "")


def geojson_text(feature_texts: list[str]) -> str:
    """dumps(geojson(...)) from each feature's dumps text (kept between builds), without building it again."""
    return ALL_GEOJSON.text(feature_texts)


def geojson_feature(c: Community, site_url: str = "") -> dict[str, Any]:
    assert c.point is not None
    return {
        "type": "Feature",
        "id": c.slug,
        "geometry": {"type": "Point", "coordinates": [c.point.lon, c.point.lat]},
        "properties": {
            "slug": c.slug,
            "name": c.name,
            "kind": c.kind,
            "summary": c.summary,
            "place": c.location.place if c.location else "",
            "region": c.region,
            "country": c.country,
            "tags": list(c.tags),
            "areas": list(c.areas),
            "url": community_url(site_url, c.slug),
        },
    }


def csv_text(communities: list[Community], site_url: str = "") -> str:
    return csv_header() + "".join(csv_line(c, site_url) for c in communities)


def csv_header() -> str:
    return ALL_CSV.head


def csv_line(c: Community, site_url: str = "") -> str:
    """One community's CSV row, quoted as the csv module quotes it."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    loc = c.location
    writer.writerow(
        {
            "slug": c.slug,
            "name": _csv_safe(c.name),
            "kind": c.kind,
            "summary": _csv_safe(c.summary),
            "place": _csv_safe(loc.place) if loc else "",
            "region": _csv_safe(loc.region) if loc else "",
            "country": loc.country if loc else "",
            "lat": c.point.lat if c.point else "",
            "lon": c.point.lon if c.point else "",
            "tags": ";".join(c.tags),
            "website": _csv_safe(c.website),
            "email": _csv_safe(c.email),
            "contact_url": _csv_safe(c.contact_url),
            "joined": c.joined,
            "last_reviewed": c.last_reviewed,
            "commitments": len(c.commitments),
            "commitments_achieved": sum(1 for k in c.commitments if k.status == "achieved"),
            "cooperatives": len(c.cooperatives),
            "url": community_url(site_url, c.slug),
        }
    )
    return out.getvalue()


def _csv_safe(text: str) -> str:
    """Stop spreadsheet programs running a cell as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def json_ld(c: Community, site_url: str = "") -> dict[str, Any]:
    """schema.org Organization with its Place, for search engines and other sites."""
    org: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "@id": community_url(site_url, c.slug),
        "name": c.name,
        "description": c.summary,
        "url": c.website or community_url(site_url, c.slug),
    }
    if c.tags:  # an empty value would be read as one; what a record does not say is left out
        org["keywords"] = ", ".join(c.tags)
    if c.contact_url:
        org["contactPoint"] = {"@type": "ContactPoint", "url": c.contact_url}
    # No e-mail here: the page shows it obfuscated, and JSON-LD would hand it to harvesters.
    if c.joined:
        org["foundingDate"] = c.joined
    if c.location:
        place: dict[str, Any] = {
            "@type": "Place",
            "name": c.location.place,
            "address": {
                "@type": "PostalAddress",
                "addressLocality": c.location.place,
                **({"addressRegion": c.location.region} if c.location.region else {}),
                "addressCountry": c.location.country,
            },
        }
        if c.location.publish_postcode and c.location.postcode:
            place["address"]["postalCode"] = c.location.postcode
        if c.point:
            place["geo"] = {"@type": "GeoCoordinates", "latitude": c.point.lat, "longitude": c.point.lon}
        org["location"] = place
    if c.cooperatives:
        org["member"] = [{"@type": "Organization", "name": k.name, **({"url": k.url} if k.url else {})} for k in c.cooperatives]
    return org


def atom_feed(communities: list[Community], site_url: str, site_name: str, title: str, limit: int = 50) -> str:
    """Newest communities first, dated by `joined`, byte-stable for the same data."""
    dated = sorted((c for c in communities if c.joined), key=lambda c: (c.joined, c.slug), reverse=True)[:limit]
    updated = (dated[0].joined if dated else "1970-01-01") + "T00:00:00Z"
    feed_id = f"{site_url}/feeds/communities.atom.xml"
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(title)}</title>",
        f'<link href="{escape(site_url)}/communities/" rel="alternate"/>',
        f'<link href="{escape(feed_id)}" rel="self"/>',
        f"<id>{escape(feed_id or 'urn:cooperative-communities:feed')}</id>",
        f"<updated>{updated}</updated>",
        f"<author><name>{escape(site_name)}</name></author>",
    ]
    parts += [atom_entry(c, site_url) for c in dated]
    parts.append("</feed>")
    return "\n".join(parts) + "\n"


def atom_entry(c: Community, site_url: str) -> str:
    """A community's entry in the feed of new communities."""
    url = community_url(site_url, c.slug)
    return "\n".join([
        "<entry>",
        f"<title>{escape(c.name)}</title>",
        _entry_link(url),
        f"<id>{escape(url if site_url else 'urn:cooperative-communities:' + c.slug)}</id>",
        f"<updated>{c.joined}T00:00:00Z</updated>",
        f"<published>{c.joined}T00:00:00Z</published>",
        f'<summary type="text">{escape(c.summary)}</summary>',
        *(f'<category term="{escape(t)}"/>' for t in c.tags),
        "</entry>",
    ])


def _entry_link(url: str) -> str:
    """The line that names an entry's community: atom_entry writes it, atom_entry_in finds the entry by it."""
    return f'<link href="{escape(url)}" rel="alternate"/>'


def atom_entry_in(feed: bytes, slug: str, site_url: str) -> bytes | None:
    """The community's entry as atom_feed wrote it into `feed`, or None when the feed does not list it.

    A quick rebuild replaces it with the entry for the edited record: the feed's order is by `joined`, which it keeps.
    """
    link = f"\n{_entry_link(community_url(site_url, slug))}\n".encode()
    at = feed.find(link)
    if at < 0:
        return None
    start, end = feed.rfind(b"\n<entry>\n", 0, at), feed.find(b"\n</entry>", at)
    return feed[start + 1 : end + len(b"\n</entry>")] if start >= 0 and end >= 0 else None


def sitemap(urls: list[str]) -> str:
    lines = ['<?xml version="1.0" encoding="utf-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for url in sorted(set(urls)):
        lines.append(f"<url><loc>{escape(url)}</loc></url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"
