"""The Textual workbench: `workbench PATH` opens it on a dataset.

Panes
-----
The screen is a title line (the pane tabs), one pane at a time in a ContentSwitcher, a status
line and the footer. `PANES` lists the panes in tab order; to add one, append ONE line:

    Pane("duplicates", "Duplicates", "6", "workbench.tui.widgets.duplicates:DuplicatesPane", "Dups"),

`id` names the pane (and its binding id `pane-<id>`), `key` switches to it, and the factory
"module:Class" is imported and called with no arguments only when the pane is first shown,
so a pane costs nothing at start-up. A pane is any Widget that:

- reads shared state from `self.app`: `app.session` (workbench.session.Session: decisions,
  counts, the view, generated rows, duplicate clusters), `app.ds` and `app.ws` (its Dataset and
  Workspace), `app.model` (what the Browse list draws), `app.current_row()` (dataset row index
  under the cursor, or None);
- may define `refresh_pane(self) -> None`, called when it is shown and, while it is shown,
  whenever the cursor moves or decisions or signals change;
- may call `app.filter_rows(indices, label)` to restrict the Browse list (a cluster, a
  duplicate group), `app.goto_row(index)` to move the cursor to a dataset row,
  `app.decide_rows(row_ids, status)` (or `app.decided()` after its own Session decision),
  `app.action_run_operation(name)` to run a registered operation, and
  `app.run_job(name, items, fn, params=)` to run per-row work in the job runner (progress and
  cancel in the Jobs pane, which lists the runner's handles; what either wrote is re-read when
  it ends);
- operations (filter, dedup, judge, ...) come from the registry (workbench/ops/registry.py):
  the palette offers `run-<name>` (the parameters of its last run here, else the saved
  defaults in tui.json `params`, else its own) and `configure-<name>` (a form first);
- keeps heavy imports inside functions, and does slow work in thread workers that only post
  messages (never touch widgets from a thread).

Keys, footer, help and palette come from one action table (workbench/tui/actions.py): every
binding has an id so users can rebind it in `tui.json` (see workbench/tui/config.py), and the
rebound key shows everywhere.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.markup import escape
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Footer, Label, ProgressBar, Static
from textual.worker import Worker, WorkerState

from workbench.terminal import visible
from workbench.tui.actions import ON_ROW, bindings
from workbench.tui.widgets.row_list import ConvertingRows, RowList


@dataclass(frozen=True)
class Pane:
    id: str
    title: str
    key: str
    factory: str  # "module:Class", imported on first show
    short: str = ""  # the title in a narrow terminal, when shorter
    shows_row: bool = False  # it shows the row under the Browse cursor: the movement keys move that cursor


PANES: list[Pane] = [
    Pane("browse", "Browse", "1", "workbench.tui.widgets.browse:BrowsePane", shows_row=True),
    Pane("sample", "Sample", "2", "workbench.tui.widgets.sample_view:SamplePane", shows_row=True),
    Pane("template", "Template", "3", "workbench.tui.widgets.template_view:TemplatePane", "Tmpl", shows_row=True),
    Pane("jobs", "Jobs", "4", "workbench.tui.widgets.jobs_view:JobsPane"),
    Pane("stats", "Stats", "5", "workbench.tui.widgets.stats_view:StatsPane"),
    Pane("duplicates", "Duplicates", "6", "workbench.tui.widgets.duplicates:DuplicatesPane", "Dups"),
    Pane("topics", "Topics", "7", "workbench.tui.widgets.topic_map:TopicMapPane"),
    Pane("generated", "Gen", "8", "workbench.tui.widgets.generated:GeneratedPane"),
    Pane("workshop", "Workshop", "9", "workbench.tui.widgets.workshop:WorkshopPane", "Jinja", shows_row=True),
]


def _load_factory(spec: str) -> Callable[[], Widget]:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


class Opened(Message):
    def __init__(self, session) -> None:
        self.session = session
        super().__init__()


class OpenProgress(Message):
    def __init__(self, rows: int) -> None:
        self.rows = rows
        super().__init__()


class RowsConverted(Message):
    """A batch of a first conversion's rows (Dataset.open's `converted`), shown until it ends."""

    def __init__(self, start: int, batch) -> None:
        self.start, self.batch = start, batch  # dataset index of its first row; pa.RecordBatch
        super().__init__()


class JobUpdate(Message):
    def __init__(self, event, op: str | None = None) -> None:
        self.event, self.op = event, op  # op: the palette operation whose inner job this is
        super().__init__()


class OperationState(Message):
    def __init__(self, name: str, status: str, detail: str, done: int | None = None, total: int | None = None,
                 notify: bool = True) -> None:
        self.name, self.status, self.detail = name, status, detail
        self.done, self.total = done, total  # rows, for the Jobs pane's bar (None: no count known)
        self.notify = notify  # say its end in a notification (False: the end's own message says it)
        super().__init__()


class SearchDone(Message):
    def __init__(self, search, rows) -> None:
        self.search, self.rows = search, rows
        super().__init__()


CONVERTING_KEEP = 200_000  # rows shown while a first conversion runs (~40 MB of list columns)
WATCH_SECONDS = 0.5  # how often the open app asks whether another process changed its workspace
TEMPLATE_META = "tui.template"  # the chat template last picked with t, in the workspace


class WorkspaceRead(Message):
    def __init__(self, review: tuple, annotators: list[str], made: int) -> None:
        self.review, self.annotators, self.made = review, annotators, made  # made: Session.decisions_made before
        super().__init__()


class WorkbenchApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "workbench"

    BINDINGS = bindings(PANES)

    def __init__(self, paths: list[str] | None = None, *, dataset=None, workspace=None,
                 workspace_path: str | None = None, fmt: str | None = None,
                 mapping: dict[str, str] | None = None, theme: str | None = None,
                 options: dict | None = None, user: str | None = None, ask_user: bool = False) -> None:
        super().__init__()
        self.user = user  # the annotator deciding here (None: the login name)
        self.ask_user = ask_user  # ask for the annotator's name first (a browser session of `workbench serve`)
        self._reading = False  # another process changed the workspace: it is being read (_watch_workspace)
        self.show_user = False
        self.paths = list(paths or [])
        self.ds = dataset
        self.ws = workspace
        self.session = None
        self.opened_at = float("inf")
        self.workspace_path = workspace_path
        self.fmt, self.mapping, self.options = fmt, mapping, options
        self.model = None
        self.open_error: str | None = None
        self.template_name: str | None = None
        self.search = None  # the last search (workbench.views.Search): highlighted in Browse and Sample
        self.matches = None  # its matching dataset rows, which n / N walk
        self._wanted_theme = theme
        self._saved_theme: str | None = None
        self._built: set[str] = set()
        self.runner = None  # the job runner (workbench.store.jobs) of run_job, made on first use
        self.op_cancels: dict = {}  # operation name -> its cancel Event (the Jobs pane's `c`)
        self._op_states: dict[str, tuple[str, str]] = {}  # operation name -> (status, detail) of its latest run
        self._running_ops: set[str] = set()
        self._export_values: dict | None = None  # the options of the last export here (the form's start)
        self.token_counts = True  # the Template pane counts tokens (a tokenizer load); tui.json can turn it off

    # -- start-up -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="tabs")
        with ContentSwitcher(id="panes", initial="loading"):
            with Vertical(id="loading"):
                yield Label(visible("Opening " + (", ".join(self.paths) or "dataset") + " …"), id="loading-label",
                            markup=False)
                # Shown only when a conversion reports progress: an animated bar repainting at 15 Hz
                # would slow a quick open of an already-converted dataset.
                bar = ProgressBar(total=None, show_eta=False, id="loading-bar")
                bar.display = False
                yield bar
                rows = ConvertingRows(CONVERTING_KEEP, id="loading-rows")
                rows.display = False
                yield rows
        yield Static("", id="status", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._setup_themes_and_keys()
        self._draw_tabs()
        if self.ask_user:
            self._ask_name()
        else:
            self._start()

    def _ask_name(self, why: str = "") -> None:
        from workbench.tui.screens.prompt import PromptScreen

        self.push_screen(PromptScreen(f"{why}Your annotator name (your decisions are recorded under it)",
                                      placeholder="e.g. ana"), self._named)

    def _named(self, name: str | None) -> None:
        from workbench.store.review import check_name

        if name is None:
            self.exit()
            return
        try:
            self.user = check_name(name)
        except ValueError as e:
            self._ask_name(f"{e}. ")
            return
        self._start()

    def _start(self) -> None:
        if self.ds is not None:
            from workbench.session import Session
            from workbench.store.workspace import Workspace

            ws = self.ws if self.ws is not None else Workspace.for_dataset(self.ds, self.workspace_path)
            self.post_message(Opened(Session(self.ds, ws, user=self.user)))
        else:
            self.open_dataset()

    def _setup_themes_and_keys(self) -> None:
        from workbench.tui.config import load_config
        from workbench.tui.themes import DEFAULT_THEME, load_themes

        themes, errors = load_themes()
        for t in themes.values():
            self.register_theme(t)
        try:
            config = load_config()
        except ValueError as e:
            config, errors = {}, errors + [str(e)]
        self._saved_theme = config.get("theme")
        name = self._wanted_theme or self._saved_theme or DEFAULT_THEME
        if name not in self.available_themes:
            errors.append(f"unknown theme {name!r}; themes: {', '.join(sorted(themes))}")
            name = DEFAULT_THEME
        self.theme = name
        self.token_counts = bool(config.get("token_counts", True))
        if isinstance(config.get("keymap"), dict):
            self.set_keymap({str(k): str(v) for k, v in config["keymap"].items()})
        for e in errors:
            self.notify(e, severity="error", timeout=10)
        self.theme_changed_signal.subscribe(self, self._remember_theme)

    def _remember_theme(self, theme) -> None:
        from workbench.tui.config import save_config

        if theme.name != self._saved_theme:
            save_config(theme=theme.name)
            self._saved_theme = theme.name

    @work(thread=True, exclusive=True, group="open", exit_on_error=False)
    def open_dataset(self) -> None:
        from workbench.session import Session

        if self.options is not None:  # the command line's reading options (workbench.cli.common.read_options)
            options = self.options
        else:
            options = {"format": self.fmt, "mapping": self.mapping or {}}
        self.post_message(Opened(Session.open(self.paths, workspace=self.workspace_path, user=self.user,
                                              progress=lambda n: self.post_message(OpenProgress(n)),
                                              converted=lambda start, batch: self.post_message(RowsConverted(start, batch)),
                                              **options)))

    def on_open_progress(self, msg: OpenProgress) -> None:
        self.query_one("#loading-label", Label).update(f"Converting to Arrow (first open only): {msg.rows:,} rows")
        self.query_one("#loading-bar", ProgressBar).display = True

    def on_rows_converted(self, msg: RowsConverted) -> None:
        """Rows converted so far, read-only and scrollable in Browse's columns, while the rest
        converts; Browse replaces them when the conversion ends."""
        view = self.query_one(ConvertingRows)
        view.add(msg.start, msg.batch)
        if not view.display:
            view.display = True
            if self.screen.focused is None:
                view.focus()

    async def on_opened(self, msg: Opened) -> None:
        from workbench.tui.browse_model import BrowseModel

        self.session = msg.session
        self.opened_at = time.time()  # runs started from here on are this session's (the Jobs pane)
        self.ds, self.ws = msg.session.ds, msg.session.ws
        self.template_name = self.template_name or self.ws.get_meta(TEMPLATE_META)  # picked in an earlier session
        # Who decides is shown once it matters: a name given, or others deciding here too.
        self.show_user = bool(self.user) or bool(set(self.ws.annotators()) - {msg.session.user})
        if msg.session.group("mine"):  # an annotator with assigned rows opens on their queue
            from workbench.views import parse_filter

            msg.session.set_filters(parse_filter("mine"))
        self.model = BrowseModel(msg.session)
        self.sub_title = visible(self.ds.name)
        if self.ds.errors:
            self.notify(f"{len(self.ds.errors)} bad rows skipped", severity="warning")
        if msg.session.notice:
            self.notify(msg.session.notice, severity="warning", timeout=10)
        converting = self.query_one(ConvertingRows)
        # the row the user moved to while it converted (the view may start past cached files' rows)
        looked_at = converting.model.index(converting.cursor) if converting.cursor else None
        await self._show("browse")
        # The hidden indeterminate bar would keep a 15 Hz refresh timer running for the whole session.
        await self.query_one("#loading").remove()
        if looked_at is not None and (pos := msg.session.position_of(looked_at)) is not None:
            self.row_list.go(pos)  # Browse opens on the row looked at while converting
        self.set_interval(WATCH_SECONDS, self._watch_workspace)

    def _watch_workspace(self) -> None:
        if not self._reading and self.ws.changed_elsewhere():  # a CLI run, another TUI, a browser session
            self._reading = True
            self._read_workspace(self.session.decisions_made)

    @work(thread=True, group="workspace-read", exit_on_error=False)
    def _read_workspace(self, made: int) -> None:
        """The decisions and annotators now, read off the UI thread (seconds on a big workspace)."""
        self.post_message(WorkspaceRead(self.session.read_review(), self.ws.annotators(), made))

    def on_workspace_read(self, msg: WorkspaceRead) -> None:
        if msg.made != self.session.decisions_made:  # decided here meanwhile: that read missed it
            self._read_workspace(self.session.decisions_made)
            return
        self._reading = False
        self.show_user = self.show_user or bool(set(msg.annotators) - {self.session.user})
        self.reload_workspace(msg.review)

    def reload_workspace(self, review: tuple | None = None) -> None:
        """Re-read decisions, signals and clusters after another writer (an operation here, or
        another process) changed the workspace; the cursor stays on its row while it is shown.
        `review`: read already (Session.read_review)."""
        row = self.current_row()
        self.session.reload(review)
        self.row_list.data_changed()
        pos = self.session.position_of(row) if row is not None else None
        if pos is not None:
            self.row_list.go(pos, center=True)
        if "jobs" in self._built:  # runs another process made or ended
            self.query_one("#jobs").load_history()
        self.refresh_panes()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place where failed thread workers are reported."""
        if event.state != WorkerState.ERROR:
            return
        err = event.worker.error
        if event.worker.group == "workspace-read":
            self._reading = False  # and the next change is read again
        if event.worker.group == "open":
            self.open_error = str(err)
            self.query_one("#loading-label", Label).update(visible(f"Cannot open: {err}\n(q quits)"))
            self.query_one("#loading-bar", ProgressBar).display = False
        else:
            self.notify(f"{event.worker.name}: {err}", severity="error", timeout=10)

    def notify(self, message: str, *, title: str = "", markup: bool = False, **kw) -> None:
        """A notification; what it quotes from the data (ids, errors, file names) shows through
        `visible`, and as plain text unless a caller asks for markup."""
        super().notify(visible(str(message)), title=visible(title), markup=markup, **kw)

    # -- panes --------------------------------------------------------------------------

    async def _build(self, pane_id: str) -> None:
        pane = next(p for p in PANES if p.id == pane_id)
        widget = _load_factory(pane.factory)()
        widget.id = pane_id
        widget.display = False
        await self.query_one("#panes", ContentSwitcher).mount(widget)
        self._built.add(pane_id)

    async def _show(self, pane_id: str) -> None:
        switcher = self.query_one("#panes", ContentSwitcher)
        if pane_id not in self._built:
            await self._build(pane_id)
        switcher.current = pane_id
        self._draw_tabs()
        self.refresh_panes(only_current=True)
        widget = switcher.get_child_by_id(pane_id)
        target = widget if widget.can_focus else next((w for w in widget.query("*") if w.can_focus), None)
        if target is not None:
            target.focus()
        self.refresh_bindings()

    async def action_show_pane(self, pane_id: str) -> None:
        if self.model is not None:
            await self._show(pane_id)

    @property
    def current_pane(self) -> str | None:
        return self.query_one("#panes", ContentSwitcher).current

    def refresh_panes(self, only_current: bool = False) -> None:
        """Tell the visible pane that the cursor or the data changed; redraw the status line."""
        self._draw_status()
        current = self.current_pane
        for pane_id in self._built:
            if only_current and pane_id != current:
                continue
            widget = self.query_one("#panes", ContentSwitcher).get_child_by_id(pane_id)
            if pane_id == current and hasattr(widget, "refresh_pane"):
                widget.refresh_pane()

    def _draw_tabs(self, width: int | None = None) -> None:
        """The pane tabs, then the dataset's name. When both do not fit the terminal, the tabs
        are drawn tighter, then with short titles glued to their (bold) keys, then the panes
        not shown keep only their key, so that the name shows."""
        current = self.current_pane
        name = visible(self.ds.name) if self.ds is not None else ""
        width = width or self.size.width or 80
        # (gap between tabs, key-title separator, title): the first that leaves the name room
        for gap, sep, short in (("  ", " ", 0), (" ", " ", 0), (" ", "", 1), (" ", "", 2)):
            labels = [(p.key, "" if short == 2 and p.id != current else " " if p.id == current else sep,
                       p.title if not short or p.id == current else p.short or p.title if short == 1 else "",
                       p.id == current) for p in PANES]
            used = 1 + sum(len(k) + len(sp) + len(t) for k, sp, t, _ in labels) + 2 + (len(labels) - 1) * len(gap)
            if used + min(len(name), 12) + 2 <= width:
                break
        room = max(0, width - used - 2)
        if len(name) > room:
            name = name[: max(0, room - 1)] + "…" if room > 1 else ""
        parts = [f"[reverse] {k}{sp}{escape(t)} [/]" if on else f"[b]{k}[/]{sp}{escape(t)}" for k, sp, t, on in labels]
        self.query_one("#tabs", Static).update(" " + gap.join(parts) + f"  [bold]{escape(name)}[/]", layout=False)

    def on_resize(self, event: events.Resize) -> None:
        self._draw_tabs(event.size.width)  # the app's own size is still the old one here

    def _draw_status(self) -> None:
        m, s = self.model, self.session
        if m is None:
            return
        c = s.counts()
        n = len(s)
        pos = self.row_list.cursor + 1 if n else 0
        # the row's number (as Browse, Sample and the CLI's --row give it), then where it is in the list;
        # what matters most comes first: at 80 columns the end of the line is cut
        text = (f"#{self.model.index(pos - 1)} · " if n else "") + f"{pos:,}/{n:,}"
        if m.marked:  # what A / R act on: never cut off at 80 columns
            text += f" · ●{len(m.marked):,} marked"
        text += f" · ✓{c['accept']:,} ✗{c['reject']:,} ·{c['pending']:,}"
        p = s.review_progress()
        text += f" · {p['reviewed']:,} of {p['total']:,} reviewed"
        if p["left"] is not None:
            text += f", {p['left']:,} left in this filter"
        if s.filters.active():
            text += f" · filter {s.filters.describe()}"
        if s.sort_by:
            text += f" · sort {s.sort_by}{'↓' if s.sort_descending else '↑'}"
        if self.template_name:
            text += f" · {self.template_name}"
        if self.show_user:
            text += f" · {s.user}"
        # One fixed line: repaint it alone, no layout pass over the whole screen.
        self.query_one("#status", Static).update(visible(text), layout=False)

    # -- the API panes use ----------------------------------------------------------------

    @property
    def row_list(self) -> RowList:
        return self.query_one("#rows", RowList)

    def current_row(self) -> int | None:
        if self.model is None or not len(self.model):
            return None
        return self.model.index(self.row_list.cursor)

    def filter_rows(self, indices: Iterable[int] | None, label: str, ranked: bool = False) -> None:
        """Restrict the list to dataset rows `indices` (None: all), in file order unless `ranked`
        (then in the order given, e.g. nearest first)."""
        import numpy as np

        from dataclasses import replace

        rows = None if indices is None else np.asarray(list(indices) if ranked else sorted(indices), dtype=np.int64)
        self.session.set_filters(replace(self.session.filters, rows=rows, rows_label=label, ranked=ranked))
        self.row_list.data_changed(keep_cursor=False)
        self.refresh_panes()

    def goto_row(self, index: int) -> None:
        pos = self.session.position_of(index)
        if pos is None:
            self.notify("that row is hidden by the filter; esc clears it", severity="warning")
        else:
            self.row_list.go(pos, center=True)

    def decide_rows(self, row_ids: list[str], status: str) -> bool:
        """Decide through the Session, committed to the workspace before we redraw. False (and
        a notice, the rows left as they were) when the workspace cannot be written: disk full,
        read-only."""
        if not self.written(self.session.decide, row_ids, status)[0]:
            return False
        self.decided()
        return True

    def decided(self) -> None:
        """Redraw after a decision made through the Session (a pane's own, e.g. keep one duplicate)."""
        self.row_list.data_changed()
        self.refresh_panes()

    def written(self, write, *args) -> tuple[bool, object]:
        """Run a workspace write: (True, its result), or (False, None) and a notice instead of
        ending the app when the workspace cannot be written."""
        from workbench.store.workspace import WorkspaceError

        try:
            return True, write(*args)
        except WorkspaceError as e:
            self.notify(f"not saved: {e}", severity="error", timeout=15)
            return False, None

    def run_job(self, name: str, items, fn, **kw):
        """Run `fn` over (row_id, item) pairs in the job runner; returns its handle."""
        if self.runner is None:
            from workbench.store.jobs import JobRunner

            self.runner = JobRunner(self.ws)
            self.runner.subscribe(lambda ev: self.post_message(JobUpdate(ev)))
        job = self.runner.submit(name, items, fn, **kw)
        self.notify(f"started {name} on {len(items):,} rows (4 Jobs)")
        return job

    def params_source(self, op) -> str:
        """Where `run-<name>` takes its parameters from, as the palette says it."""
        from workbench.ops.base import ParamError

        try:
            return self.session.params_for(op, self._saved_params(op))[1]
        except ParamError:
            return "parameters a form asks for first"
        except ValueError as e:  # a broken tui.json
            return f"defaults ({e})"

    def _saved_params(self, op) -> dict:
        """The user's saved defaults for `op`: tui.json `params.<name>`, over the `llm` section
        (model, api_base, seed_file as `seeds`, personas) for the operations that call a model;
        the chat template picked with `t` is template-lint's `template`."""
        import dataclasses

        from workbench.tui.config import LLM_PARAMS, llm_settings, load_config

        names = {f.name for f in dataclasses.fields(op.Params)}
        fields = names if op.uses_llm else set()  # map's `model` embeds
        saved = {LLM_PARAMS[k]: v for k, v in llm_settings().items() if LLM_PARAMS[k] in fields}
        section = (load_config().get("params") or {}).get(op.name)
        saved.update(section if isinstance(section, dict) else {})
        if self.template_name and "template" in names:
            saved["template"] = self.template_name
        return saved

    def action_run_operation(self, name: str, values: dict | None = None) -> None:
        """Run a registered operation: whole-dataset ones on every row, the others on the marked
        rows, else the filtered list, else every row. `values`: parameters from the form."""
        from workbench.ops import registry

        if name in self._running_ops:
            self.notify(f"{name} is already running (4 Jobs)", severity="warning")
            return
        from workbench.ops.base import ParamError

        op = registry.get(name)
        try:
            params, source = ((op.params_from_dict(values), "parameters from the form") if values is not None
                              else self.session.params_for(op, self._saved_params(op)))
        except ParamError as e:  # nothing to go on yet (decontam needs its benchmark files): ask
            self.notify(f"{name}: {e}", severity="warning")
            self.action_edit_operation(name)
            return
        except ValueError as e:  # a broken tui.json
            self.notify(f"{name}: {e}", severity="error", timeout=10)
            return
        rows, selection = self.session.selection(op, self.model.marked)
        from workbench.engine.cost import uses_local_model

        if uses_local_model(params):  # slow on a CPU: say what it will cost first
            self._cost_first(op, params, rows, selection, source)
            return
        self._submit(op, params, rows, selection, source)

    def _cost_first(self, op, params, rows, selection, source) -> None:
        """Before a run on the embedded model: the time it will take (rows x seconds per row, as
        measured here before, else measured now on a few rows, scaled by the rows' length), and
        a question to go on, always: with no rate yet and as few rows as a measure would take,
        the question says the time is not known."""
        import threading

        from workbench.engine.cost import MEASURE_ROWS, measured

        ids = rows if rows is not None else list(self.ds.ids)
        rate = measured(op.name)
        if rate is None and len(ids) > MEASURE_ROWS:
            self._running_ops.add(op.name)
            self.post_message(OperationState(op.name, "running", f"measuring the local model on {MEASURE_ROWS} rows"))
            self.notify(f"{op.name}: measuring the local model on {MEASURE_ROWS} rows first (4 Jobs) …")
            self.op_cancels[op.name] = cancel = threading.Event()
            self.measure_rate(op, params, ids[:MEASURE_ROWS], rows, selection, source, cancel)
            return
        self._ask_cost(op, params, rows, selection, source, len(ids), rate, "measured here before")

    def _ask_cost(self, op, params, rows, selection, source, n: int, rate: tuple | None, how: str) -> None:
        """`rate`: (seconds per row, the measured rows' mean length or None), None: not measured."""
        from workbench.engine.cost import estimate, mean_length, scaled
        from workbench.store.progress import duration
        from workbench.tui.screens.confirm import ConfirmScreen

        what = f"{op.name} on {n:,} rows with the local model"
        if rate is None:
            question = (f"{what}: its time per row is not measured on this machine yet (a generation can take "
                        "minutes a row on a CPU); this run measures it. Go on?")
        else:
            chars = mean_length(self.ds, rows)
            per_row = scaled(rate[0], rate[1], chars)
            if rate[1] and abs(per_row - rate[0]) > 0.05 * rate[0]:  # said when the length changes it
                how += (f", {rate[0]:,.1f} s a row of {rate[1]:,.0f} characters, these average "
                        f"{chars:,.0f}")
            question = (f"{what}: about {n:,} × {per_row:,.1f} s = {duration(estimate(n, per_row))} "
                        f"on this machine ({how}). Go on?")
        self.push_screen(ConfirmScreen(question, yes="run it", no="stop"),
                         lambda yes: self._submit(op, params, rows, selection, source) if yes else
                         self.notify(f"{op.name} not run"))

    @work(thread=True, group="measure", exit_on_error=False)
    def measure_rate(self, op, params, sample: list[str], rows, selection, source, cancel) -> None:
        """Run `op` on a few rows, nothing saved (their replies stay in the LLM cache, so the
        real run does not pay for them again): the first loads the model, the others are timed;
        then ask with the rate they took."""
        from workbench.engine.cost import mean_length
        from workbench.engine.local import run_step
        from workbench.ops.base import Context

        try:
            run_step(op, self.ds, self.ws, params, rows=sample[:1], ctx=Context(ws=self.ws, cancel=cancel), save=False)
            started = time.monotonic()
            out = run_step(op, self.ds, self.ws, params, rows=sample[1:], ctx=Context(ws=self.ws, cancel=cancel),
                           save=False)
        except Exception as e:  # noqa: BLE001 - said, and nothing runs
            self.post_message(OperationState(op.name, "failed", f"measuring failed: {type(e).__name__}: {e}"))
            return
        if out.status != "done":
            self.post_message(OperationState(op.name, out.status, "measuring stopped; nothing run"))
            return
        rate = (time.monotonic() - started) / len(sample[1:])
        self.post_message(OperationState(op.name, "measured", f"{rate:,.1f} s per row"))
        self.call_from_thread(self._ask_cost, op, params, rows, selection, source,
                              len(rows) if rows is not None else len(self.ds),
                              (rate, mean_length(self.ds, sample[1:])), f"measured now on {len(sample) - 1} rows")

    def _submit(self, op, params, rows, selection, source) -> None:
        from workbench.store.progress import Throttle

        name = op.name
        stage = [""]

        def post(h) -> None:  # the handle as it is when posted (a held-back count: its latest)
            if h.status in ("queued", "running"):
                self.post_message(OperationState(name, "running", h.line(), h.done, h.total if h.counting else None))
            else:
                self.post_message(OperationState(name, h.status, self._summary(op, h)))

        throttle = Throttle(0.2, post)

        def changed(h) -> None:  # the runner's thread: a message only, running ones throttled
            if h.status not in ("queued", "running"):
                throttle.now(h, last=True)
            elif h.stage != stage[0] or not h.done:  # a stage and its first count always show
                stage[0] = h.stage
                throttle.now(h)
            else:
                throttle(h)

        self._running_ops.add(name)
        self.post_message(OperationState(name, "running", "started"))
        handle = self.session.submit(op, params, rows=rows, selection=selection, on_change=changed,
                                     on_event=lambda ev: self.post_message(JobUpdate(ev, name)))
        self.op_cancels[name] = handle.cancel
        where = f"{len(rows):,} rows" if rows is not None else "every row"
        self.notify(f"{name} started on {where} with the {source} (4 Jobs shows progress)")

    @staticmethod
    def _summary(op, h) -> str:
        """One line for a finished step's handle."""
        if h.status == "cancelled":
            return "nothing saved"
        if h.status == "failed" or h.outcome is None or h.outcome.result is None:
            return h.detail
        res, run_id = h.outcome.result, h.outcome.run_id
        if op.review:
            summary = f"{len(res.rows):,} rows to review (Gen pane), {len(res.errors):,} failed"
        elif op.uses_llm:
            summary = f"{len(res.rows):,} rows, {len(res.errors):,} failed"
        else:
            summary = res.summary
        return f"{summary} (run {run_id})" if run_id else summary

    def action_edit_operation(self, name: str) -> None:
        """A form over the parameters `run-<name>` would use; running it runs the operation."""
        import dataclasses

        from workbench.ops import registry
        from workbench.tui.screens.params import ParamsScreen

        from workbench.ops.base import ParamError

        op = registry.get(name)
        try:
            values, source = self.session.params_for(op, self._saved_params(op))
            values = values.to_dict()
        except ParamError:  # defaults that need a value: the form asks for it
            values, source = dataclasses.asdict(op.Params()), "defaults"
        except ValueError as e:  # a broken tui.json
            self.notify(f"{name}: {e}", severity="error", timeout=10)
            return
        self.push_screen(ParamsScreen(f"{name} ({source})", values, op.Params),
                         lambda values: values is not None and self.action_run_operation(name, values))

    def action_export(self) -> None:
        """A form over `workbench export`'s options (those of the last export here, else an
        OpenAI-messages file named after the dataset); running it writes in a thread worker,
        with its progress in the Jobs pane."""
        from pathlib import Path

        from workbench.handoff.export_params import ExportParams
        from workbench.tui.screens.params import ParamsScreen

        if "export" in self._running_ops:
            self.notify("export is already running (4 Jobs)", severity="warning")
            return
        stem = Path(self.ds.sources[0]).name.split(".")[0] if self.ds.sources else "dataset"
        values = self._export_values or ExportParams(out=f"{stem}.curated.jsonl", to="openai").to_dict()
        self.push_screen(ParamsScreen("export (the options of workbench export)", values, ExportParams),
                         lambda values: values is not None and self._start_export(values))

    def _start_export(self, values: dict) -> None:
        import threading

        from workbench.handoff.export_params import ExportParams

        self._export_values = values
        self.op_cancels["export"] = threading.Event()
        self._running_ops.add("export")
        self.post_message(OperationState("export", "running", "started", 0, len(self.ds)))
        self.export_rows(ExportParams.from_dict(values), self.op_cancels["export"])
        self.notify(f"export to {values['out']} started (4 Jobs shows progress)")

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def export_rows(self, params, cancel) -> None:
        from workbench.data.formats.base import RowError
        from workbench.handoff.export_params import export_with
        from workbench.ops.oprun import Cancelled

        total, last = len(self.ds), [0.0]

        def progress(n: int) -> None:  # the worker's thread: a message only, throttled
            if cancel.is_set():
                raise Cancelled("export cancelled")  # the writers write atomically: nothing is left
            if time.monotonic() - last[0] >= 0.2:
                last[0] = time.monotonic()
                self.post_message(OperationState("export", "running", f"{n:,}/{total:,} rows read", n, total))

        try:
            summary = export_with(self.ds, self.ws, params, progress)
        except Cancelled:
            self.post_message(OperationState("export", "cancelled", "no partial file written"))
            return
        except (OSError, ValueError, RowError) as e:
            self.post_message(OperationState("export", "failed", str(e)))
            return
        except Exception as e:  # noqa: BLE001 - a bug still ends the job, said in Jobs, not a stuck "running"
            self.post_message(OperationState("export", "failed", f"{type(e).__name__}: {e}"))
            return
        files = ", ".join(f["out"] for f in summary["files"])
        self.post_message(OperationState("export", "done", f"{summary['rows']:,} of {summary['total']:,} rows to {files}"))

    def operation_state(self, name: str) -> tuple[str, str] | None:
        """(status, detail) of the latest run of operation `name` in this session, or None."""
        return self._op_states.get(name)

    async def on_operation_state(self, msg: OperationState) -> None:
        if "jobs" not in self._built:
            await self._build("jobs")
        self._op_states[msg.name] = (msg.status, msg.detail)
        self.query_one("#jobs").operation_state(msg.name, msg.status, msg.detail, msg.done, msg.total)
        if msg.status == "running" and self.current_pane == "topics":
            self.refresh_panes(only_current=True)  # the map's stage under the map
        if msg.status != "running":
            self._running_ops.discard(msg.name)
            self.reload_workspace()
            if msg.notify:
                self.notify(f"{msg.name}: {msg.status} {msg.detail}",
                            severity="error" if msg.status == "failed" else "information")

    async def on_job_update(self, msg: JobUpdate) -> None:
        if "jobs" not in self._built:
            await self._build("jobs")
        self.query_one("#jobs").job_event(msg.event, msg.op)
        if msg.event.status != "running":
            self.reload_workspace()
            self.notify(f"{msg.event.name}: {msg.event.status} ({msg.event.ok:,} ok, {msg.event.failed:,} failed)")

    # -- list events --------------------------------------------------------------------

    @on(RowList.Highlighted)
    def _row_moved(self) -> None:
        if self.query("#rows"):  # not once the app closing removed the list (a move queued before)
            self.refresh_panes()

    # -- actions ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("request_quit", "quit_now", "help", "command_palette", "show_pane"):
            return True
        if self.model is None:
            return False
        # False also takes it out of the footer; a pane's own binding of the key (Duplicates, Gen) still runs
        return action not in ON_ROW or self.shows_row

    @property
    def shows_row(self) -> bool:
        """The pane shown shows the row under the Browse cursor (Pane.shows_row)."""
        return next((p.shows_row for p in PANES if p.id == self.current_pane), False)

    def running_work(self) -> list[str]:
        """Names of the operations and per-row jobs running now."""
        names = sorted(self._running_ops)
        if self.runner is not None:
            names += [j.name for j in self.runner.jobs if not j.done]
        return names

    def action_request_quit(self) -> None:
        """Quit; with work running, ask first (its run is cancelled: nothing of it is saved)."""
        work = self.running_work()
        if not work:
            self.exit()
            return
        from workbench.tui.screens.confirm import ConfirmScreen

        what = ", ".join(work)
        self.push_screen(ConfirmScreen(
            f"{what} {'is' if len(work) == 1 else 'are'} running. Quit now? It is cancelled and its result is "
            "not saved (no signals, proposals or new rows). Kept: the rows an LLM already answered, cached "
            "in the workspace, so that running it again resumes where it stopped.", yes="quit", no="stay",
            also_yes="q"), lambda yes: yes and self.action_quit_now())

    def action_quit_now(self) -> None:
        self.cancel_work()
        self.exit()

    def cancel_work(self) -> None:
        """Set every running operation's and job's cancel event, and cancel the thread workers."""
        for event in self.op_cancels.values():
            event.set()
        if self.runner is not None:
            self.runner.cancel_all()
        self.workers.cancel_all()

    def work_left(self, timeout: float) -> bool:
        """Cancel all work and wait up to `timeout` seconds for the operations and jobs to stop;
        True when some still run."""
        self.cancel_work()
        runner = self.session.runner if self.session is not None else None
        pending = [h for h in (runner.handles if runner else []) if h.running]
        pending += [j for j in (self.runner.jobs if self.runner else []) if not j.done]
        end = time.monotonic() + timeout
        while pending and time.monotonic() < end:
            time.sleep(0.02)
            pending = [w for w in pending if (w.running if hasattr(w, "running") else not w.done)]
        if pending and self.ws is not None:
            self._record_quit([w.name for w in pending])
        return bool(pending)

    def _record_quit(self, names: list[str]) -> None:
        """Record the work a quit leaves running as cancelled, for the Jobs pane of a later
        session: the runs it started (a job, an embedding) and, for a step that has none yet
        (a map projecting), a run of its own."""
        from workbench.store.workspace import WorkspaceError

        reason = "cancelled by quitting while it ran"
        try:
            recorded = set(self.ws.cancel_own_runs(reason))
            for name in dict.fromkeys(names):
                if name not in recorded:
                    self.ws.finish_run(self.ws.start_run(name), "cancelled", {"error": reason})
        except WorkspaceError:  # not writable now: those runs read as interrupted later
            pass

    async def action_navigate(self, binding_id: str) -> None:
        """A movement key (actions.NAVIGATION) from outside the row list: it moves the Browse
        cursor where the pane shows that row, else acts on the pane's focused widget or does nothing."""
        from workbench.tui.actions import NAVIGATION

        a = next(a for a in NAVIGATION if a.id == binding_id)
        if self.shows_row:
            await self.row_list.run_action(a.rows)
            return
        pane = self.query_one("#panes", ContentSwitcher).get_child_by_id(self.current_pane)
        target = self.focused if self.focused is not None and pane in self.focused.ancestors_with_self else pane
        name = next((n for n in a.in_pane if hasattr(target, f"action_{n}")), None)
        if name is not None:
            await target.run_action(name)

    def action_decide(self, status: str) -> None:
        if not len(self.model):
            return
        rl = self.row_list
        if self.decide_rows([self.model.row_id(rl.cursor)], status):
            rl.action_move(1)

    def action_undo(self) -> None:
        self._history(self.session.undo, "undid", "undo")

    def action_redo(self) -> None:
        self._history(self.session.redo, "redid", "redo")

    def _history(self, step, verb: str, noun: str) -> None:
        """Undo or redo one step and say what it changed: "undid reject of row #12 (now pending)",
        "redid: accept row #12"."""
        s = self.session
        before_status = s.statuses  # replaced, not changed, by the step
        ok, ids = self.written(step)
        if not ok:
            return
        if not ids:
            self.notify(f"nothing to {noun}")
            return
        self.row_list.data_changed()
        if len(ids) == 1:
            try:
                self.goto_row(self.ds.index_of(ids[0]))
            except KeyError:
                pass
        self.refresh_panes()
        self.notify(f"{self._change_text(ids, before_status, verb)} (u undo · U redo)")

    def _change_text(self, ids: list[str], before: dict, verb: str) -> str:
        """What an undo or a redo (`verb`: "undid" / "redid") changed, from the statuses `before` it."""
        s = self.session
        old = {before.get(r, "pending") for r in ids}
        new = {s.status(r) for r in ids}
        if len(ids) == 1:
            try:
                what = f"row #{self.ds.index_of(ids[0])}"
            except KeyError:
                what = f"row {ids[0]}"
        else:
            what = f"{len(ids):,} rows"
        if old == new and len(old) == 1:  # the status stayed: the step changed a note or tags
            return f"{verb} the note/tags on {what}"
        if verb == "redid":  # what is decided again: "redid: accept row #2"
            return f"redid: {new.pop()} {what}" if len(new) == 1 else f"redid the decisions on {what}"
        was = old.pop() if len(old) == 1 else "decisions"
        now = f" (now {new.pop()})" if len(new) == 1 else ""
        return f"{verb} {was} of {what}{now}"

    def action_edit_note(self) -> None:
        """Edit the note and tags of the row under the cursor (kept with its decision)."""
        if not len(self.model):
            return
        from workbench.tui.screens.note import NoteScreen

        rid = self.model.row_id(self.row_list.cursor)
        have = self.session.notes.get(rid, {})
        pos = self.ds.index_of(rid)
        self.push_screen(NoteScreen(f"Note and tags of row #{pos} ({rid})", have.get("note", ""), have.get("tags")),
                         lambda got: got is not None and self._save_note(rid, *got))

    def _save_note(self, rid: str, note: str, tags: list[str]) -> None:
        if self.written(self.session.annotate, rid, note, tags)[0]:
            self.decided()
            self.notify(f"saved the note/tags of row #{self.ds.index_of(rid)} (u undoes)")

    def action_toggle_mark(self) -> None:
        if len(self.model):
            self.model.toggle_mark(self.row_list.cursor)
            self.row_list.data_changed()
            self.row_list.action_move(1)

    def action_bulk(self, status: str) -> None:
        m, s = self.model, self.session
        note = ""
        if m.marked:
            ids, what = sorted(m.marked), "marked"
            if s.filters.active():  # marks outlive a filter change: say when some are off screen
                hidden = len(m.marked - set(s.view_ids()))
                if hidden:
                    note = f", {hidden:,} of them hidden by the filter"
        elif s.filters.active():
            ids, what = s.view_ids(), "filtered"
        else:
            self.notify("mark rows (space) or filter (f, /) first", severity="warning")
            return
        if not ids:
            return
        if what == "marked":
            self._bulk(ids, status, what, note)
            return
        from workbench.tui.screens.confirm import ConfirmScreen

        self.push_screen(ConfirmScreen(f"{status.capitalize()} all {len(ids):,} rows of the filter "
                                       f"{s.filters.describe()}? (u undoes it as one step)",
                                       yes=f"{status} {len(ids):,} rows", no="cancel"),
                         lambda yes: yes and self._bulk(ids, status, what, note))

    def _bulk(self, ids: list[str], status: str, what: str, note: str) -> None:
        if not self.decide_rows(ids, status):
            return
        self.model.marked.clear()
        self.decided()
        self.notify(f"{status}ed {len(ids):,} {what} rows{note} (u undoes)")

    def action_search(self) -> None:
        from workbench.tui.screens.prompt import PromptScreen

        self.push_screen(PromptScreen("Search the text (n / N: next / previous match)",
                                      placeholder="fuzzy words · =exact text · ~regex · ?meaning"), self._search)

    def _search(self, query: str | None) -> None:
        if not query:
            return
        from workbench.views import Search

        try:
            search = Search.parse(query)
        except ValueError as e:
            self.notify(str(e), severity="error")
            return
        if "search" in self._running_ops:
            self.notify("a meaning search is running: esc cancels it", severity="warning")
            return
        if search.mode != "semantic":
            self.notify(f"searching {len(self.ds):,} rows for {search.label} ({search.mode}) …")
            self.search_rows(search)
            return
        import threading

        # Embedding every row takes minutes on a CPU the first time: a job with progress in
        # Jobs, cancelled by esc or Jobs' c; the vectors are cached for the next search.
        self.op_cancels["search"] = cancel = threading.Event()
        self._running_ops.add("search")
        self.post_message(OperationState("search", "running", f"'{search.label}': starting"))
        self.notify(f"meaning search '{search.label}': the rows' embeddings first, cached for next time "
                    "(4 Jobs shows progress, esc cancels) …")
        self.search_rows(search, cancel)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def search_rows(self, search, cancel=None) -> None:
        """Run `search` (a semantic one with `cancel`, its event: reported as the "search" job)."""
        from textual.worker import get_current_worker

        from workbench.engine.local import Handle
        from workbench.ops.oprun import Cancelled

        worker = get_current_worker()
        if cancel is None:
            rows = search.rows(self.ds, self.ws, cancelled=lambda: worker.is_cancelled)
            if not worker.is_cancelled:
                self.post_message(SearchDone(search, rows))
            return
        job, last, counts = Handle("search", cancel), [0.0], {}

        def report(force: bool = False) -> None:  # the worker's thread: a message only, throttled
            if force or time.monotonic() - last[0] >= 0.2:
                last[0] = time.monotonic()
                self.post_message(OperationState("search", "running", f"'{search.label}': {job.line()}", job.done,
                                                 job.total if job.counting else None))

        def stage(text: str) -> None:
            job.staged(text)
            report(force=True)

        def progress(done: int, total: int) -> None:
            if cancel.is_set() or worker.is_cancelled:
                raise Cancelled("search cancelled")
            job.counted(done, total)
            report(force=done == 0)

        try:
            rows = search.rows(self.ds, self.ws, progress=progress, on_stage=stage, counts=counts)
        except Cancelled:
            self.post_message(OperationState("search", "cancelled", "the rows embedded so far are cached"))
            return
        except Exception as e:  # noqa: BLE001 - said in Jobs, not a stuck "running"
            self.post_message(OperationState("search", "failed", f"{type(e).__name__}: {e}"))
            return
        self.post_message(OperationState(
            "search", "done", f"'{search.label}': {len(rows):,} nearest rows; {counts['embedded']:,} rows embedded, "
            f"{counts['cached']:,} from the cache", notify=False))
        self.post_message(SearchDone(search, rows))

    def on_search_done(self, msg: SearchDone) -> None:
        label = msg.search.label
        if not len(msg.rows):
            self.notify(f"no row matches {label}", severity="warning")
            return
        self.search, self.matches = msg.search, msg.rows
        self.model.search = msg.search
        semantic = msg.search.mode == "semantic"
        self.filter_rows(msg.rows, f"/{label}", ranked=semantic)
        n = len(msg.rows)
        what = "rows nearest to" if semantic else ("row matches" if n == 1 else "rows match")
        self.notify(f"{n:,} {what} {label}{', nearest first' if semantic else ''} (esc clears, n / N walk them)")

    def action_next_match(self, step: int) -> None:
        """Move to the next (1) or previous (-1) row the last search matched, in list order."""
        from workbench.views import next_match

        if self.matches is None:
            self.notify("no search yet: / searches", severity="warning")
            return
        pos = next_match(self.session.view, self.matches, self.row_list.cursor, step)
        if pos is None:
            self.notify("no match in this list (esc clears the filter)", severity="warning")
        else:
            self.row_list.go(pos, center=True)

    def action_filter(self) -> None:
        from workbench.tui.screens.prompt import PromptScreen

        f = self.session.filters
        # A search's matches or a duplicate cluster are rows, not an expression: say they stay.
        rows = f" (and {f.rows_label or 'the chosen rows'}, which esc clears)" if f.rows is not None else ""
        self.push_screen(PromptScreen(
            f"Filter, all must hold: status=… kind=… tag=… source=… topic=… SIGNAL>=VALUE{rows}",
            value=f.expression(), placeholder="e.g. status=pending judge.score>=4 topic=3"), self._filter)

    def _filter(self, text: str | None) -> None:
        if text is None:
            return
        from workbench.views import parse_filter

        try:
            f = parse_filter(text)
        except ValueError as e:
            self.notify(str(e), severity="error")
            return
        self.apply_filters(f.with_rows_of(self.session.filters))

    def apply_filters(self, f) -> None:
        """Show the rows that meet Filters `f`; an error (no such signal) is said, not shown as an empty list."""
        if not self._change_view(lambda: self.session.set_filters(f)):
            return
        if f.signals:  # show the values the filter is about
            from workbench.views import signal_predicate

            self.model.signal_column = signal_predicate(f.signals[0])[0]
            self.query_one("#browse").refresh_pane()

    def _change_view(self, change: Callable[[], None]) -> bool:
        """Apply a change of the Session's view (filters, sort) and redraw, the cursor staying on
        its row when the new view shows it (else on the first). False, said, on a ValueError."""
        row = self.current_row()
        try:
            change()
        except ValueError as e:
            self.notify(str(e), severity="error")
            return False
        pos = self.session.position_of(row) if row is not None else None
        self.row_list.data_changed(keep_cursor=False)
        if pos:
            self.row_list.go(pos, center=True)
        self.refresh_panes()
        return True

    def action_clear_filter(self) -> None:
        if "search" in self._running_ops:  # esc first stops a meaning search's embedding
            self.op_cancels["search"].set()
            self.notify("cancelling the search (the rows embedded so far stay cached) …")
            return
        if self.current_pane != "browse":
            self.run_worker(self._show("browse"))
            return
        from workbench.views import Filters

        if self.session.filters.active() or self.session.sort_by:
            self.session.sort_by = None
            self.apply_filters(Filters())

    def action_sort(self) -> None:
        from workbench.tui.screens.picker import PickerScreen
        from workbench.views import SORT_COLUMNS, TOKENS

        s = self.session
        names = [*SORT_COLUMNS, TOKENS, *s.numeric_signals(), "(file order)"]
        self.push_screen(PickerScreen("Sort by (highest first; the same again reverses, S too)", names,
                                      selected=s.sort_by), self._sort)

    def _sort(self, name: str | None) -> None:
        if name is None:
            return
        from workbench.views import TOKENS

        s = self.session
        by = None if name == "(file order)" else name
        descending = not s.sort_descending if by is not None and by == s.sort_by else True
        if by == TOKENS and s.tokens is None:  # a tokenizer pass over every row: off the UI thread
            self.notify(f"counting the tokens of {len(self.ds):,} rows (SmolLM2 tokenizer) …")
            self.count_tokens(descending)
            return
        self._sort_by(by, descending)

    @work(thread=True, exclusive=True, group="tokens", exit_on_error=False)
    def count_tokens(self, descending: bool) -> None:
        from workbench.views import TOKENS

        self.session.row_tokens()
        self.call_from_thread(self._sort_by, TOKENS, descending)

    def action_reverse_sort(self) -> None:
        if self.session.sort_by is None:
            self.notify("not sorted: s sorts by a column or a score", severity="warning")
            return
        self._sort_by(self.session.sort_by, not self.session.sort_descending)

    def _sort_by(self, by: str | None, descending: bool) -> None:
        from workbench.views import SORT_COLUMNS

        self._change_view(lambda: self.session.set_sort(by, descending))
        if by is not None and by not in SORT_COLUMNS:
            self.model.signal_column = by
        self.query_one("#browse").refresh_pane()

    def action_reject_below(self) -> None:
        """Reject every row whose chosen score is below X: pick the score, type X, confirm the
        count; one decision step (one `u` undoes it). Rows a person decided keep their decision."""
        from workbench.tui.screens.picker import PickerScreen

        names = self.session.score_signals()
        if not names:
            self.notify("no scores yet: run a judge or a scorer (ctrl+p, run-…) first", severity="warning")
            return
        first = self.model.signal_column if self.model.signal_column in names else names[0]
        self.push_screen(PickerScreen("Reject every row whose score is below X: which score?", names, selected=first),
                         self._reject_below_score)

    def _reject_below_score(self, signal: str | None) -> None:
        from workbench.tui.screens.prompt import PromptScreen

        if signal:
            self.push_screen(PromptScreen(f"Reject the rows whose {signal} is below:", placeholder="a number, e.g. 3"),
                             lambda text: self._reject_below_count(signal, text))

    def _reject_below_count(self, signal: str, text: str | None) -> None:
        from workbench.tui.screens.confirm import ConfirmScreen

        if not text:
            return
        try:
            threshold = float(text)
        except ValueError:
            self.notify(f"{text!r} is not a number", severity="error")
            return
        n = len(self.session.rows_below(signal, threshold))
        if not n:
            self.notify(f"no undecided row has {signal} below {threshold:g}")
            return
        self.push_screen(ConfirmScreen(f"Reject {n:,} rows whose {signal} is below {threshold:g}? "
                                       "(rows you decided keep their decision; u undoes it)",
                                       yes="reject them", no="keep them"),
                         lambda yes: yes and self._reject_below(signal, threshold))

    def _reject_below(self, signal: str, threshold: float) -> None:
        ok, ids = self.written(self.session.reject_below, signal, threshold)
        if ok:
            self.decided()
            self.notify(f"rejected {len(ids):,} rows with {signal} < {threshold:g} (u undoes)")

    def action_open_sample(self) -> None:
        if self.current_pane == "browse":
            self.run_worker(self._show("sample"))

    # The picker's entries that ask for a path: the spec prefix, what the path is, the files offered.
    TEMPLATE_SOURCES = {"tokenizer:DIR …": ("tokenizer", "a Hugging Face tokenizer folder", True, ()),
                        "jinja:FILE …": ("jinja", "a Jinja chat template file", False, ()),
                        "gguf:FILE …": ("gguf", "a GGUF model file", False, (".gguf",))}

    def action_pick_template(self) -> None:
        self.pick_template_spec(self._use_template)

    def pick_template_spec(self, then: Callable[[str], None]) -> None:
        """The template picker: a built-in, or tokenizer:DIR / jinja:FILE / gguf:FILE through a
        path prompt; `then(spec)` gets the choice (not called on escape)."""
        from workbench.templates import list_templates
        from workbench.tui.screens.picker import PickerScreen

        names = [t.name for t in list_templates()]
        if self.template_name and self.template_name not in names:  # a file chosen before: offered again
            names.append(self.template_name)

        def chosen(name: str | None) -> None:
            if name in self.TEMPLATE_SOURCES:
                self._ask_template_path(name, then)
            elif name:
                then(name)

        self.push_screen(PickerScreen("Chat template", names + list(self.TEMPLATE_SOURCES),
                                      selected=self.template_name), chosen)

    def _use_template(self, spec: str) -> None:
        self.template_name = spec
        if self.ws is not None and not self.ws.readonly:  # the next session opens with it
            self.ws.set_meta(TEMPLATE_META, spec)
        self.run_worker(self._show("template"))

    def _ask_template_path(self, entry: str, then: Callable[[str], None]) -> None:
        """A path prompt (tab completes) for a tokenizer:, jinja: or gguf: template."""
        from workbench.templates import TemplateNotFound, get_template
        from workbench.tui.screens.prompt import PathSuggester, PromptScreen

        prefix, what, dirs_only, suffixes = self.TEMPLATE_SOURCES[entry]

        def check(path: str) -> str | None:
            if not path:
                return "type a path (tab completes it)"
            try:
                get_template(f"{prefix}:{path}")
            except TemplateNotFound as e:
                return str(e)
            return None

        self.push_screen(PromptScreen(f"{prefix}: {what} (tab completes)", placeholder="path",
                                      check=check, suggester=PathSuggester(dirs_only=dirs_only, suffixes=suffixes)),
                         lambda path: path and then(f"{prefix}:{path}"))

    def action_pick_theme(self) -> None:
        from workbench.tui.screens.picker import PickerScreen

        names = sorted(n for n in self.available_themes if not n.startswith("textual-"))
        self.push_screen(PickerScreen("Theme", names, selected=self.theme), self._theme_chosen)

    def _theme_chosen(self, name: str | None) -> None:
        if name:
            self.theme = name

    def action_help(self) -> None:
        from workbench.tui.screens.help import HelpScreen

        from workbench.ops import registry

        ops = [(f"run-{name}", registry.get(name).help) for name in registry.names()]
        self.push_screen(HelpScreen(self._all_bindings(), ops))

    def keys_for(self, binding_id: str, default: str) -> str:
        """The keys bound to `binding_id` now (the keymap applied), as the footer shows them."""
        keys = getattr(self, "_keymap", {}).get(binding_id, default)
        return ", ".join(self.get_key_display(Binding(k, "")) for k in keys.split(","))

    def _all_bindings(self) -> list[Binding]:
        """The app's bindings, then the visible pane's own (e.g. cancel in Jobs), keymap applied."""
        keymap = getattr(self, "_keymap", {})
        out = []
        pane_bindings: list = []
        if self.current_pane in self._built:
            pane = self.query_one("#panes", ContentSwitcher).get_child_by_id(self.current_pane)
            pane_bindings = [b for b in getattr(pane, "BINDINGS", []) if isinstance(b, Binding)]
        for b in [*self.BINDINGS, *pane_bindings]:
            if b.id and b.id in keymap:
                b = b.with_key(keymap[b.id])
            out.append(b)
        return out

    # -- command palette ----------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        if self.model is None:
            yield from super().get_system_commands(screen)
            return
        from workbench.tui.commands import workbench_commands

        yield from workbench_commands(self)
        yield from super().get_system_commands(screen)


def run(args: Any) -> int:
    """Entry point for `workbench PATH` (args from workbench/cli/__init__.py, reading options parsed).

    Leaving never waits for running work: it is cancelled, and when some of it does not stop
    at once (a model call, a UMAP projection, a tokenizer load) the process ends with
    os._exit once the terminal is restored. Decisions are committed as they are made, and a
    cancelled run saves nothing, so nothing is lost; a normal interpreter exit would instead
    wait for the executor's threads, or kill daemon threads inside torch (std::terminate,
    "Aborted")."""
    import asyncio
    import os
    import sys
    import threading
    from concurrent.futures import ThreadPoolExecutor

    app = WorkbenchApp(args.paths, workspace_path=args.workspace, options=args.options,
                       theme=getattr(args, "theme", None), user=getattr(args, "user", None),
                       ask_user=getattr(args, "ask_user", False))
    try:
        # Our own loop and executor: asyncio.run() would wait for every thread worker at the end.
        loop = asyncio.new_event_loop()
        loop.set_default_executor(workers := ThreadPoolExecutor(thread_name_prefix="tui-worker"))
        app.run(loop=loop)
        workers.shutdown(wait=False, cancel_futures=True)  # idle worker threads end at once
        left = app.work_left(timeout=0.3)
        if not left:
            if app.session is not None:
                app.session.close()  # waits for the bulk decisions' content hashes first
            elif app.ws is not None:
                app.ws.close()
        # Busy thread workers (opening, stats, token counts) are abandoned, not waited for; with a
        # model loaded, tearing the interpreter down takes seconds (torch's threads and modules):
        # everything is saved and closed by now, so the process just ends.
        left = (left or any(t.is_alive() for t in threading.enumerate() if t.name.startswith("tui-worker"))
                or "torch" in sys.modules)
        if app.open_error:
            print(f"workbench: {app.open_error}", file=sys.stderr)
        code = 1 if app.open_error else app.return_code or 0
    except KeyboardInterrupt:  # a SIGINT outside the app's raw terminal (before or after it)
        left, code = True, 130
    if left:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
