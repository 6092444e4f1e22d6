"""The join form, described from the schema: JSON Schema -> plain field descriptors for join.html.

The form's labels, help texts, choices and limits all come from
data/community.schema.json (titles and descriptions) and the tag vocabulary,
so the form cannot drift from the contract. The template only loops over what
`form_fields` returns; the browser (theme/static/js/join.js) validates what is
typed against the very same schema.

    >>> schema = {"type": "object", "required": ["name"], "properties": {
    ...     "name": {"title": "Name", "type": "string", "maxLength": 120}}}
    >>> [(f.key, f.widget, f.required, f.attrs) for f in form_fields(schema, {})]
    [('name', 'text', True, {'maxlength': '120'})]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The order people fill the form in; any schema property not listed follows, in schema order.
FORM_ORDER = (
    "name", "kind", "summary", "description", "location", "tags", "website", "contact", "action_group",
    "commitments", "cooperatives", "partners", "joined", "last_reviewed",
)
# What one entry of a repeated group is called, for "Add a …" and "Remove … 2" buttons.
ITEM_NOUNS = {"commitments": "commitment", "reviews": "review", "cooperatives": "co-op", "partners": "partner"}
# Strings longer than this (or Markdown) get a multi-line box.
TEXTAREA_MIN_LENGTH = 300
RADIO_MAX_OPTIONS = 3


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    description: str = ""


@dataclass(frozen=True)
class Field:
    """One form control, a group of fields (an object) or a repeated group (an array of objects).

    `kind` is "field", "group" or "repeat". `path` is the schema path without list
    indexes ("commitments.reviews.date"); the page gives each control an id from
    the path with indexes, e.g. f-commitments-0-title.
    """

    key: str
    path: str
    kind: str
    label: str
    description: str = ""
    required: bool = False
    required_when: str = ""  # e.g. "kind=place", from the schema's if/then
    widget: str = ""  # text, textarea, email, url, date, number, integer, checkbox, radio, select, checkboxes
    json_type: str = ""  # string, number, integer, boolean, array
    options: tuple[Option, ...] = ()
    attrs: dict[str, str] = field(default_factory=dict)
    placeholder: str = ""
    fields: tuple[Field, ...] = ()
    min_items: int = 0
    max_items: int | None = None
    item_noun: str = ""

    @property
    def id(self) -> str:
        """The control id for the first entry of every list on the way (for labels rendered server-side)."""
        return "f-" + self.path.replace(".", "-")


def form_fields(schema: dict[str, Any], tags: dict[str, dict[str, str]]) -> tuple[Field, ...]:
    """The top-level fields of the form, in FORM_ORDER, every schema property included."""
    props = schema.get("properties", {})
    order = [k for k in FORM_ORDER if k in props] + [k for k in props if k not in FORM_ORDER]
    conditional = _conditional_required(schema)
    return tuple(
        _field(key, props[key], "", key in schema.get("required", ()), tags, conditional.get(key, ""))
        for key in order
    )


def _conditional_required(schema: dict[str, Any]) -> dict[str, str]:
    """{"location": "kind=place"} from allOf: [{if: {properties: {kind: {const: place}}}, then: {required: [location]}}]."""
    found: dict[str, str] = {}
    for rule in schema.get("allOf", ()):
        condition = rule.get("if", {}).get("properties", {})
        then = rule.get("then", {}).get("required", ())
        consts = [f"{k}={v['const']}" for k, v in condition.items() if isinstance(v, dict) and "const" in v]
        if len(consts) == 1:
            for name in then:
                found[name] = consts[0]
    return found


def _example(sub: dict[str, Any]) -> str:
    examples = sub.get("examples") or []
    return str(examples[0]) if examples and isinstance(examples[0], (str, int, float)) and not isinstance(examples[0], bool) else ""


def _field(key: str, sub: dict[str, Any], parent: str, required: bool, tags: dict[str, dict[str, str]],
           required_when: str = "") -> Field:
    path = f"{parent}.{key}" if parent else key
    label = sub.get("title", key.replace("_", " ").capitalize())
    # `description` speaks to someone editing the YAML file; `x-form-help`, where given, to someone filling the form.
    description = sub.get("x-form-help", sub.get("description", ""))
    kind = sub.get("type")
    common: dict[str, Any] = {"key": key, "path": path, "label": label, "description": description,
                              "required": required, "required_when": required_when}
    if kind == "object":
        return Field(kind="group", fields=_children(sub, path, tags), **common)
    if kind == "array":
        items = sub.get("items", {})
        if items.get("type") == "object":
            return Field(kind="repeat", fields=_children(items, path, tags), min_items=int(sub.get("minItems", 0)),
                         max_items=sub.get("maxItems"), item_noun=ITEM_NOUNS.get(key, "item"), json_type="array", **common)
        options = tuple(Option(slug, entry["label"], entry.get("description", "")) for slug, entry in tags.items()) if key == "tags" else ()
        attrs = {"data-max-items": str(sub["maxItems"])} if "maxItems" in sub else {}
        return Field(kind="field", widget="checkboxes", json_type="array", options=options, attrs=attrs, **common)
    if "enum" in sub:
        options = tuple(Option(str(v), str(v)) for v in sub["enum"])
        widget = "radio" if len(options) <= RADIO_MAX_OPTIONS else "select"
        return Field(kind="field", widget=widget, json_type=kind or "string", options=options, **common)
    if kind == "boolean":
        return Field(kind="field", widget="checkbox", json_type="boolean", **common)
    if kind in ("number", "integer"):
        attrs = {"step": "1" if kind == "integer" else "any", "inputmode": "numeric" if kind == "integer" else "decimal"}
        for word in ("minimum", "maximum"):
            if word in sub:
                attrs[word[:3]] = str(sub[word])
        return Field(kind="field", widget=kind, json_type=kind, attrs=attrs, placeholder=_example(sub), **common)
    fmt = sub.get("format", "")
    max_length = sub.get("maxLength")
    if fmt in ("email", "date"):
        widget = fmt
    elif fmt == "uri" or "http" in sub.get("pattern", ""):
        widget = "url"
    elif (max_length is not None and max_length > TEXTAREA_MIN_LENGTH) or "Markdown" in description:
        widget = "textarea"
    else:
        widget = "text"
    attrs = {"maxlength": str(max_length)} if max_length is not None else {}
    return Field(kind="field", widget=widget, json_type="string", attrs=attrs, placeholder=_example(sub), **common)


def _children(sub: dict[str, Any], path: str, tags: dict[str, dict[str, str]]) -> tuple[Field, ...]:
    required = set(sub.get("required", ()))
    return tuple(_field(k, v, path, k in required, tags) for k, v in sub.get("properties", {}).items())


def walk(fields: tuple[Field, ...]) -> list[Field]:
    """Every descriptor, depth first: what the tests and the template's <template> blocks go through."""
    out: list[Field] = []
    for f in fields:
        out.append(f)
        out.extend(walk(f.fields))
    return out


def repeats(fields: tuple[Field, ...]) -> list[Field]:
    """Every repeated group, nested ones included; each gets an item <template> on the page."""
    return [f for f in walk(fields) if f.kind == "repeat"]


def page_context(schema_path: str | Path, vocabulary: dict[str, dict[str, str]]) -> dict[str, Any]:
    """What join.html needs: the fields, the repeated groups (for item templates) and the page's name."""
    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    fields = form_fields(schema, vocabulary)
    return {"form": fields, "form_repeats": repeats(fields), "output_file": "join/index.html"}
