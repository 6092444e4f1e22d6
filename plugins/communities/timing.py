"""How long each stage took, in `scripts/build --verbose`: where to look when a build gets slow."""

from __future__ import annotations

import contextlib
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
