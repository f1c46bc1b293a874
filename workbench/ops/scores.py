"""Scores as operations read them: a signal's numeric values from the workspace."""

from __future__ import annotations

import math
from typing import Any


# Numbers that are not judgements of a row: cluster ids and sizes, a duplicate's similarity to
# its representative, map coordinates. They sort rows, but no threshold on them rejects bad ones.
NOT_SCORES = frozenset({"cluster", "cluster_size", "similarity", "map_x", "map_y"})


def numeric(v: Any) -> float | None:
    """A signal value as a score: a finite int or float; None for anything else (text, bools, lists)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(v) else None


def signal_scores(ws, name: str, op: str) -> dict[str, Any]:
    """row id -> value of signal `name` in `ws`; ValueError naming `op` when there is no
    workspace or no such signal."""
    if ws is None:
        raise ValueError(f"{op} reads the signal {name!r} from the workspace: it cannot run without one")
    values = ws.signal_values(name)
    if not values:
        raise ValueError(f"no signal {name!r} in the workspace {ws.path}: run the scorer first")
    return values
