"""The command palette (ctrl+p): every action of the action table under its long name with
its current key, the panes, filters, themes, and every registered operation, VisiData style.

`run-NAME` runs an operation with the parameters of its last run on this dataset (else the
saved defaults, else its own); `configure-NAME` opens a form to change them first.
"""

from __future__ import annotations

from functools import partial
from typing import Iterator

from textual.app import SystemCommand

from workbench.views import KIND_NAMES, STATUSES, Filters


def _run(app, action: str) -> None:
    app.run_worker(app.run_action(action))


def _filter(app, **kw) -> None:
    app.apply_filters(Filters(**kw).with_rows_of(app.session.filters))


def workbench_commands(app) -> Iterator[SystemCommand]:
    from workbench.ops import registry
    from workbench.tui.actions import PALETTE_ONLY, palette_actions
    from workbench.tui.app import PANES

    for a in palette_actions():
        if a.on_row and not app.shows_row:  # as check_action: no decision on a row the pane hides
            continue
        yield SystemCommand(a.name, f"{a.description} ({app.keys_for(a.id, a.keys)})", partial(_run, app, a.action))
    for name, action, help in PALETTE_ONLY:
        yield SystemCommand(name, help, partial(_run, app, action))
    for p in PANES:
        yield SystemCommand(f"show-pane-{p.id}", f"Switch to the {p.title} pane ({app.keys_for(f'pane-{p.id}', p.key)})",
                            partial(_run, app, f"show_pane('{p.id}')"))
    for s in STATUSES:
        yield SystemCommand(f"filter-status-{s}", f"Show only rows whose status is {s}",
                            partial(_filter, app, status=s), discover=False)
    for k in KIND_NAMES:
        yield SystemCommand(f"filter-kind-{k}", f"Show only {k} rows", partial(_filter, app, kind=k), discover=False)
    if app.model.show_source:
        for src, name in app.model.source_names.items():
            yield SystemCommand(f"filter-source-{name}", f"Show only the rows of {src}",
                                partial(_filter, app, source=name), discover=False)
    for name in sorted(n for n in app.available_themes if not n.startswith("textual-")):
        yield SystemCommand(f"set-theme-{name}", f"Switch to the {name} theme (remembered)",
                            partial(setattr, app, "theme", name), discover=False)
    for name in registry.names():
        op = registry.get(name)
        yield SystemCommand(f"run-{name}", f"{op.help}; with the {app.params_source(op)}",
                            partial(_run, app, f"run_operation('{name}')"))
        yield SystemCommand(f"configure-{name}", f"Change the parameters of {name}, then run it",
                            partial(_run, app, f"edit_operation('{name}')"))
