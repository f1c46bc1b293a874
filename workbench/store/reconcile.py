"""Decisions follow their rows' content when a source file is edited.

Row ids are positions (`alpaca.jsonl:3`) when a file has no id field, and the default
workspace is found by the sources' paths. So inserting a line at the top of a file would
silently put every decision on the row below. Each decision a person makes therefore records
a short hash of the row's content (`content_hashes`); `reconcile` compares it with the rows
as they are now and moves each decision whose content sits at another id now, or sets it
aside (never applied, never deleted) when that content is gone or is no longer one row. A
decision on an id that is no row any more, and whose content is nowhere, is left as it is: it
applies to nothing, and may belong to another dataset sharing the workspace (`--workspace`).

It is cheap when nothing changed: the sources' (size, mtime_ns) are kept in the workspace
meta, and only when they differ are the decided rows hashed; the whole dataset is hashed only
if some decided row changed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable

# What a row says, not where it sits: id, source, row and origin (spelling) are left out.
CONTENT_FIELDS = ("kind", "system", "messages", "chosen", "rejected", "label", "text", "tools", "images", "meta")
_encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
_RUN = 4096  # rows decoded at once


def content_hash(rec: dict) -> str:
    """16 hex digits over the canonical record's content."""
    raw = _encode([rec.get(f) for f in CONTENT_FIELDS]).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(raw, digest_size=8).hexdigest()


def content_hashes(ds, row_ids: Iterable[str]) -> dict[str, str]:
    """row_id -> content hash for the ids that are rows of `ds` (others are left out)."""
    ids = list(dict.fromkeys(row_ids))
    if not ids:
        return {}
    import pyarrow as pa
    import pyarrow.compute as pc  # slow to import: only when there is something to hash

    # One pass over the id column against a set of the ids asked for: a set of every row's id
    # would cost about 140 ms per call on a million rows, and the TUI hashes on each key press.
    where = pc.index_in(ds.table.column("id"), value_set=pa.array(ids, pa.string()))
    rows = pc.indices_nonzero(pc.is_valid(where))
    first: dict[str, int] = {}
    for i, k in zip(rows.to_pylist(), where.take(rows).to_pylist()):
        first.setdefault(ids[k], i)  # ids need not be unique: the first row holding one, as index_of
    found = sorted((i, rid) for rid, i in first.items())
    out: dict[str, str] = {}
    # Rows taken in blocks, in file order: one decode per block, however scattered they are
    # (a dedup's cluster members are: a slice per row cost a third of a MinHash dedup).
    for k in range(0, len(found), _RUN):
        block = found[k : k + _RUN]
        for (_, rid), rec in zip(block, ds.records_at([i for i, _ in block])):
            out[rid] = content_hash(rec)
    return out


def sources_stamp(ds) -> list:
    """[path, size, mtime_ns] of every source file (the files inside a directory source)."""
    out = []
    for src in getattr(ds, "sources", []):
        p = Path(src)
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        for f in files:
            try:
                st = os.stat(f)
                out.append([str(f.resolve()), st.st_size, st.st_mtime_ns])
            except FileNotFoundError:
                out.append([str(f.resolve()), None, None])
    return out


def reconcile(ds, ws) -> dict:
    """Move or set aside decisions whose row's content changed since they were made.

    Returns {"moved", "orphaned", "hashed", "withdrawn"}: decisions moved to the row that now
    holds their content, decisions set aside (their content is in no row, or in several), how
    many rows were hashed (0 when the sources are unchanged since the last reconcile), and
    operations' proposals withdrawn because they were made on another version of the source."""
    result = {"moved": 0, "orphaned": 0, "hashed": 0, "withdrawn": 0}
    made_for = ws.get_meta("sources")  # the sources of the dataset that created the workspace
    if made_for and not set(made_for) <= {str(Path(s).resolve()) for s in getattr(ds, "sources", [])}:
        # A workspace shared (--workspace) with a dataset of other files: the decisions and
        # proposals on their rows are not this dataset's to move, set aside or withdraw.
        return result
    stamp = sources_stamp(ds)
    # Operations' proposals name rows by id, and carry no content to follow: proposals made
    # on another version of the source are withdrawn (their signals stay), never misapplied.
    result["withdrawn"] = ws.withdraw_stale(stamp)
    if ws.get_meta("reconciled") == stamp:
        return result
    decided = ws.decision_hashes()
    recorded = {rid: h for rid, h in decided.items() if h is not None}
    now = content_hashes(ds, recorded)
    result["hashed"] = len(now)
    changed = {rid: h for rid, h in recorded.items() if now.get(rid) != h}
    if changed:
        wanted = set(changed.values())
        where: dict[str, list[str]] = defaultdict(list)  # recorded hash -> ids that hold it now
        for batch in ds.iter_batches(_RUN):
            for rec in batch:
                h = content_hash(rec)
                if h in wanted:
                    where[h].append(rec["id"])
            result["hashed"] += len(batch)
        moves = {rid: where[h][0] for rid, h in changed.items() if len(where[h]) == 1}
        # A target keeps a decision that stays put; two decisions claiming one row both lose it.
        claims = Counter(moves.values())
        moves = {rid: to for rid, to in moves.items()
                 if claims[to] == 1 and (to not in decided or to in changed)}
        # A decision on an id that is no row here stays (inert) when its content is not found
        # either: it may be another dataset's sharing the workspace; were the id to come back
        # with other content, the next reconcile would set it aside then.
        orphans = [rid for rid in changed if rid not in moves and rid in now]
        ws.follow_content(moves, orphans, changed)
        result["moved"], result["orphaned"] = len(moves), len(orphans)
    ws.set_meta("reconciled", stamp)
    return result


def describe(result: dict) -> str | None:
    """One line for people, or None when nothing moved, was set aside or withdrawn."""
    parts = []
    if result["moved"] or result["orphaned"]:
        parts.append(f"source changed since your decisions: {result['moved']} moved with their rows, "
                     f"{result['orphaned']} set aside (content gone)")
    if result.get("withdrawn"):
        parts.append(f"source changed since operations ran: {result['withdrawn']} proposed rejection(s) "
                     "withdrawn (run them again)")
    return "; ".join(parts) or None
