"""The real ``start`` keeps its threads to one CPU (its Python runs one at a time), unless told not to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from entrypoints.cpu_affinity import chosen_cpu
from tests.e2e.test_shutdown import CLI, HELLO, WAIT, _free_port, _wait_healthy
from tests.support.fake_nexus import FakeNexus, text_reply

Start = Callable[[dict[str, object]], tuple[int, str]]
ROOT = Path(__file__).resolve().parents[2]
ALLOWED = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
pytestmark = pytest.mark.skipif(len(ALLOWED) < 2, reason="needs Linux and two CPUs to choose from")


def _cpus_of_each_thread(pid: int) -> set[frozenset[int]]:
    return {frozenset(os.sched_getaffinity(int(tid))) for tid in os.listdir(f"/proc/{pid}/task")}


@pytest.fixture
def start(fake_nexus: FakeNexus, tmp_path: Path) -> Iterator[Start]:
    """A ``start`` process given this config file (besides key and endpoint); its pid and URL."""
    processes: list[subprocess.Popen[str]] = []

    def run(config: dict[str, object]) -> tuple[int, str]:
        home = tmp_path / f"home{len(processes)}"
        (home / ".config" / "nexus-claude-api").mkdir(parents=True)
        (home / ".config" / "nexus-claude-api" / "config.json").write_text(json.dumps(config))
        env = {**os.environ, "HOME": str(home), "NEXUS_API_KEY": "nxk-cpu", "NEXUS_ENDPOINT_URL": fake_nexus.url}
        port = _free_port()
        process = subprocess.Popen(
            [str(CLI), "start", "--port", str(port)],
            cwd=home,
            env=env,
            stdout=subprocess.DEVNULL,
            text=True,
            stderr=subprocess.PIPE,
        )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, process)
        fake_nexus.enqueue(text_reply("hello"))
        # Served once: the pool and logging threads have all started by now.
        assert requests.post(f"{url}/v1/messages", json=HELLO, timeout=WAIT).status_code == 200
        return process.pid, url

    yield run
    for process in processes:
        process.kill()
        process.wait()
        assert process.stderr is not None
        process.stderr.close()


def test_every_thread_of_start_runs_on_the_one_cpu_its_pid_picks(start: Start) -> None:
    pid, _ = start({})
    assert _cpus_of_each_thread(pid) == {frozenset({chosen_cpu(ALLOWED, pid)})}


def test_with_one_cpu_false_start_may_run_on_every_cpu(start: Start) -> None:
    pid, _ = start({"one_cpu": False})
    assert _cpus_of_each_thread(pid) == {frozenset(ALLOWED)}


def test_the_cpu_is_picked_among_those_allowed_by_pid() -> None:
    assert chosen_cpu({3}, 10) is None
    assert [chosen_cpu({5, 1}, pid, lambda cpus: None) for pid in (10, 11, 12)] == [1, 5, 1]


def test_kept_to_one_cpu_a_process_knows_it_is_on_one() -> None:
    # In a child process: this one keeps every CPU.
    script = (
        "from entrypoints.cpu_affinity import keep_to_one_cpu, on_one_cpu\n"
        "print(on_one_cpu(), keep_to_one_cpu() is not None, on_one_cpu())"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.split() == ["False", "True", "True"]


def test_claude_code_launched_by_the_claude_command_may_run_on_every_cpu(tmp_path: Path, fake_nexus: FakeNexus) -> None:
    # `claude` serves the proxy in a thread of the process that starts Claude Code, which
    # would inherit a one-CPU mask: a stand-in `claude` on PATH prints the CPUs it may use.
    bin_dir, home = tmp_path / "bin", tmp_path / "home"
    bin_dir.mkdir()
    home.mkdir()
    stand_in = bin_dir / "claude"
    stand_in.write_text(f"#!{sys.executable}\nimport os\nprint(sorted(os.sched_getaffinity(0)))\n")
    stand_in.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "NEXUS_API_KEY": "nxk-cpu",
        "NEXUS_ENDPOINT_URL": fake_nexus.url,
    }
    done = subprocess.run(
        [str(CLI), "claude"], env=env, cwd=home, capture_output=True, text=True, timeout=WAIT, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[-2] == str(sorted(ALLOWED))


def test_of_cpus_the_kernel_rates_apart_only_the_fastest_are_picked() -> None:
    def hybrid(cpus: object) -> dict[int, int]:
        return {0: 1024, 1: 1024, 2: 512, 3: 512}  # two big cores, two little ones

    assert {chosen_cpu({0, 1, 2, 3}, pid, hybrid) for pid in range(8)} == {0, 1}
    assert {chosen_cpu({0, 1, 2, 3}, pid, lambda cpus: None) for pid in range(8)} == {0, 1, 2, 3}
