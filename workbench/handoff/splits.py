"""Train/test splits that are reproducible by seed, stratified, and safe with duplicates.

Rows are first grouped into units: rows whose conversation is the same after normalising
(an exact-duplicate cluster, as `workbench.ops.dedup_exact` finds them) form one unit, so
a duplicate never sits on both sides and leaks the test set into training. Units are then
stratified by source file (and by topic when a topic map exists), and each stratum gives the
test side its share, rounded by the largest-remainder method so the total is exact.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from workbench.data.record import Record, view_text


@dataclass
class Split:
    """A new train/test split: `test_size` (a fraction) or `test_rows` (a count), with a seed."""
    test_size: float | None = None
    test_rows: int | None = None
    seed: int = 0


def test_ids(ds, ws, split: Split, only: str = "not-rejected", kind: str | None = None) -> set[str]:
    """The ids of the exported rows (decisions applied, of `kind` if given) that go to the test
    side, stratified by source and by the latest topic map's topics when there is one.
    Raises ValueError for a size that leaves either side empty."""
    from workbench.store.export import kept_records

    total = sum(1 for _ in kept_records(ds, ws, only, kind))
    n_test = test_count(total, split.test_size, split.test_rows)
    return assign(kept_records(ds, ws, only, kind), n_test, seed=split.seed, strata=ws.signal_values("topic") or None)


def test_count(total: int, test_size: float | None, test_rows: int | None) -> int:
    """How many rows go to the test side: `test_rows`, or `test_size` as a fraction of `total`.
    Raises ValueError for a fraction outside (0, 1) or a count outside (0, total)."""
    if (test_size is None) == (test_rows is None):
        raise ValueError("give one of --test-size (a fraction) or --test-rows (a count)")
    if test_rows is not None:
        if not 0 < test_rows < total:
            raise ValueError(f"--test-rows must be between 1 and {total - 1} (the export has {total} rows)")
        return test_rows
    if not 0 < test_size < 1:
        raise ValueError(f"--test-size is a fraction between 0 and 1, not {test_size}")
    return max(1, min(total - 1, round(total * test_size)))


def assign(records: Iterable[Record], n_test: int, *, seed: int = 0,
           strata: dict[str, str] | None = None) -> set[str]:
    """The ids of the rows that go to the test side: `n_test` of them, or a few fewer when
    keeping a duplicate cluster whole makes the exact count impossible.

    `strata` maps a row id to an extra stratum label (e.g. its topic); the source file is
    always part of the stratum."""
    from workbench.ops.dedup_exact import normalise

    units: dict[bytes, list[str]] = {}
    stratum_of: dict[bytes, tuple] = {}
    for rec in records:
        key = hashlib.blake2b(normalise(view_text(rec, "conversation")).encode("utf-8", "surrogatepass"),
                              digest_size=16).digest()
        units.setdefault(key, []).append(rec["id"])
        stratum_of.setdefault(key, (rec.get("source") or "", (strata or {}).get(rec["id"], "")))
    by_stratum: dict[tuple, list[bytes]] = defaultdict(list)
    for key, s in stratum_of.items():
        by_stratum[s].append(key)
    total = sum(len(ids) for ids in units.values())
    quotas = _quotas({s: sum(len(units[k]) for k in keys) for s, keys in by_stratum.items()}, n_test, total)
    rng = random.Random(seed)
    test: set[str] = set()
    for s in sorted(by_stratum):
        keys = sorted(by_stratum[s])  # a fixed order before the seeded shuffle
        rng.shuffle(keys)
        room = quotas[s]
        for key in keys:
            if len(units[key]) <= room:
                test.update(units[key])
                room -= len(units[key])
            if room == 0:
                break
    return test


def _quotas(sizes: dict[tuple, int], n_test: int, total: int) -> dict[tuple, int]:
    """Split `n_test` over strata in proportion to their sizes (largest remainder)."""
    exact = {s: n_test * size / total for s, size in sizes.items()}
    quotas = {s: int(v) for s, v in exact.items()}
    left = n_test - sum(quotas.values())
    for s in sorted(exact, key=lambda s: (-(exact[s] - quotas[s]), s))[:left]:
        quotas[s] += 1
    return quotas
