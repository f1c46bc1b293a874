"""The shared test setup survives being imported a second time (`from tests.conftest import ...`
in a test module): it clears the terminal settings once per process, not again after a plugin
(pytest-textual-snapshot's TEXTUAL_SNAPSHOT_TEMPDIR) has set its own."""

import importlib.util
import os
from pathlib import Path


def test_a_second_import_keeps_what_plugins_set_since(monkeypatch):
    monkeypatch.setenv("TEXTUAL_SNAPSHOT_TEMPDIR", "/tmp/snapshots-of-a-plugin")
    spec = importlib.util.spec_from_file_location("conftest_again", Path(__file__).with_name("conftest.py"))
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    assert os.environ["TEXTUAL_SNAPSHOT_TEMPDIR"] == "/tmp/snapshots-of-a-plugin"
