"""What a build spends its time on: each stage's time in `scripts/build --verbose`, and the collector paused."""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections.abc import Iterator

log = logging.getLogger("communities.timing")


@contextlib.contextmanager
def timed(stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        log.info("communities: %s took %.2fs", stage, time.perf_counter() - started)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Loading makes a million small objects that all stay alive and form no cycles: the cyclic
    collector would only walk them again and again (a third of a rebuild at 10,000 records)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
