"""The serving process kept to one CPU: its Python runs one thread at a time anyway.

A busy proxy hands the GIL from thread to thread thousands of times a second (stream
readers, the event loop, pool threads). With the threads spread over several CPUs, each
hand-over wakes a thread on another CPU and moves its working set there; kept to one CPU,
it is a switch on that CPU, and the other CPUs are left to Claude Code and everything
else. The kernel moves other programs off a busy CPU, so the proxy keeps its own. Of
several CPUs it takes one the kernel rates fastest (a big core, not a little one).
Measured on a 2-core machine (bench/README.md, "One CPU"): 32 or 64 streams at once cost
14-19% less CPU and took 19-25% less time, from a plain-HTTP fake Nexus as from a TLS one,
with ``/health`` still answered within 11 ms.

Only ``start`` does it (``claude`` shares its process with Claude Code's launcher, whose
child would inherit the mask), only on Linux (``os.sched_setaffinity``; threads already
running are found in ``/proc/self/task``), and not with ``"one_cpu": false`` in the config
file. Two proxies on one machine may land on the same CPU.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Collection
from pathlib import Path

_CPUS = Path("/sys/devices/system/cpu")
# How the kernel rates a CPU's speed, in the order asked: big and little cores (and Intel's
# performance and efficient ones) differ in both.
_RATINGS = ("cpu_capacity", "cpufreq/cpuinfo_max_freq")


def sysfs_ratings(cpus: Collection[int]) -> dict[int, int] | None:
    """Each CPU's speed as the kernel rates it, by the first rating all of them have; None if none."""
    for rating in _RATINGS:
        try:
            return {cpu: int((_CPUS / f"cpu{cpu}" / rating).read_text()) for cpu in cpus}
        except (OSError, ValueError):
            continue
    return None


def chosen_cpu(
    allowed: Collection[int], pid: int, ratings: Callable[[Collection[int]], dict[int, int] | None] = sysfs_ratings
) -> int | None:
    """One of the fastest ``allowed`` CPUs, picked by ``pid`` so two proxies likely differ; None for one CPU."""
    if len(allowed) < 2:
        return None
    rated = ratings(allowed)
    fastest = sorted(allowed if not rated else [cpu for cpu, speed in rated.items() if speed == max(rated.values())])
    return fastest[pid % len(fastest)]


def keep_to_one_cpu() -> int | None:
    """Keep every thread of this process, and all it starts later, to one CPU; which, or None.

    None where there is nothing to choose from, no way to set it (not Linux), or the system
    refuses (a sandbox): the proxy then serves as it would have.
    """
    get, set_ = getattr(os, "sched_getaffinity", None), getattr(os, "sched_setaffinity", None)
    if get is None or set_ is None:
        return None
    try:
        cpu = chosen_cpu(get(0), os.getpid())
        if cpu is None:
            return None
        set_(0, {cpu})  # this thread: a thread started later takes the mask of its starter
    except OSError:
        return None
    # Threads already running (none, usually, this early) one by one; one that ended meanwhile
    # has nothing to keep.
    with contextlib.suppress(OSError):
        for tid in os.listdir("/proc/self/task"):
            with contextlib.suppress(OSError):
                set_(int(tid), {cpu})
    return cpu


def on_one_cpu() -> bool:
    """Whether this process's threads run on one CPU only: kept to it, or the machine has one."""
    get = getattr(os, "sched_getaffinity", None)
    try:
        return len(get(0)) == 1 if get is not None else os.cpu_count() == 1
    except OSError:
        return False
