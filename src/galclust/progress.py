"""Progress lines for steps that can take minutes: done/total, rate and time left, logged at
most every ``interval`` seconds and once at the end (as acquisition logs its downloads)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"


@dataclass
class ProgressLog:
    """``label: done/total unit (pct), rate/s (or time each), time left``; ``clock`` is injectable for tests."""

    label: str
    total: int
    unit: str = "galaxies"
    interval: float = 30.0
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("galclust.progress"))
    clock: Callable[[], float] = time.monotonic
    done: int = 0

    def __post_init__(self) -> None:
        self._start = self.clock()
        self._last = self._start

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = self.clock()
        if now - self._last >= self.interval and self.done < self.total:
            self._last = now
            self.logger.info(self.line(now))

    def line(self, now: float | None = None) -> str:
        elapsed = (self.clock() if now is None else now) - self._start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        share = f" ({100 * self.done / self.total:.0f} %)" if self.total else ""
        left = duration((self.total - self.done) / rate) if rate > 0 and self.done < self.total else "0s"
        # below 0.1 per second (an epoch, a slow batch) the time per item says more than 0.0/s
        pace = f"{rate:.1f}/s" if rate >= 0.1 or rate == 0 else f"{duration(1 / rate)} each"
        return (f"{self.label}: {self.done}/{self.total} {self.unit}{share}, {pace}, "
                f"{duration(elapsed)} so far, {left} left")

    def finish(self) -> None:
        self.logger.info(self.line())


class LogLines:
    """A text stream for a library's progress bar (tqdm ``file=``): each line it draws, carriage
    returns included, becomes one log record instead of control characters in the log file."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("galclust.progress")

    def write(self, text: str) -> int:
        for part in text.replace("\r", "\n").split("\n"):
            if part.strip():
                self.logger.info(part.strip())
        return len(text)

    def flush(self) -> None:
        """Nothing is buffered."""


def tqdm_settings(label: str, unit: str, interval: float = 30.0) -> dict[str, object]:
    """tqdm keywords that log ``label: done/total unit (pct), rate, time so far, time left`` at
    most every ``interval`` seconds, like :class:`ProgressLog`."""
    return {"disable": False, "file": LogLines(), "mininterval": interval, "ascii": True, "unit": f" {unit}",
            "bar_format": f"{label}: {{n}}/{{total}} {unit} ({{percentage:.0f}} %), {{rate_fmt}}, "
                          "{elapsed} so far, {remaining} left"}
