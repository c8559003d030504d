"""Timestamps as the API writes them: epoch milliseconds inside, ISO 8601 with
milliseconds and a Z outside, and the mm-dd-yyyy days of the GET search filter.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

DAY_MS = 86_400_000
_DAY_PATTERN = re.compile(r"^(\d{2})-(\d{2})-(\d{4})$")


def now_ms() -> int:
    """Return the current time in epoch milliseconds."""
    return int(time.time() * 1000)


def iso_ms(epoch_ms: int) -> str:
    """Format epoch milliseconds as `2026-01-15T10:21:58.368Z`."""
    seconds, millis = divmod(epoch_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def datetime_to_ms(moment: datetime) -> int:
    """Convert a datetime to epoch milliseconds, reading a naive one as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def parse_day(text: str) -> int | None:
    """Return the UTC start of an `mm-dd-yyyy` day in epoch ms, or None for any other text."""
    match = _DAY_PATTERN.match(text)
    if match is None:
        return None
    month, day, year = (int(part) for part in match.groups())
    try:
        start = datetime(year, month, day, tzinfo=timezone.utc)
    except ValueError:
        return None
    return datetime_to_ms(start)


def ms_until_utc_midnight(epoch_seconds: float) -> int:
    """Return the milliseconds from `epoch_seconds` to the next UTC midnight."""
    epoch_ms = int(epoch_seconds * 1000)
    return DAY_MS - epoch_ms % DAY_MS
