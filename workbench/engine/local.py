"""Run one operation on a dataset and save its result: the one path the CLI, the TUI and
recipes take (threads and per-row checkpoints are the job runner's, workbench.store.jobs).

    outcome = run_step(op, ds, ws, params, rows=None, ctx=Context(progress=...))
    outcome.result, outcome.run_id, outcome.skipped

A step is logged with its selection, its fingerprint (operation name, version, parameters)
and its inputs' stamp (the sources' [path, size, mtime] and the selected row ids), so that a
recipe replayed on unchanged inputs skips it (`skip_unchanged=True`) without running
anything or calling a model. A cancelled step saves nothing and says "cancelled".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from workbench.ops.base import Context, Operation, Params, Result, apply_result
from workbench.ops.oprun import Cancelled


@dataclass
class Outcome:
    result: Result | None  # None when skipped
    run_id: int | None  # the saved run (the earlier one when skipped); None when cancelled or not saved
    skipped: bool = False
    status: str = "done"  # "done" | "skipped" | "cancelled" | "failed"


def inputs_stamp(ds, rows: list[str] | None) -> str:
    """Digest of what a step reads: the sources' stamps and the selected row ids."""
    from workbench.store.reconcile import sources_stamp

    raw = json.dumps([sources_stamp(ds), len(ds), rows], sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def run_step(op: Operation, ds, ws, params: Params, *, rows: list[str] | None = None,
             selection: dict | None = None, ctx: Context | None = None,
             skip_unchanged: bool = False, save: bool = True) -> Outcome:
    """Run `op` over `ds` (or the row ids `rows`) and, with a workspace and `save`, apply its
    Result as one run. Raises what the operation raises for bad input (ValueError)."""
    ctx = ctx or Context()
    if ctx.ws is None:
        ctx.ws = ws
    fingerprint = op.fingerprint(params)
    inputs = inputs_stamp(ds, rows)
    if skip_unchanged and ws is not None:
        earlier = ws.find_logged_run(fingerprint, inputs)
        if earlier is not None:
            return Outcome(None, earlier, skipped=True, status="skipped")
    try:
        result = op.run(ds, params, ctx, rows)
    except Cancelled:
        result = None
    if result is None or result.status == "cancelled":
        if ws is not None:
            if result is not None and result.job_id is not None:
                apply_result(ws, result)  # marks its job run cancelled, saves nothing
            else:  # logged as cancelled, with nothing of the run saved
                ws.finish_run(ws.start_run(op.name, params.to_dict()), "cancelled", {})
        return Outcome(result, None, status="cancelled")
    run_id = None
    if ws is not None and save:
        sel = selection or ({"all": True} if rows is None else {"rows": rows})
        run_id = apply_result(ws, result, operation=op.name, selection=sel, fingerprint=fingerprint,
                              inputs=inputs, review=op.review, ds=ds)
    return Outcome(result, run_id, status=result.status)
