"""Hash sets bigger than memory: records partitioned by hash into files on disk, read back one
partition at a time, so that exact dedup and decontamination hold about `max_keys` keys in
memory whatever the dataset's size (the partition-by-hash plan of external hash joins, as
datatrove's and NeMo Curator's exact dedup shuffle by hash).

The budget is `max_keys()`: the WORKBENCH_MAX_KEYS environment variable, else MAX_KEYS (a
key costs about 25-40 bytes while a partition is sorted, so 50 million keys is ~2 GB). The
files go to the temporary folder (TMPDIR) and are removed when the `Partitions` closes.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

MAX_KEYS = 50_000_000


def max_keys() -> int:
    """The in-memory key budget: WORKBENCH_MAX_KEYS if set (a positive integer), else MAX_KEYS.
    Raises ValueError naming the variable for anything else."""
    raw = os.environ.get("WORKBENCH_MAX_KEYS")
    if raw is None:
        return MAX_KEYS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"WORKBENCH_MAX_KEYS must be a positive integer, not {raw!r}")
    return value


def partitions_for(n_keys: int, budget: int) -> int:
    """How many partitions keep each at about `budget` keys (1: everything fits)."""
    return max(1, math.ceil(n_keys / budget))


class Partitions:
    """`parts` files of fixed-size records (numpy `dtype`): `add(part, records)` appends each
    record to the file of its partition number; iterating reads one partition at a time
    (in partition order, records in the order added). Use as a context manager."""

    def __init__(self, parts: int, dtype: np.dtype):
        self.parts, self.dtype = parts, np.dtype(dtype)
        self._dir = Path(tempfile.mkdtemp(prefix="workbench-spill-"))

    def add(self, part: np.ndarray, records: np.ndarray) -> None:
        """Append `records[i]` to partition `part[i]` (0 <= part < parts)."""
        order = np.argsort(part, kind="stable")
        part, records = part[order], records[order]
        bounds = np.searchsorted(part, np.arange(self.parts + 1))
        for p in np.flatnonzero(np.diff(bounds)).tolist():
            with open(self._path(p), "ab") as f:  # opened per write: any number of partitions, few descriptors
                f.write(records[bounds[p] : bounds[p + 1]].tobytes())

    def __iter__(self) -> Iterator[np.ndarray]:
        for p in range(self.parts):
            path = self._path(p)
            yield np.fromfile(path, dtype=self.dtype) if path.exists() else np.empty(0, dtype=self.dtype)

    def _path(self, p: int) -> Path:
        return self._dir / f"{p:05d}.bin"

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> "Partitions":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
