"""Run one operation on a dataset and save its result: the one path the CLI, the TUI and
recipes take; `Runner` runs them in background threads with bounded concurrency, progress and
cancel (per-row checkpoints and resume of LLM jobs are the job runner's, workbench.store.jobs).

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
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from workbench.engine.base import Engine
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


def last_params(op: Operation, ws) -> Params | None:
    """The parameters of the latest finished run of `op` in this workspace (what the TUI runs
    it with again), or None when it never ran or its logged parameters no longer validate."""
    for run in reversed(ws.run_log()):
        if run["log"].get("operation") == op.name:
            try:
                return op.params_from_dict(run["log"].get("params") or {})
            except ValueError:
                return None
    return None


def run_step(op: Operation, ds, ws, params: Params, *, rows: list[str] | None = None,
             selection: dict | None = None, ctx: Context | None = None,
             skip_unchanged: bool = False, save: bool = True, engine: Engine | None = None) -> Outcome:
    """Run `op` over `ds` (or the row ids `rows`) on `engine` (default: this process) and, with
    a workspace and `save`, apply its Result as one run. Raises what the operation raises for
    bad input (ValueError)."""
    ctx = ctx or Context()
    if ctx.ws is None:
        ctx.ws = ws
    started = time.monotonic()
    fingerprint = op.fingerprint(params)
    inputs = inputs_stamp(ds, rows)
    if skip_unchanged and ws is not None:
        earlier = ws.find_logged_run(fingerprint, inputs)
        if earlier is not None:
            return Outcome(None, earlier, skipped=True, status="skipped")
    try:
        result = (engine or Engine()).compute(op, ds, params, ctx, rows)
    except Cancelled:
        result = None
    except Exception as e:
        if ws is not None and save:  # recorded, so that a later session's Jobs pane lists it with its error
            ws.finish_run(ws.start_run(op.name, params.to_dict()), "failed", {"error": f"{type(e).__name__}: {e}"})
        raise
    if result is not None and ctx.cancel.is_set() and result.status == "done":
        result.status = "cancelled"  # cancelled as it finished: still nothing of it is saved
    if result is None or result.status == "cancelled":
        if ws is not None:
            if result is not None and result.job_id is not None:
                apply_result(ws, result)  # marks its job run cancelled, saves nothing
            else:  # logged as cancelled, with nothing of the run saved
                ws.finish_run(ws.start_run(op.name, params.to_dict()), "cancelled", {})
        return Outcome(result, None, status="cancelled")
    from workbench.engine.cost import mean_length, record, uses_local_model

    if result.status == "done" and uses_local_model(params):  # the rate the next estimate uses
        calls, cached = result.usage.get("calls", 0), result.usage.get("cached", 0)
        computed = (calls - cached) / calls if calls > cached else (0.0 if calls else 1.0)  # replies from the cache are free
        record(op.name, round((len(ds) if rows is None else len(rows)) * computed), time.monotonic() - started,
               mean_length(ds, rows))
    run_id = None
    if ws is not None and save:
        sel = selection or ({"all": True} if rows is None else {"rows": rows})
        run_id = apply_result(ws, result, operation=op.name, selection=sel, fingerprint=fingerprint,
                              inputs=inputs, review=op.review, ds=ds)
    return Outcome(result, run_id, status=result.status)


@dataclass
class Handle:
    """One submitted step, as the Jobs pane lists it. Its fields change in the runner's thread;
    `on_change(handle)` hears each change there (a UI hands it over to its own thread)."""

    name: str
    cancel: threading.Event
    status: str = "queued"  # queued | running | done | skipped | cancelled | failed
    done: int = 0
    total: int | None = None
    detail: str = ""  # the summary when finished, the error when failed
    outcome: Outcome | None = None
    stage: str = ""  # what it does now ("embedding", "projecting ..."): its latest message
    rate: float = 0.0  # rows per second counted in this stage
    eta: float | None = None  # seconds left in this stage, None until a rate is known
    _since: tuple[float, int] | None = None  # (time, done) of the stage's first count; None: not counted
    _finished: threading.Event = field(default_factory=threading.Event)

    def counted(self, done: int, total: int | None) -> None:
        """Record a progress report; the rate is measured from the stage's first report."""
        now = time.monotonic()
        if self._since is None or done < self._since[1]:
            self._since = (now, done)
        self.done, self.total = done, total if total is not None else self.total
        t0, d0 = self._since
        if now > t0 and done > d0:
            self.rate = (done - d0) / (now - t0)
            self.eta = (self.total - done) / self.rate if self.total else None

    def staged(self, text: str) -> None:
        """A new stage: its rows are counted afresh."""
        self.stage, self._since, self.rate, self.eta = text, None, 0.0, None

    @property
    def counting(self) -> bool:
        """Its rows are counted in this stage (else the stage only says what it does)."""
        return self._since is not None

    def line(self) -> str:
        """Where it is, in one line: "embedding · 1,024/3,000 rows · 41.2/s · eta 48s"."""
        from workbench.store.progress import duration

        parts = [self.stage] if self.stage else []
        if self.counting or not self.stage:
            of = f"/{self.total:,}" if self.total else ""
            parts.append(f"{self.done:,}{of} rows")
            if self.rate:
                parts += [f"{self.rate:,.1f}/s", f"eta {duration(self.eta)}"]
        return " · ".join(parts)

    @property
    def running(self) -> bool:
        """Queued or running: not finished yet."""
        return not self._finished.is_set()

    def wait(self, timeout: float | None = None) -> Outcome | None:
        if not self._finished.wait(timeout):
            raise TimeoutError(f"{self.name} still running after {timeout} s")
        return self.outcome


class Runner:
    """Runs steps in background threads, at most `max_running` at once; `handles` lists every
    step submitted, newest last. Cancel a step with `handle.cancel.set()`: it stops at its next
    check and saves nothing ("cancelled")."""

    def __init__(self, ws, max_running: int = 2):
        if max_running < 1:
            raise ValueError("max_running must be at least 1")
        self.ws = ws
        self._slots = threading.Semaphore(max_running)
        self._lock = threading.Lock()
        self.handles: list[Handle] = []

    def submit(self, op: Operation, ds, params: Params, *, rows: list[str] | None = None,
               selection: dict | None = None, on_change: Callable[[Handle], None] | None = None,
               llm: Callable | None = None, on_event: Callable | None = None,
               message: Callable[[str], None] | None = None) -> Handle:
        """Start `op` in a thread; `on_change(handle)` hears every change, `on_event` the JobEvents
        of an LLM operation's per-row job (per-row errors), `message` its stages."""
        h = Handle(op.name, threading.Event(), total=len(ds) if rows is None else len(rows))
        notify = on_change or (lambda _h: None)
        job_event = on_event

        def progress(done: int, total: int | None) -> None:
            h.counted(done, total)
            notify(h)

        def on_event(ev) -> None:
            h.counted(ev.done, ev.total)
            if job_event is not None:
                job_event(ev)
            notify(h)

        def staged(text: str) -> None:
            h.staged(text)
            if message is not None:
                message(text)
            notify(h)

        def target() -> None:
            with self._slots:
                if h.cancel.is_set():  # cancelled while queued: nothing ran
                    h.status, h.detail = "cancelled", "cancelled before it started"
                else:
                    h.status = "running"
                    notify(h)
                    ctx = Context(cancel=h.cancel, progress=progress, on_event=on_event, llm=llm, ws=self.ws,
                                  message=staged)
                    try:
                        h.outcome = run_step(op, ds, self.ws, params, rows=rows, selection=selection, ctx=ctx)
                        h.status = h.outcome.status
                        res = h.outcome.result
                        h.detail = ("cancelled; nothing saved" if h.status == "cancelled"
                                    else f"{res.summary} (run {h.outcome.run_id})")
                    except Exception as e:  # noqa: BLE001 - kept on the handle, shown by the UI
                        h.status, h.detail = "failed", f"{type(e).__name__}: {e}"
            h._finished.set()
            notify(h)

        with self._lock:
            self.handles.append(h)
        notify(h)
        threading.Thread(target=target, name=f"step-{op.name}", daemon=True).start()
        return h

    def cancel_all(self) -> None:
        with self._lock:
            handles = list(self.handles)
        for h in handles:
            h.cancel.set()
