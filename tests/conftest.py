"""Shared test setup: every test gets its own XDG roots, and nothing reaches the network."""

from __future__ import annotations

import os

import pytest

from workbench.store.workspace import Workspace

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


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
