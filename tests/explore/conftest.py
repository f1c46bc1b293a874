"""Fixtures of the exploration tests."""

from __future__ import annotations

import pytest
from explore_data import topic_records


@pytest.fixture(scope="session")
def planted():
    return topic_records()
