"""Shared test setup: every test gets its own XDG roots, and nothing reaches the network."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.store.workspace import Workspace

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# The screens under test must not depend on the terminal settings of whoever runs them (the
# first app even removes NO_COLOR from the environment, so the tests after it would differ).
# Once per process: a second import of this file (`from tests.conftest import ...`) would also
# remove the TEXTUAL_* setting the snapshot plugin made since, and pytest would crash at the end.
if "WORKBENCH_TEST_TERMINAL_CLEARED" not in os.environ:
    os.environ["WORKBENCH_TEST_TERMINAL_CLEARED"] = "1"
    for _name in [n for n in os.environ if n == "NO_COLOR" or n.startswith("TEXTUAL_")]:
        del os.environ[_name]

# Property tests draw the same examples on every run, so a run of unchanged code cannot fail on
# a new random draw, and slow data generation on a loaded machine is not a failure. For fresh
# examples: `pytest --hypothesis-profile=explore`.
settings.register_profile("ci", derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", settings.get_profile("ci"), derandomize=False)
settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _workbench_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("wbhome")
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    return home


@pytest.fixture
def ws(tmp_path):
    """A workspace in a real SQLite file of the test's own."""
    w = Workspace.open(tmp_path / "ws.sqlite")
    yield w
    w.close()


def sample_records(n: int = 30) -> list[dict]:
    recs = [
        make_record(
            id=f"r{i}",
            system="You are terse." if i % 5 == 0 else None,
            messages=[
                {"role": "user", "content": f"question {i}: how do {'cats' if i % 2 else 'dogs'} sleep?"},
                {"role": "assistant", "content": f"answer {i} with **bold** text", "reasoning": "think" if i == 1 else None},
            ],
        )
        for i in range(n)
    ]
    recs.append(make_record(
        id="pref1", kind="preference", messages=[{"role": "user", "content": "which zebra answer is better"}],
        chosen=[{"role": "assistant", "content": "the striped one"}],
        rejected=[{"role": "assistant", "content": "the spotted one"}],
    ))
    recs.append(make_record(
        id="tool1",
        messages=[
            {"role": "user", "content": "weather in Paris?"},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}]},
            {"role": "tool", "content": "sunny", "tool_call_id": "c1"},
        ],
    ))
    return recs


@pytest.fixture
def ds():
    """32 rows: SFT conversations, a preference pair and a tool call, as a real Arrow-backed Dataset."""
    return Dataset.from_records(sample_records(), sources=["demo.jsonl"])


@pytest.fixture
def slow_first_hashing(monkeypatch):
    """The real content_hashes; the patched one whose first call (the first bulk decision's thread) lags behind."""
    import time

    from workbench.store import reconcile

    real, calls = reconcile.content_hashes, []

    def lagging(ds, row_ids):
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.5)  # widens the window in which a second thread, or a close, overtakes it
        return real(ds, row_ids)

    monkeypatch.setattr(reconcile, "content_hashes", lagging)
    return real


class SmallDisk:
    """A 1 MiB tmpfs mounted for one test: a disk that really fills up, a folder that really is
    read-only (even for root). Needs root and mount, as here and in CI."""

    def __init__(self, path: Path):
        self.path = path
        self._mount("-t", "tmpfs", "-o", "size=1m", "tmpfs")

    def _mount(self, *opts: str) -> None:
        r = subprocess.run(["mount", *opts, str(self.path)], capture_output=True, text=True)
        assert r.returncode == 0, f"these tests mount a small tmpfs and need root: {r.stderr}"

    def fill(self) -> None:
        """Write a filler file until the disk is full."""
        fd = os.open(self.path / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)

    def free(self) -> None:
        os.unlink(self.path / "filler")

    def read_only(self) -> None:
        self._mount("-o", "remount,ro")


@pytest.fixture
def disk(tmp_path):
    d = tmp_path / "disk"
    d.mkdir()
    small = SmallDisk(d)
    yield small
    subprocess.run(["umount", "-l", str(d)], check=True)


@pytest.fixture
def workbench_cli():
    """`workbench_cli("status", PATH, "--json")`: the real command in a subprocess; its stdout,
    after asserting that it succeeded."""
    import subprocess
    import sys

    def run(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    return run
