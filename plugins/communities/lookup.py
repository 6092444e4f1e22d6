"""Geocode, online: asking a geocoding service through geopy, politely and without leaking what was asked.

Imported only by runs that go online (scripts/geocode, a build run --online):
geopy and the HTTP stack under it take longer to import than a whole offline
rebuild spends placing 10,000 communities.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from geopy.exc import (
    ConfigurationError,
    GeocoderAuthenticationFailure,
    GeocoderInsufficientPrivileges,
    GeocoderNotFound,
    GeocoderQuotaExceeded,
    GeocoderRateLimited,
    GeocoderServiceError,
    GeocoderTimedOut,
    GeocoderUnavailable,
    GeopyError,
)
from geopy.extra.rate_limiter import RateLimiter

from .geocoding import BACKOFF_SECONDS, MAX_BACKOFF_SECONDS, RETRIES, TIMEOUT_SECONDS, Found, GeocoderSetupError, LookupFailed


def make_geocoder(conf: dict[str, Any]) -> Any:
    """The provider from settings (any geopy geocoder), with the site's user agent."""
    from geopy.geocoders import get_geocoder_for_service

    name = conf["COMMUNITIES_GEOCODER"]
    try:
        cls = get_geocoder_for_service(name)
    except (GeocoderNotFound, AttributeError) as exc:
        raise GeocoderSetupError(f"COMMUNITIES_GEOCODER: {name!r} is not a geopy geocoder (try nominatim, photon, pelias or opencage)") from exc
    options = {"user_agent": conf["COMMUNITIES_GEOCODER_USER_AGENT"], "timeout": TIMEOUT_SECONDS}
    options.update(conf.get("COMMUNITIES_GEOCODER_OPTIONS") or {})
    try:
        return cls(**options)
    except (TypeError, ValueError, ConfigurationError) as exc:
        raise GeocoderSetupError(f"COMMUNITIES_GEOCODER_OPTIONS: the {name} geocoder cannot be set up with these options "
                                 f"({type(exc).__name__}); see geopy's documentation for {cls.__name__}") from exc


class _Limiter(RateLimiter):
    """geopy's RateLimiter with its clock and sleep injected; its own retries are off (ours back off exponentially)."""

    def __init__(self, func: Callable[..., Any], min_delay: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        super().__init__(func, min_delay_seconds=min_delay, max_retries=0, error_wait_seconds=min_delay, swallow_exceptions=False)
        self._now = clock
        self._pause = sleep

    def _clock(self) -> float:
        return self._now()

    def _sleep(self, seconds: float) -> None:
        self._pause(seconds)


def _status(exc: BaseException) -> int | None:
    code = getattr(exc.__cause__, "status_code", None)
    if isinstance(code, int):
        return code
    match = re.search(r"status code (\d{3})", str(exc))
    return int(match.group(1)) if match else None


def classify(exc: BaseException) -> tuple[str, bool, bool]:
    """(reason in plain words, worth retrying, the service itself is the trouble).

    Never repeats the exception's text: geopy's messages can carry the request URL,
    which holds the postcode and, for some providers, the API key.
    """
    status = _status(exc)
    if isinstance(exc, GeocoderRateLimited):
        return "the geocoding service refused: too many requests (HTTP 429)", True, True
    if isinstance(exc, GeocoderTimedOut):
        return "the geocoding service did not answer in time", True, True
    if isinstance(exc, (GeocoderUnavailable, OSError)):
        return "could not connect to the geocoding service (no network, or the service is down)", True, True
    if isinstance(exc, (GeocoderAuthenticationFailure, GeocoderInsufficientPrivileges, GeocoderQuotaExceeded)):
        code = f" (HTTP {status})" if status else ""
        return f"the geocoding service refused the request{code}: check the API key, user agent or quota", False, True
    if isinstance(exc, GeocoderServiceError) and status and status >= 500:
        return f"the geocoding service had an error (HTTP {status})", True, True
    code = f", HTTP {status}" if status else ""
    return f"the geocoding service could not answer this query ({type(exc).__name__}{code})", False, False


class OnlineLookup:
    """A geocoder behind the rate limit and retries, that stops asking once the service is out of reach."""

    def __init__(self, geocoder: Any, *, provider: str = "", min_delay: float = 1.0, retries: int = RETRIES,
                 backoff: float = BACKOFF_SECONDS, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.provider = provider or type(geocoder).__name__.lower()
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._geocode = _Limiter(geocoder.geocode, min_delay, clock, sleep)
        self.unreachable = ""
        self.requests = 0
        self.skipped = 0

    def __call__(self, query: str) -> Found | None:
        """One answer, None when the service knows no such place; LookupFailed when it gave no answer."""
        if self.unreachable:
            self.skipped += 1
            raise LookupFailed(f"not looked up, because {self.unreachable}", fatal=True)
        for attempt in range(self.retries + 1):
            try:
                self.requests += 1
                return _found(self._geocode(query, exactly_one=True))
            except (GeopyError, OSError) as exc:
                reason, retry, fatal = classify(exc)
                if retry and attempt < self.retries:
                    self._sleep(self.delay(attempt, exc))
                    continue
                if fatal:
                    self.unreachable = reason
                raise LookupFailed(reason, fatal) from exc
            except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:
                # An answer without usable coordinates (a changed API, a broken proxy): this query fails, the run goes on.
                raise LookupFailed(f"the geocoding service gave an answer that could not be read ({type(exc).__name__})", False) from exc
        raise AssertionError("unreachable")  # the loop always returns or raises

    def delay(self, attempt: int, exc: BaseException) -> float:
        """Exponential backoff (2, 4, 8 s...), or longer when a 429 says Retry-After."""
        wait = self.backoff * 2 ** attempt
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_after, (int, float)):
            wait = max(wait, float(retry_after))
        return min(wait, MAX_BACKOFF_SECONDS)


def _found(result: Any) -> Found | None:
    if result is None:
        return None
    if isinstance(result, (list, tuple)):
        result = result[0] if result else None
        if result is None:
            return None
    return Found(float(result.latitude), float(result.longitude), str(getattr(result, "address", "") or ""))
