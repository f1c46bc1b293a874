"""The Jobs pane: one line per operation the session's step runner ran (its handles:
workbench.engine.local.Runner, as the app reports them) and per inner LLM job, with progress,
rate and ETA; runs recorded before the session (failed, cancelled or interrupted ones with
why); `c` cancels (nothing of the run is saved); per-row errors of the selected job below."""

from __future__ import annotations

import time

from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from workbench.store.progress import duration
from workbench.terminal import visible


# Why a recorded run did not finish, when it recorded no error of its own.
ENDED = {"cancelled": "cancelled: nothing of it saved",
         "interrupted": "its process ended while it ran (killed or crashed); nothing of it saved"}


COUNT_NAMES = {"errors": "failed", "new_rows": "new rows"}


def _run_detail(run: dict) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(run["started"])) if run.get("started") else ""
    counts = run.get("counts") or {}
    why = counts.get("error") or ENDED.get(run["status"], "")
    # the counts the run has (a judge's "judged", a filter's "rejects"), not zeros of others
    numbers = " · ".join(f"{v:,} {COUNT_NAMES.get(k, k)}" for k, v in counts.items()
                         if isinstance(v, int) and not isinstance(v, bool) and v)
    return "  ".join(p for p in (when, why, numbers) if p)


class JobsPane(Vertical):
    BINDINGS = [Binding("c", "cancel_job", "Cancel job", id="cancel-job")]
    DEFAULT_CSS = """
    JobsPane > #jobs-list { height: 1fr; min-height: 4; }
    JobsPane > #jobs-bar { height: 1; }
    JobsPane > #jobs-errors { height: auto; max-height: 50%; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.events: dict[str, object] = {}  # key -> latest JobEvent or (status, detail)
        self.owners: dict[str, str] = {}  # an inner job's key -> the operation that runs it
        self.counts: dict[str, tuple[int, int]] = {}  # an operation's key -> (rows done, total) while it runs

    def compose(self):
        yield OptionList(id="jobs-list")
        yield ProgressBar(total=100, show_eta=False, id="jobs-bar")
        yield Static("No jobs yet: run an operation from the command palette (ctrl+p, run-…).", id="jobs-errors")

    def on_mount(self) -> None:
        self.load_history()

    def load_history(self) -> None:
        """List the recorded runs that are not this session's (the CLI's, an earlier session's,
        another process's while this one is open), with why they failed or stopped; this
        session's show through their live events instead. Called again when another process
        changed the workspace (the app's reload)."""
        import os
        import socket

        ws = self.app.ws
        if ws is None:
            return
        me = [socket.gethostname(), os.getpid()]
        history = {}
        for run in reversed(ws.runs(20)):
            if run["started"] >= self.app.opened_at and ws.get_meta(f"run_owner.{run['id']}") == me:
                continue
            why = "in another process" if run["status"] == "running" else _run_detail(run)
            history[f"run:{run['id']}"] = (f"#{run['id']} {run['op']}", run["status"], why)
        live = {k: v for k, v in self.events.items() if not k.startswith("run:")}
        if list(history.items()) == [(k, v) for k, v in self.events.items() if k.startswith("run:")]:
            return
        self.events = {**history, **live}
        self._redraw()

    def job_event(self, ev, op: str | None = None) -> None:
        self.events[f"job:{ev.job_id}"] = ev
        if op:
            self.owners[f"job:{ev.job_id}"] = op
        self._redraw()

    def operation_state(self, name: str, status: str, detail: str, done: int | None = None,
                        total: int | None = None) -> None:
        key = f"op:{name}"
        started = status == "running" and (self.events.get(key) or ("", ""))[1] != "running"
        if started:  # a new run goes to the end of the list, highlighted
            self.events.pop(key, None)
        self.events[key] = (name, status, detail)
        if status == "running" and total:
            self.counts[key] = (done or 0, total)
        else:
            self.counts.pop(key, None)
        self._redraw(select=key if started else None)

    @staticmethod
    def _line(item) -> Text:
        if isinstance(item, tuple):
            name, status, detail = (visible(str(x)) for x in item)
            return Text.assemble((f"{name:<18} ", "bold"), f"{status:<9} ", (detail, "dim"))
        ev = item
        pct = ev.done / ev.total if ev.total else 1.0
        bar = "█" * int(20 * pct) + "░" * (20 - int(20 * pct))
        return Text.assemble((f"{visible(ev.name)[:18]:<18} ", "bold"), f"{ev.status:<9} ", bar,
                             f" {ev.done:,}/{ev.total:,}  {ev.rate:.1f}/s  eta {duration(ev.eta)}",
                             (f"  {ev.failed:,} failed" if ev.failed else "", "red"))

    def _redraw(self, select: str | None = None) -> None:
        """Redraw the list; `select`: the key to highlight (a run that just started), else the
        highlight stays where it was."""
        ol = self.query_one("#jobs-list", OptionList)
        keep = ol.highlighted
        ol.clear_options()
        ol.add_options([Option(self._line(v), id=k) for k, v in self.events.items()])
        if select is not None:
            keep = list(self.events).index(select)
        if self.events:
            ol.highlighted = min(keep if keep is not None else len(self.events) - 1, len(self.events) - 1)
        self.refresh_pane()

    def _selected_key(self) -> str | None:
        ol = self.query_one("#jobs-list", OptionList)
        if ol.highlighted is None or not self.events:
            return None
        return list(self.events)[ol.highlighted]

    def _selected(self):
        key = self._selected_key()
        return None if key is None else self.events[key]

    def on_option_list_option_highlighted(self) -> None:
        self.refresh_pane()

    def refresh_pane(self) -> None:
        item = self._selected()
        bar = self.query_one("#jobs-bar", ProgressBar)
        errors = self.query_one("#jobs-errors", Static)
        if item is None:
            return
        if isinstance(item, tuple):
            ended = {"running": (0, None), "done": (1, 1)}.get(item[1], (0, 1))  # cancelled / failed: empty
            done, total = self.counts.get(self._selected_key(), ended)
            bar.update(total=total, progress=done)
            errors.update(Text(visible(item[2] or item[1])))
            return
        bar.update(total=max(1, item.total), progress=item.done)
        failed = self.app.ws.job_errors(item.job_id) if item.failed else {}
        if item.error or failed:
            t = Table("row", "error", box=None, expand=True, pad_edge=False)
            for rid, err in list(failed.items())[:50]:
                t.add_row(Text(visible(rid)), Text(visible(err.splitlines()[0]) if err else ""))
            errors.update(t if not item.error else Text(visible(item.error), style="red"))
        else:
            errors.update(Text(f"{item.ok:,} ok · {item.skipped:,} resumed · {item.failed:,} failed", style="dim"))

    def action_cancel_job(self) -> None:
        """Cancel the selected operation (or the operation whose inner LLM job is selected): it
        stops at its next checkpoint and saves nothing."""
        app = self.app
        item = self._selected()
        if item is None:
            app.notify("no job selected", severity="warning")
            return
        if not isinstance(item, tuple) and app.runner is not None:  # a handle of the app's job runner
            for job in app.runner.jobs:
                if job.job_id == item.job_id and not job.done:
                    job.cancel()
                    app.notify(f"cancelling {job.name} …")
                    return
        # an operation, or its inner job (judge, generate-...), is cancelled through the operation
        name = item[0] if isinstance(item, tuple) else self.owners.get(self._selected_key(), item.name)
        event = app.op_cancels.get(name)
        if event is not None and name in app._running_ops:
            event.set()
            app.notify(f"cancelling {name} (it stops at its next checkpoint) …")
        else:
            app.notify(f"{name} is not running", severity="warning")
