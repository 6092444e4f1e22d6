"""The join form is described from the schema: every property appears, with its title, and tags come from the vocabulary."""

from __future__ import annotations

import json
from pathlib import Path

from communities import joinform, records


def schema_paths(schema: dict, prefix: str = "") -> set[str]:
    """Every property path in the schema, list items folded in: commitments.reviews.note."""
    out = set()
    for key, sub in schema.get("properties", {}).items():
        path = f"{prefix}.{key}" if prefix else key
        out.add(path)
        if sub.get("type") == "object":
            out |= schema_paths(sub, path)
        elif sub.get("type") == "array" and sub.get("items", {}).get("type") == "object":
            out |= schema_paths(sub["items"], path)
    return out


def load(root: Path) -> tuple[dict, dict, tuple[joinform.Field, ...]]:
    schema = json.loads((root / "data" / "community.schema.json").read_text(encoding="utf-8"))
    tags, problems = records.load_tags(root / "data" / "tags.yaml")
    assert problems == []
    return schema, tags, joinform.form_fields(schema, tags)


def test_every_schema_property_appears_in_the_form(root: Path) -> None:
    schema, _, fields = load(root)
    assert {f.path for f in joinform.walk(fields)} == schema_paths(schema)


def test_labels_and_help_come_from_the_schema(root: Path) -> None:
    schema, _, fields = load(root)
    by_path = {f.path: f for f in joinform.walk(fields)}
    assert by_path["name"].label == schema["properties"]["name"]["title"]
    assert by_path["contact.email"].description == schema["properties"]["contact"]["properties"]["email"]["description"]
    assert by_path["contact.email"].widget == "email"
    assert by_path["commitments.target.value"].widget == "number"
    assert by_path["action_group.members"].widget == "integer"
    assert by_path["location.publish_postcode"].widget == "checkbox"
    assert by_path["description"].widget == "textarea"
    assert by_path["joined"].widget == "date"
    assert by_path["website"].widget == "url"



def test_help_written_for_the_file_is_replaced_by_help_written_for_the_form(root: Path) -> None:
    """A description speaks to someone editing YAML ("Put it in quotes", "true"); `x-form-help` to someone filling a form."""
    schema, _, fields = load(root)
    by_path = {f.path: f for f in joinform.walk(fields)}
    for path in ("kind", "tags", "location.country", "location.publish_postcode"):
        text = by_path[path].description
        assert text and not any(word in text for word in ("quotes", "true", "false", "data/tags.yaml", "place:", "interest:")), (path, text)
    assert by_path["location.country"].description == schema["properties"]["location"]["properties"]["country"]["x-form-help"]

def test_required_and_conditionally_required_fields_are_marked(root: Path) -> None:
    schema, _, fields = load(root)
    by_path = {f.path: f for f in joinform.walk(fields)}
    assert {p for p, f in by_path.items() if f.required and "." not in p} == set(schema["required"])
    assert by_path["location"].required_when == "kind=place"
    assert by_path["commitments.title"].required and not by_path["commitments.description"].required


def test_enums_become_choices_in_schema_order(root: Path) -> None:
    schema, _, fields = load(root)
    by_path = {f.path: f for f in joinform.walk(fields)}
    assert [o.value for o in by_path["kind"].options] == schema["properties"]["kind"]["enum"]
    assert by_path["kind"].widget == "radio"
    assert by_path["commitments.status"].widget == "select"


def test_tag_checkboxes_come_from_the_vocabulary(root: Path) -> None:
    _, tags, fields = load(root)
    tag_field = next(f for f in fields if f.key == "tags")
    assert tag_field.widget == "checkboxes"
    assert [(o.value, o.label) for o in tag_field.options] == [(slug, entry["label"]) for slug, entry in tags.items()]


def test_repeated_groups_carry_their_limits(root: Path) -> None:
    _, _, fields = load(root)
    repeats = {f.path: f for f in joinform.repeats(fields)}
    assert set(repeats) == {"commitments", "commitments.reviews", "cooperatives", "partners"}
    assert repeats["commitments"].min_items == 1
    assert repeats["commitments"].max_items == 30
    assert repeats["commitments"].item_noun == "commitment"


def test_the_form_follows_a_new_schema_property() -> None:
    schema = {"type": "object", "required": ["name"], "properties": {
        "name": {"title": "Name", "type": "string"}, "motto": {"title": "Motto", "type": "string", "maxLength": 80}}}
    fields = joinform.form_fields(schema, {})
    assert [(f.key, f.label, f.attrs) for f in fields] == [("name", "Name", {}), ("motto", "Motto", {"maxlength": "80"})]


def test_the_join_page_renders_every_field_with_a_label(built_site: Path, root: Path) -> None:
    html = (built_site / "join" / "index.html").read_text(encoding="utf-8")
    _, _, fields = load(root)
    for f in joinform.walk(fields):
        if f.kind == "field" and f.widget not in ("radio", "checkboxes") and "." not in f.path:
            assert f'<label for="f-{f.key}"' in html, f.path
    assert "/data/community.schema.json" in html
    assert "theme/js/join.js" in html
