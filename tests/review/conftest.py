"""Fixtures of the review tests: a small dataset and its workspace in the test's folder."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def data(tmp_path):
    """A ten-row JSONL dataset (ids ex-0 .. ex-9)."""
    path = tmp_path / "d.jsonl"
    with path.open("w") as f:
        for i in range(10):
            f.write(json.dumps({"id": f"ex-{i}", "messages": [
                {"role": "user", "content": f"q {i}"}, {"role": "assistant", "content": f"a {i}"}]}) + "\n")
    return path
