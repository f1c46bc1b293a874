"""What a quality operation returns, how it lands in a workspace, and the texts it reads.

An operation computes an OpResult from records and touches nothing else; `save` is the thin
step that writes it into a Workspace as one run: signals, then proposed rejections (which never
override a person's decision), then the run's counts. Nothing is removed from the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from workbench.data.record import view_text


class Cancelled(RuntimeError):
    """An operation stopped because its cancel event was set; nothing was saved."""


@dataclass
class OpResult:
    op: str  # "filter", "dedup-exact", "dedup-minhash", "dedup-embedding", "decontam"
    params: dict
    signals: list[tuple[str, str, Any]]  # (row_id, name, JSON-able value)
    rejects: dict[str, str]  # row_id -> reason for the proposed rejection
    report: dict  # what --report writes
    summary: str  # one line for people


def save(ws, result: OpResult) -> int:
    """Write a result into the workspace as one run; returns the run id.

    Proposals of earlier runs of the same operation are withdrawn first: re-running dedup with
    a higher threshold must release the rows only the lower one caught.
    """
    earlier = [r["id"] for r in ws.runs(limit=100_000) if r["op"] == result.op]
    run_id = ws.start_run(result.op, result.params)
    try:
        for rid in earlier:
            ws.withdraw(rid)
        ws.add_signals(run_id, result.signals)
        by_reason: dict[str, list[str]] = {}
        for rid, reason in result.rejects.items():
            by_reason.setdefault(reason, []).append(rid)
        for reason, rids in by_reason.items():
            ws.propose(run_id, rids, status="reject", reason=reason)
    except BaseException:
        ws.finish_run(run_id, "failed", {})
        raise
    ws.finish_run(run_id, "done", {"rows": result.report.get("rows"), "rejects": len(result.rejects)})
    return run_id


class DatasetTexts(Sequence[str]):
    """The text view (prompt / answer / all) of every row of a Dataset, read lazily in batches."""

    def __init__(self, ds, view: str = "all", batch_size: int = 2048):
        view_text({}, view)  # fail early on an unknown view
        self.ds, self.view, self.batch_size = ds, view, batch_size

    def __len__(self) -> int:
        return len(self.ds)

    def __getitem__(self, i):
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            texts = [view_text(r, self.view) for r in self.ds.records(start, stop)]
            return texts[::step]
        if i < 0:
            i += len(self)
        return view_text(self.ds.record(i), self.view)

    def chunks(self, size: int | None = None) -> Iterator[list[str]]:
        size = size or self.batch_size
        for start in range(0, len(self), size):
            yield self[start : start + size]


def iter_text_chunks(texts: Sequence[str], size: int) -> Iterator[list[str]]:
    """Chunks of a text sequence: DatasetTexts reads them in batches, a list is sliced."""
    if isinstance(texts, DatasetTexts):
        yield from texts.chunks(size)
    else:
        for start in range(0, len(texts), size):
            yield list(texts[start : start + size])
