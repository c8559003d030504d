"""A one-line progress bar for terminals: rows done, rate, time left, failures."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar"]

BAR_WIDTH = 24
REDRAW_SECONDS = 0.1


class ProgressBar:
    """Redraws one line of `stream` at most ten times a second.

    It draws only when `stream` is a terminal (or `enabled=True`), so piped
    output and log files get the plain summary alone.
    """

    def __init__(
        self,
        total: int | None,
        *,
        label: str,
        unit: str = "rows",
        failures_label: str = "rejected",
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.total = total
        self.label = label
        self.unit = unit
        self.failures_label = failures_label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._started = time.monotonic()
        self._drawn_at = 0.0
        self._width = 0

    def update(self, done: int, failures: int = 0, *, force: bool = False) -> None:
        """Show `done` rows and `failures` so far."""
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._drawn_at < REDRAW_SECONDS:
            return
        self._drawn_at = now
        line = self.render(done, failures, now - self._started)
        padding = " " * max(0, self._width - len(line))
        self._width = len(line)
        self.stream.write(f"\r{line}{padding}")
        self.stream.flush()

    def advance(self, done: int, failures: int, total: int | None) -> None:
        """Show progress towards a total that became known after the bar was made."""
        self.total = total
        self.update(done, failures)

    def render(self, done: int, failures: int, elapsed: float) -> str:
        """Return the progress line for `done` rows after `elapsed` seconds."""
        rate = done / elapsed if elapsed > 0 else 0.0
        parts = [self.label]
        if self.total:
            share = min(done / self.total, 1.0)
            filled = round(share * BAR_WIDTH)
            parts.append(f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}]")
            parts.append(f"{done:,}/{self.total:,} {self.unit} {share:4.0%}")
        else:
            parts.append(f"{done:,} {self.unit}")
        parts.append(f"{rate:,.0f} {self.unit}/s")
        if self.total and rate > 0:
            parts.append(f"ETA {_clock((self.total - done) / rate)}")
        parts.append(f"{self.failures_label} {failures:,}")
        return "  ".join(parts)

    def close(self) -> None:
        """End the progress line so that the next output starts on a new line."""
        if self.enabled and self._width:
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
