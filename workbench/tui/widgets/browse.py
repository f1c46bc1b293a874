"""The Browse pane: a column header over the virtual RowList."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from workbench.tui.widgets.row_list import RowList


class BrowsePane(Vertical):
    DEFAULT_CSS = """
    BrowsePane > #browse-header { height: 1; color: $text-muted; text-style: bold; }
    """

    _header = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="browse-header", markup=False)
        yield RowList(self.app.model, id="rows")

    def refresh_pane(self) -> None:
        rows = self.query_one(RowList)
        # On the first show the list has no size yet: the terminal's width stands in for it.
        text = rows.header(rows.scrollable_content_region.width or self.size.width or self.app.size.width)
        if text != self._header:  # called on every cursor move: repaint only on change
            self._header = text
            self.query_one("#browse-header", Static).update(text, layout=False)

    def on_resize(self) -> None:
        self.refresh_pane()
