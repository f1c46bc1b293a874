"""Fixtures of the store tests."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def data(tmp_path):
    """A six-row JSONL dataset (ids ex-0 .. ex-5) in the test's folder."""
    path = tmp_path / "d.jsonl"
    with path.open("w") as f:
        for i in range(6):
            f.write(json.dumps({"id": f"ex-{i}", "messages": [
                {"role": "user", "content": f"q {i}"}, {"role": "assistant", "content": f"a {i}"}]}) + "\n")
    return path
