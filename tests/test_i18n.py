"""Interface text is translatable: no bare words in templates, and a Welsh build speaks Welsh."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from communities import environment

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = sorted((ROOT / "theme/templates").glob("*.html"))
JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
# Code, file names and copy-paste snippets are not interface text.
SCRIPT_OR_STYLE = re.compile(r"<(script|style|code|textarea)\b[^>]*>.*?</\1>", re.S)
TAG = re.compile(r"<[^>]+>", re.S)
TEXT_ATTRS = re.compile(r'\b(aria-label|title|placeholder|alt|aria-description)="([^"]*)"')


def bare_text(source: str) -> list[str]:
    """Words left in a template once Jinja, tags and entities are removed."""
    without_blocks = re.sub(r"\{%\s*trans\b.*?\{%\s*endtrans\s*%\}", "", source, flags=re.S)
    without_blocks = re.sub(r"\{%\s*block (?:main_attrs|body_class)\s*%\}.*?\{%\s*endblock\s*%\}", "", without_blocks, flags=re.S)
    text = TAG.sub(" ", SCRIPT_OR_STYLE.sub(" ", JINJA.sub(" ", without_blocks)))
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
    return [w for w in re.findall(r"[^\W\d_]{2,}", text) if w not in {"JSON", "GitHub", "CSV", "GeoJSON"}]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_template_has_no_untranslated_text(template: Path) -> None:
    source = template.read_text(encoding="utf-8")
    assert bare_text(source) == [], f"wrap these words in {{{{ _('…') }}}}: {bare_text(source)}"
    for attr, value in TEXT_ATTRS.findall(JINJA.sub("", source)):
        assert not re.search(r"[A-Za-z]{2,}", value), f"{attr}={value!r} needs _()"


def test_the_checker_catches_bare_words() -> None:
    assert bare_text("<p>{{ _('Fine') }}</p><h2>Not fine</h2>") == ["Not", "fine"]


def test_catalog_template_is_up_to_date_with_the_templates() -> None:
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

    keywords = {**DEFAULT_KEYWORDS, "plural_forms": (1, 2)}  # as `make translations` extracts them
    found = {m[2] if isinstance(m[2], str) else m[2][0]
             for m in extract_from_dir(str(ROOT / "theme/templates"), method_map=[("**.html", "jinja2")], keywords=keywords,
                                       options_map={"**.html": {"extensions": "jinja2.ext.i18n"}})}
    with (ROOT / "theme/translations/messages.pot").open("rb") as handle:
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert found - known == set(), "run `make translations` to update the catalogs"


def test_welsh_catalog_translates_the_navigation() -> None:
    t = environment.translations_for(ROOT / "theme", "cy")
    assert t.gettext("Communities") == "Cymunedau"
    assert t.gettext("A string nobody translated") == "A string nobody translated"


def _environments(catalog):
    """A stock i18n environment and one with translations looked up at compile time, as the site uses."""
    from jinja2 import Environment

    stock = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    stock.install_gettext_translations(catalog, newstyle=True)
    fast = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    fast.install_gettext_translations(catalog, newstyle=True)
    fast.communities_catalog = catalog
    fast.globals["_format"] = environment._format
    fast.add_extension(environment.TranslateOnce)
    return stock, fast


SOURCE = ("{{ _('Map') }}|{{ _('Joined %(date)s', date=d) }}|{{ _('100%% local') }}|<a title=\"{{ _('Tags') }}\">|"
          "{{ ngettext('%(num)d review', '%(num)d reviews', 2) }}|{{ x._('Map') if x is defined else '' }}|"
          "{% set label = _('Search') %}{{ label }}|{{ [_('News'), _('Meets: %(when)s', when='<b>')] | join(',') }}")


def _catalog(messages: dict[str, str]):
    import io

    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.support import Translations

    catalog = Catalog(locale="cy")
    for msgid, text in messages.items():
        catalog.add(msgid, text)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


TEST_CATALOG = {"Map": "Cart & <map>", "Joined %(date)s": "Ymunodd %(date)s", "100%% local": "100%% lleol", "Search": "Chwilio"}


def test_translating_once_gives_what_gettext_gives_on_every_render() -> None:
    welsh = environment.translations_for(Path(__file__).resolve().parents[1] / "theme", "cy")
    for catalog in (welsh, _catalog(TEST_CATALOG), environment.NullTranslations()):
        stock, fast = _environments(catalog)
        for values in ({"d": "1 May 2026"}, {"d": "<script>"}):
            assert fast.from_string(SOURCE).render(values) == stock.from_string(SOURCE).render(values)


def test_literal_strings_are_translated_when_the_template_is_compiled() -> None:
    _stock, fast = _environments(_catalog(TEST_CATALOG))
    code = fast.compile("{{ _('Map') }} {{ _('Joined %(date)s', date=d) }}", raw=True)
    assert "Map" not in code and "Cart & <map>" in code  # looked up already: the translation is a constant in the code
    assert "'Ymunodd %(date)s'" in code and "_format" in code and "gettext" not in code


def test_templates_compiled_by_an_earlier_build_are_reused_until_the_catalog_changes(tmp_path: Path, monkeypatch) -> None:
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po
    from jinja2 import DictLoader

    theme = tmp_path / "theme"
    po = theme / "translations" / "cy" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)

    def build_env(translation: str):
        catalog = Catalog(locale="cy")
        catalog.add("Map", translation)
        with po.open("wb") as handle:
            write_po(handle, catalog)
        _stock, fast = _environments(environment.translations_for(theme, "cy"))
        fast.loader = DictLoader({"page.html": "<h1>{{ _('Map') }}</h1>"})
        fast.bytecode_cache = environment.compiled_templates(tmp_path / "cache", fast, theme, "cy")
        return fast

    assert build_env("Cart").get_template("page.html").render() == "<h1>Cart</h1>"
    again = build_env("Cart")
    monkeypatch.setattr(again, "compile", lambda *a, **k: pytest.fail("compiled again"))
    assert again.get_template("page.html").render() == "<h1>Cart</h1>"  # the code the last build compiled
    monkeypatch.undo()
    # The translation is compiled into the code: a changed catalog must not be served the old code.
    assert build_env("Map newydd").get_template("page.html").render() == "<h1>Map newydd</h1>"
    assert len([p for p in (tmp_path / "cache").iterdir()]) == 1  # code compiled with the old catalog is gone


def test_each_plural_category_has_a_number_to_ask_the_catalog_with() -> None:
    assert environment.plural_samples("en") == {"other": 0, "one": 1}
    assert environment.plural_samples("cy") == {"zero": 0, "one": 1, "two": 2, "few": 3, "other": 4, "many": 6}


def test_scripts_get_every_plural_form_by_category() -> None:
    """The browser picks the category (Intl.PluralRules); the catalog gives each category's text."""
    english = environment.plural_forms(environment.NullTranslations(), "en")
    assert english("{n} answer needs a fix", "{n} answers need a fix") == {
        "other": "{n} answers need a fix", "one": "{n} answer needs a fix"}
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.support import Translations

    catalog = Catalog(locale="cy")
    # Welsh in gettext has five forms; the first serves both zero and "other" (4, 5, 7...).
    catalog.add(("{n} tree", "{n} trees"), ("{n} coeden", "{n} goeden", "{n} goeden: dwy", "{n} coeden: tair", "{n} choeden: chwech"))
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    welsh = environment.plural_forms(Translations(compiled), "cy")("{n} tree", "{n} trees")
    assert welsh == {"zero": "{n} coeden", "one": "{n} goeden", "two": "{n} goeden: dwy", "few": "{n} coeden: tair",
                     "other": "{n} coeden", "many": "{n} choeden: chwech"}
