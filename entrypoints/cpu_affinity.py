"""The serving process kept to one CPU: its Python runs one thread at a time anyway.

A busy proxy hands the GIL from thread to thread thousands of times a second (stream
readers, the event loop, pool threads). With the threads spread over several CPUs each
hand-over wakes a thread on another CPU and moves its working set there; kept to one CPU,
it is a switch on that CPU, and the others are left to Claude Code, the fake or real Nexus
client and everything else. The kernel moves other programs off a busy CPU, so the proxy
keeps its own. Measured on a 2-core machine (bench/README.md): 64 streams at once used a
third less CPU, with ``/health`` still answered within 25 ms.

Only ``start`` does it (``claude`` shares its process with Claude Code's launcher, whose
child would inherit the mask), only on Linux (``os.sched_setaffinity``), and not with
``"one_cpu": false`` in the config file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection


def chosen_cpu(allowed: Collection[int], pid: int) -> int | None:
    """One of the ``allowed`` CPUs, picked by ``pid`` so two proxies likely differ; None for one CPU."""
    if len(allowed) < 2:
        return None
    return sorted(allowed)[pid % len(allowed)]


def keep_to_one_cpu() -> int | None:
    """Keep every thread of this process, and all it starts later, to one CPU; which, or None.

    None where there is nothing to choose from, no way to set it (not Linux), or the system
    refuses (a sandbox): the proxy then serves as it would have.
    """
    get, set_ = getattr(os, "sched_getaffinity", None), getattr(os, "sched_setaffinity", None)
    if get is None or set_ is None:
        return None
    cpu = chosen_cpu(get(0), os.getpid())
    if cpu is None:
        return None
    try:
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
    return len(get(0)) == 1 if get is not None else os.cpu_count() == 1
