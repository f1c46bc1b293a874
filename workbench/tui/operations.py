"""Run the operations layer from the TUI (palette: `run-<name>`), off the UI thread.

Each entry is a thin adapter over an operation's public function, called the way its CLI
sub-command calls it; the app runs it in a thread worker (WorkbenchApp.action_run_operation).
An adapter gets a `Run` and returns a one-line summary. Whole-dataset quality operations
return a `workbench.ops.base.Result` that `apply_result` saves as one run (signals + proposed rejections); per-row
LLM operations run as resumable jobs through the job runner and report JobEvents, so the Jobs
pane shows their progress, rate and ETA, and `c` there cancels them. LLM operations use the
model in tui.json's `llm` section (default local/smollm2); generate-* operations keep their
output rows in the workspace (`store_generated`) for the Generated pane to review.
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
    from workbench.ops.base import apply_result

    run_id = apply_result(run.ws, result)
    return f"{result.summary} (run {run_id})"


def _filter(run: Run) -> str:
    from workbench.ops import registry
    from workbench.ops.base import Context

    op = registry.get("filter")
    ctx = Context(cancel=run.cancel, progress=lambda done, total: run.progress(done))
    return _save(run, op.run(run.ds, op.default_params(), ctx))


def _dedup(method: str) -> Callable[[Run], str]:
    def go(run: Run) -> str:
        from workbench.ops.dedup import dedup_dataset

        return _save(run, dedup_dataset(run.ds, method, ws=run.ws, progress=run.progress))

    return go


def _records(run: Run) -> list[dict]:
    return [run.ds.record(run.ds.index_of(rid)) for rid in run.row_ids]


def _judge(run: Run) -> str:
    from workbench.ops.generation import run_operation
    from workbench.tui.config import llm_settings

    s = llm_settings()
    res = run_operation("judge", _records(run), run.ws, model=s["model"], api_base=s["api_base"],
                        on_event=run.on_event, cancel=run.cancel)
    return f"judged {len(res.rows):,} rows, {len(res.errors):,} failed ({res.status})"


def store_generated(ws, op: str, parents: dict[str, dict], result) -> int:
    """Keep an operation's output rows in the workspace for the Generated pane to review.

    One `generated` signal per output row, keyed by a review id that never collides with a
    dataset row (`<op>:<parent id>` for a rewrite; self-instruct's own new ids), so accepting
    a rewrite decides on the rewrite and not on the original row. The value holds the row
    and the texts to diff (the parent's and the new row's).
    """
    from workbench.data.record import full_text

    if result.job_id is None:
        return 0
    rows = []
    for rec in result.rows:
        parent = parents.get(rec["id"])
        key = f"{op}:{rec['id']}" if parent is not None else rec["id"]
        rows.append((key, "generated", {"op": op, "parent": rec["id"] if parent is not None else None,
                                        "record": rec, "before": full_text(parent) if parent else "",
                                        "after": full_text(rec)}))
    ws.add_signals(result.job_id, rows)
    return len(rows)


def _generate(op: str) -> Callable[[Run], str]:
    def go(run: Run) -> str:
        from workbench.ops.generation import run_operation
        from workbench.paths import example_file
        from workbench.tui.config import llm_settings

        s = llm_settings()
        options: dict[str, Any] = {}
        if op == "self-instruct":
            from workbench.data.dataset import Dataset

            records = Dataset.open([str(example_file(s["seed_file"]))]).records()
            parents = {}
        else:
            records = _records(run)
            parents = {r["id"]: r for r in records}
        if op == "persona":
            from workbench.ops.generation.persona import load_personas

            options["personas"] = load_personas(example_file(s["personas"]))
        res = run_operation(op, records, run.ws, model=s["model"], api_base=s["api_base"],
                            on_event=run.on_event, cancel=run.cancel, **options)
        n = store_generated(run.ws, op, parents, res)
        return f"{n:,} rows to review (Generated pane), {len(res.errors):,} failed ({res.status})"

    return go


def _verify(run: Run) -> str:
    from workbench.ops.generation.verify import verify

    res = verify(_records(run), run.ws, on_event=run.on_event, cancel=run.cancel)
    return f"verified {len(res.rows):,} rows, {len(res.errors):,} failed ({res.status})"


OPERATIONS: list[Operation] = [
    Operation("filter", "Quality filters over every row: length, empty turns, refusals, repetition, roles", _filter),
    Operation("dedup-exact", "Flag exact duplicates (normalised text) over every row", _dedup("exact")),
    Operation("dedup-minhash", "Flag near-duplicates (MinHash) over every row", _dedup("minhash")),
    Operation("judge", "LLM judge (model from tui.json, default local) on the marked rows, else the list", _judge),
    Operation("generate-evol", "Evol-Instruct: evolve the marked rows' (else the list's) instructions, for review",
              _generate("evol")),
    Operation("generate-cot", "Rewrite the marked rows' (else the list's) answers step by step, for review",
              _generate("cot")),
    Operation("generate-persona", "Re-ask the marked rows' (else the list's) prompts as personas, for review",
              _generate("persona")),
    Operation("generate-bsm", "Branch-solve-merge answers for the marked rows (else the list), for review",
              _generate("bsm")),
    Operation("generate-self-instruct", "New tasks from the seed file in tui.json (default examples/seed_tasks.jsonl), for review",
              _generate("self-instruct")),
    Operation("verify", "Check answers that can be checked (math, code) on marked rows, else the list", _verify),
]


def get_operation(name: str) -> Operation:
    for op in OPERATIONS:
        if op.name == name:
            return op
    raise ValueError(f"unknown operation {name!r}; known: {', '.join(o.name for o in OPERATIONS)}")
