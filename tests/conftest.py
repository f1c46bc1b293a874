"""Shared test setup: every test gets its own XDG roots, and nothing reaches the network."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from workbench.store.workspace import Workspace

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# The screens under test must not depend on the terminal settings of whoever runs them (the
# first app even removes NO_COLOR from the environment, so the tests after it would differ).
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
