"""The Jinja environment every generator renders with: gettext catalogs and a few filters.

English is the source language; a Welsh site is `DEFAULT_LANG = "cy"` (or
SITE_LANG=cy in the environment) with theme/translations/cy/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemBytecodeCache
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from markupsafe import Markup, escape

from .files import code_fingerprint, package_version, salted_folder
from .model import round_half_up
from .records import load_tags
from .rendering import json_for_html
from .settings import project_path, resolve


def translations_for(theme: str | Path, lang: str, domain: str = "messages") -> NullTranslations:
    """The site language's catalog, compiled in memory from its .po file (no binaries committed)."""
    po = Path(theme) / "translations" / lang / "LC_MESSAGES" / f"{domain}.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=domain)


class TranslateOnce(Extension):
    """Look `_('literal')` up once, when a template is compiled, not on every render.

    A build has one language, so the translated text of a literal is a constant:
    `_('Map')` becomes the constant `('Kart'|safe)`, which Jinja folds into the
    compiled template, and `_('Joined %(date)s', date=d)` becomes
    `_format('Ymunodd %(date)s', date=d)`. Both give exactly what the i18n
    extension's newstyle gettext gives (translated, marked safe, %-formatted with
    escaped values); at 10,000 pages with some 70 strings each that was a third of
    the rendering time. Babel still extracts the strings from the `_()` calls.
    """

    def filter_stream(self, stream: TokenStream) -> TokenStream | list[Token]:
        catalog = getattr(self.environment, "communities_catalog", None)
        if catalog is None:
            return stream
        tokens = list(stream)
        out: list[Token] = []
        i = 0
        while i < len(tokens):
            replaced = _translate_call(tokens, i, catalog, out[-1] if out else None)
            if replaced:
                new, used = replaced
                out.extend(new)
                i += used
            else:
                out.append(tokens[i])
                i += 1
        return out


def _translate_call(tokens: list[Token], i: int, catalog: NullTranslations, before: Token | None) -> tuple[list[Token], int] | None:
    """The tokens replacing `_('literal'...` at tokens[i], and how many were consumed; None to leave them."""
    if i + 3 >= len(tokens) or (before is not None and before.type == "dot"):
        return None
    name, paren, literal, after = tokens[i : i + 4]
    if name.type != "name" or name.value not in ("_", "gettext") or paren.type != "lparen" or literal.type != "string":
        return None
    text = catalog.gettext(literal.value)
    line = name.lineno
    if after.type == "rparen":
        try:
            constant = text % {}  # newstyle gettext always formats, so '%%' means '%'
        except (TypeError, ValueError, KeyError):
            return None
        return [Token(line, "lparen", "("), Token(line, "string", constant), Token(line, "pipe", "|"),
                Token(line, "name", "safe"), Token(line, "rparen", ")")], 4
    if after.type == "comma":
        return [Token(line, "name", "_format"), paren, Token(literal.lineno, "string", text)], 3
    return None


def _format(text: str, **variables: Any) -> Markup:
    """What `Markup(text) % variables` gives, without wrapping every value in an escaping helper object first.

    Numbers go in as numbers (for %d); everything else is escaped. Called some 40,000 times per build.
    """
    return Markup(text % {k: v if isinstance(v, (int, float)) else escape(v) for k, v in variables.items()})


@functools.cache
def plural_samples(lang: str) -> dict[str, int]:
    """The smallest whole number in each of the language's plural categories (CLDR's: one, two, few...)."""
    locale = Locale.parse("en" if lang == "en" else lang)
    samples: dict[str, int] = {}
    for n in range(1000):
        samples.setdefault(locale.plural_form(n), n)
    return samples


def plural_forms(catalog: NullTranslations, lang: str) -> Any:
    """`plural_forms(singular, plural)` for templates: the text for each plural category, for a script to pick from.

    A script knows the number only in the browser, and the language's plural rules there
    (Intl.PluralRules); the catalog's forms are asked for with one number of each category.
    Babel extracts the strings with the keyword `plural_forms:1,2` (make translations).
    """
    def forms(singular: str, plural: str) -> dict[str, str]:
        return {category: catalog.ngettext(singular, plural, n) for category, n in plural_samples(lang).items()}
    return forms


def tile_origin(url_template: str) -> str:
    """The scheme and host of a tile URL template, for the Content-Security-Policy."""
    if not url_template:
        return ""
    parts = urlsplit(url_template.replace("{s}", "a"))
    host = parts.netloc
    if "{s}." in url_template:
        host = "*." + host.split(".", 1)[1]
    return f"{parts.scheme}://{host}"


def configure(generator: Any) -> None:
    """generator_init receiver: gettext and filters on the generator's environment."""
    env = getattr(generator, "env", None)
    if env is None:
        return
    # Contributors' text is data: every {{ value }} is HTML-escaped unless it is Markup
    # (the sanitised Markdown from rendering, json_for_html, Pelican's content via |safe).
    env.autoescape = True
    settings = generator.settings
    lang = settings.get("DEFAULT_LANG", "en")
    catalog: NullTranslations = NullTranslations()
    if "jinja2.ext.InternationalizationExtension" in env.extensions:
        catalog = translations_for(settings["THEME"], lang, settings.get("I18N_GETTEXT_DOMAIN", "messages"))
        env.install_gettext_translations(catalog, newstyle=True)
        env.communities_catalog = catalog  # type: ignore[attr-defined]
        env.globals["_format"] = _format
        env.add_extension(TranslateOnce)
    conf, _ = resolve(settings)
    conf["PROJECT_ROOT"] = settings.get("PROJECT_ROOT") or str(Path(settings["PATH"]).parent)
    tags, _ = load_tags(project_path(conf, "COMMUNITIES_TAGS"))
    # Pelican's own article and page templates extend the same base, so they need these too.
    env.globals.update(conf=conf, json_for_html=json_for_html, plural_forms=plural_forms(catalog, lang), tag_labels={k: v["label"] for k, v in tags.items()})
    env.filters["tile_origin"] = tile_origin
    env.filters["long_date"] = lambda value: _long_date(value, lang)
    env.filters["number"] = lambda value: _number(value, lang)
    env.filters["whole"] = round_half_up
    env.bytecode_cache = compiled_templates(project_path(conf, "COMMUNITIES_CACHE_DIR") / "templates", env, settings["THEME"], lang)


def compiled_templates(root: Path, env: Environment, theme: str | Path, lang: str) -> FileSystemBytecodeCache | None:
    """Templates compiled once and kept between builds, or None where the cache folder cannot be made.

    Compiling the theme took a sixth of a one-record rebuild. Translations are
    compiled into the code (TranslateOnce), so the folder is named by the catalog, the
    language, the extensions and Jinja's options as well as Jinja and this module;
    Jinja itself checks each template's source.
    """
    po = Path(theme) / "translations" / lang / "LC_MESSAGES" / "messages.po"
    options = tuple(getattr(env, name) for name in (
        "block_start_string", "block_end_string", "variable_start_string", "variable_end_string", "comment_start_string",
        "comment_end_string", "line_statement_prefix", "line_comment_prefix", "trim_blocks", "lstrip_blocks",
        "newline_sequence", "keep_trailing_newline", "optimized", "autoescape"))
    folder = salted_folder(root, package_version("jinja2"), lang, po.read_bytes() if po.exists() else b"", sorted(env.extensions), options,
                           code_fingerprint("environment.py"))
    if folder is None:  # a read-only checkout: templates are compiled each build, as without a cache
        return None
    return FileSystemBytecodeCache(str(folder), "%s.jinja")


@functools.lru_cache(maxsize=4096)
def _number(value: float, lang: str) -> str:
    """A target or a reached value as the site's language writes it: 2 not 2.0, 10.05, 2,500."""
    try:
        return format_decimal(value, format="#,##0.##", locale="en_GB" if lang == "en" else lang)
    except (ValueError, LookupError):
        return f"{value:g}"


@functools.lru_cache(maxsize=4096)
def _long_date(value: str | dt.date, lang: str) -> str:
    # Babel's formatting is slow and a site has few distinct dates: each is formatted once.
    if not value:
        return ""
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    try:
        return format_date(day, format="long", locale="en_GB" if lang == "en" else lang)
    except (ValueError, LookupError):
        return day.isoformat()
