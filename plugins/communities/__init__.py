"""Co-operative communities: a Pelican plugin. register() only wires signals.

The imports live inside register() so that the command-line scripts, which
import this package for its loader and validator, never load Pelican.
"""


def register() -> None:
    from pelican import signals

    from .environment import configure
    from .generator import get_generators
    from .rendering import process_content
    from .search import index_site
    from .settings import place_pelican_cache

    signals.initialized.connect(place_pelican_cache)
    signals.generator_init.connect(configure)
    signals.get_generators.connect(get_generators)
    signals.content_object_init.connect(process_content)
    signals.finalized.connect(index_site)
