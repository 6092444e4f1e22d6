"""Site settings. The only place that reads the environment (COMMUNITIES_DIR, OUTPUT_DIR...).

Every COMMUNITIES_* setting and its default is listed in docs/settings.md.
"""

import datetime as _dt
import os as _os
from pathlib import Path as _Path

PROJECT_ROOT = str(_Path(__file__).resolve().parent)

AUTHOR = "Co-operative Communities"
SITENAME = "Co-operative Communities"
SITEURL = _os.environ.get("SITEURL", "")
SITE_DESCRIPTION = "A directory and map of co-operative communities: places and communities of interest committing to more co-operative action and enterprise."
TIMEZONE = "Europe/London"
DEFAULT_LANG = _os.environ.get("SITE_LANG", "en")

PATH = str(_Path(PROJECT_ROOT) / "content")
OUTPUT_PATH = _os.environ.get("OUTPUT_DIR") or str(_Path(PROJECT_ROOT) / "output")
THEME = str(_Path(PROJECT_ROOT) / "theme")
PLUGIN_PATHS = [str(_Path(PROJECT_ROOT) / "plugins")]
PLUGINS = ["communities"]

# Interface text goes through gettext: theme/translations/<lang>/LC_MESSAGES/messages.mo
JINJA_ENVIRONMENT = {"extensions": ["jinja2.ext.i18n"], "trim_blocks": True, "lstrip_blocks": True}
I18N_GETTEXT_DOMAIN = "messages"

COMMUNITIES_DIR = _os.environ.get("COMMUNITIES_DIR") or str(_Path(PROJECT_ROOT) / "data" / "communities")
COMMUNITIES_GEOCODE_ONLINE = _os.environ.get("GEOCODE_ONLINE") == "1"
COMMUNITIES_GEOCODER_USER_AGENT = "cooperative-communities-site (https://github.com/cooperative-communities/cooperative-communities)"
if _os.environ.get("SOURCE_DATE_EPOCH"):
    COMMUNITIES_TODAY = _dt.datetime.fromtimestamp(int(_os.environ["SOURCE_DATE_EPOCH"]), _dt.UTC).date().isoformat()
if _os.environ.get("COMMUNITIES_WORKERS"):
    COMMUNITIES_WORKERS = int(_os.environ["COMMUNITIES_WORKERS"])
COMMUNITIES_SEARCH_INDEX = _os.environ.get("SEARCH_INDEX", "1") != "0"

# News articles live under content/blog, handbook and resource pages under content/pages.
ARTICLE_PATHS = ["blog"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["images"]
ARTICLE_URL = "blog/{date:%Y}/{slug}/"
ARTICLE_SAVE_AS = "blog/{date:%Y}/{slug}/index.html"
PAGE_URL = "resources/{slug}/"
PAGE_SAVE_AS = "resources/{slug}/index.html"
INDEX_SAVE_AS = "blog/index.html"
INDEX_URL = "blog/"
TAG_URL = "tags/{slug}/"
TAG_SAVE_AS = ""  # /tags/<tag>/ is written by the communities plugin, with news and communities together
CATEGORY_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
TAGS_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
DIRECT_TEMPLATES = ["index"]
DEFAULT_PAGINATION = 10
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/page/{number}/", "{base_name}/page/{number}/index.html"),
)
SLUGIFY_SOURCE = "basename"
DEFAULT_DATE_FORMAT = "%-d %B %Y"

FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "feeds/all.atom.xml"
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None

RELATIVE_URLS = False
DELETE_OUTPUT_DIRECTORY = False
# Pelican keeps what its readers made of content/ (news, handbook) and reads again only files that changed;
# the plugin puts that cache in COMMUNITIES_CACHE_DIR/pelican, beside its own.
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CONTENT_CACHING_LAYER = "reader"
STATIC_CHECK_IF_MODIFIED = True
TYPOGRIFY = False
MARKDOWN = {
    "extension_configs": {"markdown.extensions.extra": {}, "markdown.extensions.toc": {"permalink": False}},
    "output_format": "html",
}


import logging as _logging  # noqa: E402

# Local builds have no SITEURL; feeds still validate once deployed with one.
LOG_FILTER = [(_logging.WARNING, "Feeds generated without SITEURL or FEED_DOMAIN set properly may not be valid")]
