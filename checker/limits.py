"""Resource limits shared by every search engine: states, wall time, memory, Ctrl-C.

A search polls `Limits.exceeded` every few thousand expanded states (`CHECK_EVERY`; a
poll reads the clock, a flag and, for the memory guard, ``/proc/self/statm``: a few
microseconds) and, when it returns a reason, stops cleanly: what was found so far is
reported and written, and the report says how far the search got.  The reasons:

* ``max-states``: ``--max-states`` distinct states stored;
* ``timeout``: ``--timeout SECONDS`` of wall time since `Limits.start`;
* ``max-memory``: the process's resident set exceeds ``--max-memory`` (default
  `default_max_memory`, a safe share of the machine's RAM);
* ``interrupted``: Ctrl-C (SIGINT) while `sigint_stops` is active.  A second Ctrl-C
  exits at once (status `EXIT_ABORT`); trace files are written atomically (temp file and
  rename), so nothing is left half-written.

Engine-neutral on purpose: checker.explicit and any compiled engine poll the same object.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

CHECK_EVERY = 2048  # expanded states (or simulation steps) between two polls
EXIT_ABORT = 130  # second Ctrl-C: the shell's convention for death by SIGINT

STOP_TEXT = {
    "max-states": "--max-states reached",
    "timeout": "--timeout reached",
    "max-memory": "--max-memory reached",
    "interrupted": "interrupted (Ctrl-C)",
    "stop-early": "--stop-early: every selected property is violated",
}


class Interrupt:
    """Set by the SIGINT handler of `sigint_stops`; polled by `Limits.exceeded`."""

    requested = False


def _page_size() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4096


_PAGE = _page_size()


def rss_bytes() -> int:
    """The resident set size of this process, cheaply (one small read of /proc)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        import resource

        # Peak, not current, resident size (kilobytes on Linux): an upper bound.
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _meminfo(key: str) -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def default_max_memory() -> int | None:
    """80% of what this process can have without pushing the machine into swap: the
    memory available now (MemAvailable) plus what the process already holds, and never
    more than 80% of the RAM.  None where the machine does not say (no guard)."""
    total = _meminfo("MemTotal")
    avail = _meminfo("MemAvailable")
    if total is None:
        try:
            total = os.sysconf("SC_PHYS_PAGES") * _PAGE
        except (ValueError, OSError, AttributeError):
            return None
    budget = total if avail is None else min(total, avail + rss_bytes())
    return int(budget * 0.8)


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``4G``, ``512M``, ``1.5GiB``, ``1000000`` (bytes) -> bytes; ValueError otherwise."""
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"not a memory size: {text!r} (e.g. 4G, 512M)")
    scale = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m.group(2).lower()]
    value = int(float(m.group(1)) * scale)
    if value <= 0:
        raise ValueError(f"memory size must be positive: {text!r}")
    return value


def format_size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


@dataclass
class Limits:
    """The bounds of one search.  ``timeout`` counts from `start` (the CLI starts it once
    for the whole command, so two hyp modes share it); ``None`` means unbounded."""

    max_states: int | None = None
    timeout: float | None = None
    max_memory: int | None = None
    deadline: float | None = field(default=None, init=False)

    def start(self) -> Limits:
        if self.timeout is not None and self.deadline is None:
            self.deadline = time.monotonic() + self.timeout
        return self

    def exceeded(self, states: int = 0) -> str | None:
        """The reason to stop now, or None."""
        if Interrupt.requested:
            return "interrupted"
        if self.max_states is not None and states >= self.max_states:
            return "max-states"
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return "timeout"
        if self.max_memory is not None and rss_bytes() >= self.max_memory:
            return "max-memory"
        return None


@contextmanager
def sigint_stops() -> Iterator[None]:
    """While active, the first Ctrl-C asks the search to stop cleanly (`Interrupt`), the
    second exits at once with `EXIT_ABORT`."""

    def handler(signum: int, frame: object) -> None:
        if Interrupt.requested:
            os.write(2, b"\naborted (second Ctrl-C)\n")
            os._exit(EXIT_ABORT)
        Interrupt.requested = True
        os.write(2, b"\ninterrupted: stopping and reporting what was found "
                    b"(Ctrl-C again to abort at once)\n")

    try:
        old = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave Ctrl-C alone
        yield
        return
    Interrupt.requested = False
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
        Interrupt.requested = False
        sys.stderr.flush()


__all__ = ["CHECK_EVERY", "EXIT_ABORT", "Interrupt", "Limits", "STOP_TEXT",
           "default_max_memory", "format_size", "parse_size", "rss_bytes", "sigint_stops"]
