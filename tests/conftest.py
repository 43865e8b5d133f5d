"""Fixtures shared by every test."""

from __future__ import annotations

import atexit
import collections
import gc
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.fake_gateway import FakeConverseGateway

UNIT = Path(__file__).resolve().parent / "unit"

if TYPE_CHECKING:
    from tests.support.fake_nexus import FakeNexus

pytest_plugins = ["pytester"]


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """One worker more than cores, up to three, for a run with servers and Claude Code in
    it; none for the pure domain.

    Claude Code runs, timeouts and server stops leave a worker waiting a fifth of its time,
    so on two cores a third worker fills those waits: 1-2 s sooner, though its collection
    costs 2.4 s of CPU. The unit tier runs in about a second in one process; starting
    workers would double it.
    """
    paths = [arg for arg in config.args if not arg.startswith("-")]
    if paths and all(Path(arg).resolve().is_relative_to(UNIT) for arg in paths):
        return 0
    return min(3, (os.cpu_count() or 1) + 1)


def pytest_configure(config: pytest.Config) -> None:
    """The garbage collector kept off the objects that live for the whole run.

    Collection imports botocore, hypothesis and every test module: hundreds of
    thousands of objects, each full collection walking them all (a second a worker in ten
    such passes). So the collector waits until collection is done, then those objects are
    frozen once (``pytest_collection_finish``): later passes, pytest's own at unconfigure
    and the interpreter's at exit walk only what the tests made. A controller that runs no
    tests collects nothing; it idles while the workers run, so it imports hypothesis then,
    which hypothesis's terminal summary otherwise does after the last test.
    """
    atexit.register(gc.freeze)  # what the session made after collection, at exit
    if not hasattr(config, "workerinput") and config.getoption("numprocesses", 0):
        if config.pluginmanager.has_plugin("hypothesispytest"):
            threading.Thread(target=_import_hypothesis, name="import-hypothesis", daemon=True).start()
        return
    gc.disable()


def _import_hypothesis() -> None:
    import hypothesis.internal.observability  # noqa: F401


def pytest_collection_finish(session: pytest.Session) -> None:
    # One full pass first, while pytest's unraisable hook listens: nothing collection left
    # as garbage is frozen unseen.
    gc.collect()
    gc.freeze()
    gc.enable()


@pytest.fixture
def gateway() -> FakeConverseGateway:
    """The Nexus port as a fake, for an app built in process with ``create_app``."""
    return FakeConverseGateway()


@pytest.fixture(scope="module")
def nexus_server() -> Iterator[FakeNexus]:
    """One fake AI Nexus for the module; tests take it through ``fake_nexus``."""
    # Imported here: it imports botocore, which the unit tests never need.
    from tests.support.fake_nexus import FakeNexus

    with FakeNexus() as fake:
        yield fake


@pytest.fixture
def fake_nexus(nexus_server: FakeNexus) -> Iterator[FakeNexus]:
    """The module's fake AI Nexus, with nothing recorded or queued yet.

    At teardown the test fails if the fake raised, or if any request it received was one
    Bedrock would reject, unless the test called ``fake_nexus.allow_invalid()``.
    """
    nexus_server.reset()
    yield nexus_server
    if nexus_server.handler_errors:
        pytest.fail(f"fake Nexus raised while serving: {nexus_server.handler_errors!r}")
    invalid = nexus_server.invalid_requests()
    if invalid and not nexus_server.invalid_allowed:
        lines = [f"{r.operation} {r.path}: {error}" for r in invalid for error in r.errors]
        pytest.fail("fake Nexus received requests Bedrock would reject:\n" + "\n".join(lines))


_CPUS = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None


@pytest.fixture(autouse=True)
def _all_cpus_again() -> Iterator[None]:
    """A test that runs ``serve`` in this process with ``one_cpu`` on would keep the whole
    worker to one CPU: give the worker's later tests every CPU back."""
    yield
    if _CPUS is None or os.sched_getaffinity(0) == _CPUS:
        return
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), _CPUS)
        except OSError:  # a thread that ended meanwhile
            continue


# Rough seconds each of the longest files takes on two busy cores, for the order only: a file
# missing here counts a second per Claude Code run it has, and any other starts later.
SECONDS = {
    "test_claude_command.py": 6.0,
    "test_fuzz.py": 4.0,
    "test_claude_code_sessions.py": 4.0,
    "test_claude_code.py": 3.0,
    "test_eventstream.py": 2.5,
    "test_shutdown.py": 2.5,
    "test_claude_code_auto_mode_check.py": 2.5,
    "test_claude_code_tool_search.py": 1.6,
    "test_end_to_end.py": 1.2,
    "test_delta_runs.py": 1.2,
    "test_cli.py": 1.0,
    "test_fake_nexus.py": 1.0,
    "test_streaming.py": 0.9,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first, so the workers finish together rather than one waiting.

    xdist hands out whole files in this order (``--no-loadscope-reorder``) to whichever
    worker runs low: the short files left at the end even them out.
    """
    runs = collections.Counter(item.path.name for item in items if item.get_closest_marker("claude_code"))
    items.sort(key=lambda item: -SECONDS.get(item.path.name, float(runs[item.path.name])))
