"""Every action under a long name for the command palette, in VisiData's spirit."""

from __future__ import annotations

from functools import partial
from typing import Iterator

from textual.app import SystemCommand

from workbench.views import KIND_NAMES, STATUSES, Filters

ACTIONS = [
    # (long name, help, action string run on the app)
    ("accept-row", "Accept the row under the cursor and move on (a)", "decide('accept')"),
    ("reject-row", "Reject the row under the cursor and move on (r)", "decide('reject')"),
    ("undo-decision", "Undo the last decision (u)", "undo"),
    ("redo-decision", "Redo the last undone decision (U)", "redo"),
    ("toggle-mark", "Mark or unmark the row under the cursor (space)", "toggle_mark"),
    ("accept-marked-or-filtered", "Accept every marked row, or every row the filter shows (A)", "bulk('accept')"),
    ("reject-marked-or-filtered", "Reject every marked row, or every row the filter shows (R)", "bulk('reject')"),
    ("search-text", "Fuzzy search the text of every row (/)", "search"),
    ("filter-rows", "Filter by status, kind or a signal (f)", "filter"),
    ("clear-filter", "Show every row again (esc)", "clear_filter"),
    ("sort-by-signal", "Sort the list by a signal, highest first (s)", "sort"),
    ("pick-template", "Choose the chat template to preview (t)", "pick_template"),
    ("pick-theme", "Choose the colour theme (remembered)", "pick_theme"),
    ("show-help", "List every key (? or F1)", "help"),
    ("first-row", "Go to the first row (g)", "jump_first"),
    ("last-row", "Go to the last row (G)", "jump_last"),
]


def _run(app, action: str) -> None:
    app.run_worker(app.run_action(action))


def _filter(app, **kw) -> None:
    app.apply_filters(Filters(**kw).with_rows_of(app.session.filters))


def workbench_commands(app) -> Iterator[SystemCommand]:
    from workbench.tui.app import PANES
    from workbench.tui.operations import OPERATIONS

    for name, help, action in ACTIONS:
        yield SystemCommand(name, help, partial(_run, app, action))
    for p in PANES:
        yield SystemCommand(f"show-pane-{p.id}", f"Switch to the {p.title} pane ({p.key})",
                            partial(_run, app, f"show_pane('{p.id}')"))
    for s in STATUSES:
        yield SystemCommand(f"filter-status-{s}", f"Show only rows whose status is {s}",
                            partial(_filter, app, status=s), discover=False)
    for k in KIND_NAMES:
        yield SystemCommand(f"filter-kind-{k}", f"Show only {k} rows", partial(_filter, app, kind=k), discover=False)
    for name in sorted(n for n in app.available_themes if not n.startswith("textual-")):
        yield SystemCommand(f"set-theme-{name}", f"Switch to the {name} theme (remembered)",
                            partial(setattr, app, "theme", name), discover=False)
    for op in OPERATIONS:
        yield SystemCommand(f"run-{op.name}", op.help, partial(_run, app, f"run_operation('{op.name}')"))
