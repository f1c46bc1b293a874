"""Run the operations layer from the TUI (palette: `run-<name>`), off the UI thread.

Each entry is a thin adapter over an operation's public function, called the way its CLI
sub-command calls it; the app runs it in a thread worker (WorkbenchApp.action_run_operation).
An adapter gets a `Run` and returns a one-line summary. Whole-dataset quality operations
return an `oprun.OpResult` that is saved as one run (signals + proposed rejections); per-row
LLM operations run as resumable jobs through the job runner and report JobEvents, so the Jobs
pane shows their progress, rate and ETA, and `c` there cancels them.
Operations never touch rows a person decided: they only write signals and proposals.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Run:
    ds: Any
    ws: Any
    row_ids: list[str]  # the rows the operation is about: marked ones, else the list's view
    progress: Callable[[int], None]  # rows done, for operations that count but have no JobEvents
    on_event: Callable[[Any], None]  # JobEvents of per-row jobs
    cancel: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class Operation:
    name: str
    help: str
    run: Callable[[Run], str]


def _save(run: Run, result) -> str:
    from workbench.ops.oprun import save

    run_id = save(run.ws, result)
    return f"{result.summary} (run {run_id})"


def _filter(run: Run) -> str:
    from workbench.ops.filters import run_filters

    def batches():
        done = 0
        for batch in run.ds.iter_batches(2048):
            if run.cancel.is_set():
                raise RuntimeError("cancelled")
            yield batch
            done += len(batch)
            run.progress(done)

    return _save(run, run_filters(batches()))


def _dedup(method: str) -> Callable[[Run], str]:
    def go(run: Run) -> str:
        from workbench.ops.dedup import dedup_dataset

        return _save(run, dedup_dataset(run.ds, method, ws=run.ws, progress=run.progress))

    return go


def _records(run: Run) -> list[dict]:
    return [run.ds.record(run.ds.index_of(rid)) for rid in run.row_ids]


def _judge(run: Run) -> str:
    from workbench.llm.client import LLMClient
    from workbench.ops.generation.judge import judge

    res = judge(_records(run), LLMClient(cache=run.ws), run.ws, on_event=run.on_event, cancel=run.cancel)
    return f"judged {len(res.rows):,} rows, {len(res.errors):,} failed ({res.status})"


def _verify(run: Run) -> str:
    from workbench.ops.generation.verify import verify

    res = verify(_records(run), run.ws, on_event=run.on_event, cancel=run.cancel)
    return f"verified {len(res.rows):,} rows, {len(res.errors):,} failed ({res.status})"


OPERATIONS: list[Operation] = [
    Operation("filter", "Quality filters over every row: length, empty turns, refusals, repetition, roles", _filter),
    Operation("dedup-exact", "Flag exact duplicates (normalised text) over every row", _dedup("exact")),
    Operation("dedup-minhash", "Flag near-duplicates (MinHash) over every row", _dedup("minhash")),
    Operation("judge", "LLM judge (local model) on the marked rows, else the rows the list shows", _judge),
    Operation("verify", "Check answers that can be checked (math, code) on marked rows, else the list", _verify),
]


def get_operation(name: str) -> Operation:
    for op in OPERATIONS:
        if op.name == name:
            return op
    raise ValueError(f"unknown operation {name!r}; known: {', '.join(o.name for o in OPERATIONS)}")
