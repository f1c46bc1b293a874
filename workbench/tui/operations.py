"""Run the layer's operations from the TUI: a small registry over their public functions.

Two shapes are supported, both running off the UI thread:
- "dataset": `function(ds, **params) -> OpResult` (workbench.ops.oprun); the result is saved into
  the workspace with `oprun.save` as one run, like the CLI does.
- "rows": `function(record, **params) -> JSON-able` called per row through the job runner
  (checkpointed, resumable, cancellable; progress in the Jobs pane); the values are stored as
  the signal `<name>` of each row.
An operation whose module or function is missing is simply not offered.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Operation:
    name: str  # the palette shows "run-<name>"
    help: str
    target: str  # "module:function"
    shape: str  # "dataset" | "rows"
    params: dict[str, Any] = field(default_factory=dict)


OPERATIONS: list[Operation] = []


def _resolve(op: Operation):
    module, _, fn = op.target.partition(":")
    return getattr(importlib.import_module(module), fn)


def available_operations() -> list[Operation]:
    out = []
    for op in OPERATIONS:
        module = op.target.partition(":")[0]
        try:
            if importlib.util.find_spec(module) is not None:
                out.append(op)
        except ModuleNotFoundError:
            pass
    return out


def start_operation(app, name: str) -> None:
    op = next((o for o in OPERATIONS if o.name == name), None)
    if op is None:
        raise ValueError(f"unknown operation {name!r}")
    fn = _resolve(op)
    if op.shape == "rows":
        ds, model = app.ds, app.model
        n = len(model)
        items = [(model.row_id(p), model.index(p)) for p in range(n)]

        def one(i: int, _fn=fn, _p=op.params):
            return _fn(ds.record(i), **_p)

        job = app.run_job(op.name, items, one, params={"op": op.target, **op.params})
        app.run_worker(lambda: _store_signals(app, op, job), thread=True, group="operation")
    else:
        app.run_dataset_operation(op, fn)


def _store_signals(app, op: Operation, job) -> None:
    """When a per-row job ends, its values become the rows' `<name>` signal (one run)."""
    from workbench.tui.app import OperationState

    try:
        result = job.wait()
    except RuntimeError as e:
        app.post_message(OperationState(op.name, "failed", str(e)))
        return
    app.ws.add_signals(result.job_id, ((rid, op.name, v) for rid, v in result.results.items()))
    app.post_message(OperationState(op.name, result.status, f"{result.ok:,} ok, {result.failed:,} failed"))
