"""What a run on the embedded local model will cost in time, before it starts: rows x seconds
per row, the rate measured on this machine (the last finished runs of that operation, kept per
machine in the cache folder, or a run on a few rows just before), scaled by the length of the
rows to run against that of the rows measured (a prompt 10x longer takes longer to read; the
scale is linear in characters, an upper bound when the reply's length dominates).

    rate = seconds_per_row("generate-cot")        # None until measured here
    estimate(rows=999, rate=41.5)                  # seconds
    record("generate-cot", rows=3, seconds=124.0, chars=310.0)  # after a finished run
    measured("generate-cot")                       # (41.3, 310.0): seconds and characters per row
    scaled(41.3, 310.0, mean_length(ds, ids))      # seconds per row of these rows

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


def measured(op: str) -> tuple[float, float | None] | None:
    """(seconds per row, the measured rows' mean length in characters or None) of `op` on the
    local model, as last measured on this machine; None until measured."""
    value = _load().get(op)
    if isinstance(value, (int, float)):  # recorded before lengths were kept
        value = {"seconds": value}
    if not isinstance(value, dict) or not isinstance(value.get("seconds"), (int, float)) or value["seconds"] <= 0:
        return None
    chars = value.get("chars")
    return float(value["seconds"]), float(chars) if isinstance(chars, (int, float)) and chars > 0 else None


def seconds_per_row(op: str) -> float | None:
    """Seconds per row of `op` on the local model, as last measured on this machine."""
    m = measured(op)
    return m[0] if m else None


def record(op: str, rows: int, seconds: float, chars: float | None = None) -> None:
    """Keep the rate of a finished run, and `chars`, its rows' mean length (written atomically;
    a run of no rows says nothing)."""
    if rows <= 0 or seconds <= 0:
        return
    data = _load()
    data[op] = {"seconds": seconds / rows, **({"chars": chars} if chars else {})}
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


def mean_length(ds, rows: list[str] | None) -> float:
    """Mean length in characters (the dataset's `length` column) of the rows `rows` (None: all)."""
    lengths = ds.column("length")
    picked = lengths if rows is None else [lengths[ds.index_of(r)] for r in rows]
    return sum(picked) / len(picked) if picked else 0.0


def scaled(rate: float, measured_chars: float | None, chars: float) -> float:
    """Seconds per row of rows of mean length `chars`, from `rate` measured on rows of
    `measured_chars` (unscaled when that is unknown)."""
    return rate * chars / measured_chars if measured_chars and chars > 0 else rate


def estimate(rows: int, rate: float) -> float:
    """Seconds for `rows` rows at `rate` seconds per row."""
    return rows * rate
