"""Running a job every so often until stopped: `update --every` and `serve --update-every`.

A stop request (SIGTERM, Ctrl+C) never interrupts a run: it is noted, the running build finishes and publishes
(or fails whole), and the loop ends before the next one, so no stop leaves a partial version behind.
"""

from __future__ import annotations

import contextlib
import logging
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator

log = logging.getLogger(__name__)

_PART = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_PERIOD = 1.0
MAX_PERIOD = 7 * 86400.0


def parse_duration(text: str) -> float:
    """Seconds in a duration such as 90s, 15m, 1h or 1h30m; ValueError saying what is accepted otherwise."""
    compact = text.strip().lower()
    parts = _PART.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"{text!r} is not a duration: give a number and a unit (s, m, h, d), e.g. 90s, 15m, 1h30m")
    seconds = float(sum(int(n) * _UNITS[u] for n, u in parts))
    if not MIN_PERIOD <= seconds <= MAX_PERIOD:
        raise ValueError(f"{text!r} is out of range: between 1s and 7d")
    return seconds


def every(period: float, job: Callable[[], object], stop: threading.Event) -> int:
    """Run job now and then every `period` seconds (from the start of one run to the next) until stop is set;
    a run that raises is logged and the next one comes on time. How many runs there were."""
    runs = 0
    while not stop.is_set():
        started = time.monotonic()
        runs += 1
        try:
            job()
        except Exception:  # one failed run must not end the schedule; the next may succeed
            log.exception("scheduled run %d failed; trying again in %.0fs", runs, period)
        stop.wait(max(period - (time.monotonic() - started), 0.0))
    return runs


@contextlib.contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or the first Ctrl+C (a second Ctrl+C interrupts at once); the handlers are restored
    on leaving. Only the main thread may install signal handlers."""
    stop = threading.Event()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def note(signum: int, frame: object) -> None:
        log.warning("stopping after the current run (signal %s)", signal.Signals(signum).name)
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    for sig in previous:
        signal.signal(sig, note)
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
