"""The job runner: an operation over rows in worker threads, checkpointed per row in the workspace.

A job is identified by its name and parameters. Its run id (`ws.start_run`) is the job id.
Every finished row is committed to the workspace before it counts as done (rows finished at
the same moment share a transaction), so a job that was cancelled, failed, or whose process
was killed resumes with the same name + parameters and calls `fn` only for rows without a
stored result (rows that failed are tried again). An exception in `fn`, or a result that is
not JSON-able, is recorded on its row and the job goes on.

Progress goes out as `JobEvent`s (at most every `EVENT_INTERVAL` seconds, plus the first and
the last; a count held back by the interval goes out when it has passed) to an `on_event`
callback; callbacks run in worker or timer threads, so a UI must hand them over to its own
thread.

Cancel (`cancel.set()`): no row starts after it; a row whose `fn` raises once it is set (the
embedded model abandons a generation at its next token, see workbench.llm.local) is not run,
neither counted nor stored, and runs again on resume.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from workbench.store.progress import Throttle
from workbench.store.workspace import Workspace

EVENT_INTERVAL = 0.1
log = logging.getLogger(__name__)


@dataclass
class JobEvent:
    job_id: int
    name: str
    done: int  # rows finished, failed or skipped out of `total`
    total: int
    ok: int
    failed: int
    skipped: int  # rows whose result was stored by an earlier attempt
    rate: float  # rows per second in this attempt
    eta: float | None  # seconds left, None until a rate is known
    status: str  # "running" | "done" | "cancelled" | "failed"
    error: str | None = None  # the latest row error, or what ended a failed job


@dataclass
class JobResult:
    job_id: int
    status: str
    results: dict[str, Any]  # row id -> fn's result, including rows done by earlier attempts
    errors: dict[str, str]  # row id -> error of rows that failed in this attempt
    ok: int
    failed: int
    skipped: int


def job_key(name: str, params: dict | None) -> str:
    raw = json.dumps([name, params or {}], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def run_job(
    ws: Workspace,
    name: str,
    items: Sequence[tuple[str, Any]],
    fn: Callable[[Any], Any],
    *,
    params: dict | None = None,
    concurrency: int = 4,
    on_event: Callable[[JobEvent], None] | None = None,
    cancel: threading.Event | None = None,
) -> JobResult:
    """Run `fn(payload)` for each `(row_id, payload)` item; see the module docstring."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    ids = [rid for rid, _ in items]
    if len(set(ids)) != len(ids):
        raise ValueError(f"job {name!r}: duplicate row ids in items")
    key = job_key(name, params)
    run_id = ws.find_unfinished_job(key)
    if run_id is None:
        run_id = ws.start_run(name, params or {}, job_key=key)
        earlier: dict[str, Any] = {}
    else:
        ws.reopen_run(run_id)
        earlier = ws.job_done_rows(run_id)
    todo = [(rid, p) for rid, p in items if rid not in earlier]
    results = {rid: earlier[rid] for rid in ids if rid in earlier}
    progress = _Progress(run_id, name, len(items), len(results), on_event)
    errors: dict[str, str] = {}
    internal: list[BaseException] = []
    cancel = cancel or threading.Event()
    lock = threading.Lock()
    queue: Iterator[tuple[str, Any]] = iter(todo)
    checkpoints = _GroupCommit(ws, run_id)

    def next_item() -> tuple[str, Any] | None:
        with lock:
            if cancel.is_set() or internal:
                return None
            return next(queue, None)

    def worker() -> None:
        while (item := next_item()) is not None:
            rid, payload = item
            try:
                value = fn(payload)
                # encoded here so that a result JSON cannot hold fails its row, not the job
                encoded, err, detail = json.dumps(value, ensure_ascii=False, sort_keys=True), None, None
            except Exception as e:  # noqa: BLE001 - a row's failure is data, not a crash
                if cancel.is_set():  # interrupted by the cancel (or failing as it came): not run
                    return
                encoded, err = None, f"{type(e).__name__}: {e}"
                detail = err + "\n" + traceback.format_exc(limit=5)
            try:
                checkpoints.commit((rid, encoded, detail))
            except BaseException as e:  # the workspace itself failed: stop the job
                internal.append(e)
                return
            with lock:
                if err is None:
                    results[rid] = value
                else:
                    errors[rid] = err
            progress.row(ok=err is None, error=err)

    progress.emit("running", force=True)
    threads = [threading.Thread(target=worker, name=f"job-{run_id}-{i}", daemon=True)
               for i in range(min(concurrency, max(1, len(todo))))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    if internal:
        status, err = "failed", f"{type(internal[0]).__name__}: {internal[0]}"
    elif cancel.is_set() and progress.done < progress.total:
        status, err = "cancelled", None
    elif progress.done < progress.total:  # cannot happen unless a worker died: never report "done"
        status, err = "failed", f"{progress.total - progress.done} rows were not processed"
    elif progress.failed and not progress.ok and not progress.skipped:
        status, err = "failed", f"every row failed; first error: {next(iter(errors.values()))}"
    else:
        status, err = "done", None
    counts = {"ok": progress.ok, "failed": progress.failed, "skipped": progress.skipped, "total": len(items),
              **({"error": err} if err else {})}  # what ended it, for the Jobs pane of a later session
    # Only a "done" run is closed: a cancelled, failed or killed one resumes on the next run_job.
    ws.finish_run(run_id, status, counts)
    progress.emit(status, force=True, error=err)
    ordered = {rid: results[rid] for rid in ids if rid in results}
    return JobResult(run_id, status, ordered, errors, progress.ok, progress.failed, progress.skipped)


class _GroupCommit:
    """Checkpoints rows finished by many workers in shared transactions.

    A worker queues its row, then whoever holds the write turn commits everything queued so
    far in one transaction. `commit` returns only once the caller's row is committed, so a
    row never counts as done before it is on disk, and a cheap `fn` is not held to one
    commit per row.
    """

    def __init__(self, ws: Workspace, run_id: int):
        self.ws, self.run_id = ws, run_id
        self.lock = threading.Lock()  # guards pending / queued
        self.turn = threading.Lock()  # one committer at a time
        self.pending: list[tuple[str, str | None, str | None]] = []
        self.queued = 0  # rows queued so far (a row's sequence number)
        self.committed = 0  # rows 1..committed are on disk
        self.failure: BaseException | None = None

    def commit(self, row: tuple[str, str | None, str | None]) -> None:
        with self.lock:
            self.pending.append(row)
            self.queued += 1
            seq = self.queued
        with self.turn:
            if self.failure is not None:
                raise RuntimeError(f"checkpoint failed: {self.failure}") from self.failure
            if self.committed >= seq:
                return
            with self.lock:
                batch, self.pending, upto = self.pending, [], self.queued
            try:
                self.ws.checkpoint_many(self.run_id, batch)
            except BaseException as e:
                self.failure = e
                raise
            self.committed = upto


class _Progress:
    """Counts and throttled events of one job attempt (thread-safe)."""

    def __init__(self, job_id: int, name: str, total: int, skipped: int, on_event):
        self.job_id, self.name, self.total, self.skipped = job_id, name, total, skipped
        self.ok = self.failed = 0
        self.on_event = on_event
        self.started = time.monotonic()
        self.last_error: str | None = None
        self.lock = threading.Lock()
        self._throttle = Throttle(EVENT_INTERVAL, self._send)

    @property
    def done(self) -> int:
        return self.ok + self.failed + self.skipped

    def row(self, *, ok: bool, error: str | None = None) -> None:
        with self.lock:
            if ok:
                self.ok += 1
            else:
                self.failed += 1
                self.last_error = error
        self.emit("running")

    def emit(self, status: str, *, force: bool = False, error: str | None = None) -> None:
        """Send the counts now (`force`; a status other than running is the last event), else
        within EVENT_INTERVAL seconds."""
        if self.on_event is None:
            return
        if force:
            self._throttle.now(status, error, last=status != "running")
        else:
            self._throttle(status, error)

    def _send(self, status: str, error: str | None) -> None:
        with self.lock:
            elapsed = time.monotonic() - self.started
            attempted = self.ok + self.failed
            rate = attempted / elapsed if elapsed > 0 else 0.0
            left = self.total - self.done
            eta = 0.0 if left == 0 else (left / rate if rate > 0 else None)
            ev = JobEvent(self.job_id, self.name, self.done, self.total, self.ok, self.failed,
                          self.skipped, rate, eta, status, error or self.last_error)
        try:
            self.on_event(ev)
        except Exception:  # noqa: BLE001 - a broken subscriber must not stop the job
            log.exception("job %s: progress subscriber failed", self.name)


@dataclass
class Job:
    """A job submitted to a JobRunner, running in its own background thread."""

    name: str
    cancel_event: threading.Event = field(default_factory=threading.Event)
    events: JobEvent | None = None  # the latest event
    result: JobResult | None = None
    error: BaseException | None = None  # what stopped the job before it could start or finish
    _finished: threading.Event = field(default_factory=threading.Event)

    @property
    def job_id(self) -> int | None:
        return self.events.job_id if self.events else None

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    def cancel(self) -> None:
        self.cancel_event.set()

    def wait(self, timeout: float | None = None) -> JobResult:
        if not self._finished.wait(timeout):
            raise TimeoutError(f"job {self.name!r} still running after {timeout} s")
        if self.result is None:
            raise RuntimeError(f"job {self.name!r} failed: {self.error}") from self.error
        return self.result


class JobRunner:
    """Runs submitted jobs in background threads, at most `max_jobs` at a time."""

    def __init__(self, ws: Workspace, max_jobs: int = 2):
        self.ws = ws
        self._slots = threading.Semaphore(max_jobs)
        self._subscribers: list[Callable[[JobEvent], None]] = []
        self._lock = threading.Lock()
        self.jobs: list[Job] = []

    def subscribe(self, callback: Callable[[JobEvent], None]) -> None:
        """Call `callback(event)` for every event of every job (from worker threads)."""
        with self._lock:
            self._subscribers.append(callback)

    def submit(self, name: str, items: Sequence[tuple[str, Any]], fn: Callable[[Any], Any], **kw) -> Job:
        """Start `run_job(ws, name, items, fn, **kw)` in the background; returns the Job at once."""
        job = Job(name)
        own_on_event = kw.pop("on_event", None)
        if "cancel" in kw:
            job.cancel_event = kw.pop("cancel")

        def on_event(ev: JobEvent) -> None:
            job.events = ev
            with self._lock:
                subs = list(self._subscribers)
            for cb in ([own_on_event] if own_on_event else []) + subs:
                cb(ev)

        def target() -> None:
            try:
                with self._slots:  # a job cancelled while queued still ends as a "cancelled" run
                    job.result = run_job(self.ws, name, items, fn, on_event=on_event,
                                         cancel=job.cancel_event, **kw)
            except BaseException as e:  # noqa: BLE001 - kept on the Job, raised by wait()
                job.error = e
            finally:
                job._finished.set()

        with self._lock:
            self.jobs.append(job)
        threading.Thread(target=target, name=f"job-{name}", daemon=True).start()
        return job

    def cancel_all(self) -> None:
        with self._lock:
            jobs = list(self.jobs)
        for j in jobs:
            j.cancel()
