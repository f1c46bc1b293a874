"""Run the operations layer from the TUI (palette: `run-<name>`), off the UI thread.

Each entry runs an operation of workbench.ops.registry through workbench.engine.local.run_step,
as the CLI and recipes do; the app runs it in a thread worker (WorkbenchApp.action_run_operation).
An entry gets a `Run` and returns a one-line summary. The Result is saved as one run (signals,
proposed rejections, and for generate-* the new rows for the Generated pane); per-row LLM
operations report JobEvents, so the Jobs pane shows their progress, rate and ETA, and `c`
there cancels them (a cancelled run saves nothing). LLM operations use the model in tui.json's
`llm` section (default local/smollm2). Operations never touch rows a person decided.
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


def _params(op, ws):
    """The parameters the palette runs an operation with: those of its latest run on this
    dataset (a tuned `workbench filter --rules` run is repeated, not replaced by defaults),
    else the defaults, with tui.json's `llm` model (and seed / persona files) for LLM ones."""
    from workbench.engine.local import last_params

    last = last_params(op, ws)
    if last is not None:
        return last
    if not op.uses_llm:
        return op.default_params()
    from workbench.tui.config import llm_settings

    s = llm_settings()
    given = {"model": s["model"], "api_base": s["api_base"]}
    if op.name == "generate-self-instruct":
        given["seeds"] = s["seed_file"]
    if op.name == "generate-persona":
        given["personas"] = s["personas"]
    return op.params_from_dict(given)


def _runner(name: str) -> Callable[[Run], str]:
    def go(run: Run) -> str:
        from workbench.engine.local import run_step
        from workbench.ops import registry
        from workbench.ops.base import Context

        op = registry.get(name)
        whole = op.scope == "dataset" or name == "filter"
        ctx = Context(cancel=run.cancel, progress=lambda done, total: run.progress(done), on_event=run.on_event)
        out = run_step(op, run.ds, run.ws, _params(op, run.ws), rows=None if whole else list(run.row_ids), ctx=ctx)
        res = out.result
        if out.status == "cancelled":
            return "cancelled; nothing saved"
        if op.review:
            return f"{len(res.rows):,} rows to review (Generated pane), {len(res.errors):,} failed ({res.status})"
        if op.uses_llm or op.needs_ws:
            return f"{len(res.rows):,} rows, {len(res.errors):,} failed ({res.status}; run {out.run_id})"
        return f"{res.summary} (run {out.run_id})"

    return go


OPERATIONS: list[Operation] = [
    Operation("filter", "Quality filters over every row: length, empty turns, refusals, repetition, roles",
              _runner("filter")),
    Operation("dedup-exact", "Flag exact duplicates (normalised text) over every row", _runner("dedup-exact")),
    Operation("dedup-minhash", "Flag near-duplicates (MinHash) over every row", _runner("dedup-minhash")),
    Operation("judge", "LLM judge (model from tui.json, default local) on the marked rows, else the list",
              _runner("judge")),
    Operation("generate-evol", "Evol-Instruct: evolve the marked rows' (else the list's) instructions, for review",
              _runner("generate-evol")),
    Operation("generate-cot", "Rewrite the marked rows' (else the list's) answers step by step, for review",
              _runner("generate-cot")),
    Operation("generate-persona", "Re-ask the marked rows' (else the list's) prompts as personas, for review",
              _runner("generate-persona")),
    Operation("generate-bsm", "Branch-solve-merge answers for the marked rows (else the list), for review",
              _runner("generate-bsm")),
    Operation("generate-self-instruct", "New tasks from the seed file in tui.json (default examples/seed_tasks.jsonl), "
              "for review", _runner("generate-self-instruct")),
    Operation("verify", "Check answers that can be checked (math, code) on marked rows, else the list",
              _runner("verify")),
]


def get_operation(name: str) -> Operation:
    for op in OPERATIONS:
        if op.name == name:
            return op
    raise ValueError(f"unknown operation {name!r}; known: {', '.join(o.name for o in OPERATIONS)}")
