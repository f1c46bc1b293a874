"""Export: the dataset with the workspace's decisions applied, written in a trainer's format.

What counts as rejected: a person's decision always wins; otherwise an operation's proposal
stands (the latest run's). `only="not-rejected"` (the default) keeps every row that is not
rejected; `only="accepted"` keeps only rows accepted (by a person or an operation). The
source is never touched; the writer writes the output atomically (temp file + rename).
Decisions are first reconciled with the source (workbench.store.reconcile), so an edited
source never puts a decision on another row's content.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Callable, Iterator

ONLY = ("not-rejected", "accepted")


def export(ds, ws, to: str, out: str | Path, only: str = "not-rejected",
           progress: Callable[[int], None] | None = None) -> dict:
    """Write the curated rows of `ds` to `out` in format `to`; returns a summary:
    {"out", "format", "only", "total", "rows", "left_out": {reason: count}, "lost": [...],
    "moved", "orphaned", "withdrawn"}: decisions moved with their rows by this export's
    reconcile, decisions set aside in the workspace (their content is gone; not applied), and
    operations' proposals it withdrew (made on another version of the source).
    Reasons: "manual" (a person rejected), an operation's name (its proposal stands), and
    with only="accepted", "not accepted" (pending or never decided)."""
    from workbench.data.writers import write_records
    from workbench.store.reconcile import reconcile

    if only not in ONLY:
        raise ValueError(f"only must be one of {', '.join(ONLY)}, not {only!r}")
    target = Path(out).resolve()
    for src in getattr(ds, "sources", []):
        src = Path(src).resolve()
        if target == src or src in target.parents:
            raise ValueError(f"{out}: export would overwrite the source dataset {src}; choose another output")
    changed = reconcile(ds, ws)
    reasons = ws.reasons()
    left_out: Counter[str] = Counter()

    def kept() -> Iterator[dict]:
        seen = 0
        for batch in ds.iter_batches(2048):
            for rec in batch:
                status, why = reasons.get(rec["id"], ("pending", None))
                if status == "reject":
                    left_out[why] += 1
                elif only == "accepted" and status != "accept":
                    left_out["not accepted"] += 1
                else:
                    yield rec
            seen += len(batch)
            if progress:
                progress(seen)

    report = write_records(kept(), to, out)
    return {
        "out": str(out),
        "format": to,
        "only": only,
        "total": len(ds),
        "rows": report["rows"],
        "left_out": dict(sorted(left_out.items(), key=lambda kv: (-kv[1], kv[0]))),
        "lost": report.get("lost", []),
        "moved": changed["moved"],
        "orphaned": len(ws.orphans()),
        "withdrawn": changed["withdrawn"],
    }
