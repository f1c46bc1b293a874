"""The Template pane: the chosen chat template rendered over the current row."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static


class TemplatePane(VerticalScroll):
    DEFAULT_CSS = "TemplatePane { padding: 0 1; }"

    def compose(self):
        yield Static("", id="template-body")

    def refresh_pane(self) -> None:
        body = self.query_one("#template-body", Static)
        app = self.app
        if not app.template_name:
            body.update("Press t to choose a chat template.")
            return
        i = app.current_row()
        if i is None:
            body.update("No row: the filter shows nothing (esc clears it).")
            return
        try:
            from workbench.templates import render_record

            result = render_record(app.ds.record(i), app.template_name)
        except Exception as e:  # a template error is shown in place, not raised
            body.update(Text(f"{app.template_name}: {type(e).__name__}: {e}", style="bold red"))
            return
        body.update(Text(str(result)))
