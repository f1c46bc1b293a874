"""What a run on the embedded local model will cost in time, before it starts: rows x seconds
per row, the rate measured on this machine (the last finished runs of that operation, kept per
machine in the cache folder, or a run on a few rows just before).

    rate = seconds_per_row("generate-cot")        # None until measured here
    estimate(rows=999, rate=41.5)                  # seconds
    record("generate-cot", rows=3, seconds=124.0)  # after a finished run

Runs on a remote model are not estimated: their cost is the provider's and their speed the
concurrency's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from workbench.paths import cache_dir

MEASURE_ROWS = 3  # rows a first run is measured on (the first loads the model, untimed) with no rate yet


def uses_local_model(params) -> bool:
    """The parameters name the embedded model (`local/...`) as the model to call."""
    from workbench.llm.local import PROVIDER

    model = getattr(params, "model", None)
    return isinstance(model, str) and model.split("/", 1)[0] == PROVIDER


def _path() -> Path:
    return cache_dir() / "local_model_rates.json"


def _load() -> dict:
    try:
        data = json.loads(_path().read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def seconds_per_row(op: str) -> float | None:
    """Seconds per row of `op` on the local model, as last measured on this machine."""
    value = _load().get(op)
    return float(value) if isinstance(value, (int, float)) and value > 0 else None


def record(op: str, rows: int, seconds: float) -> None:
    """Keep the rate of a finished run (written atomically; a run of no rows says nothing)."""
    if rows <= 0 or seconds <= 0:
        return
    data = _load()
    data[op] = seconds / rows
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


def estimate(rows: int, rate: float) -> float:
    """Seconds for `rows` rows at `rate` seconds per row."""
    return rows * rate
