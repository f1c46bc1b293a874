"""Pick one name from a list in a modal (templates, themes, signals)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList

from workbench.terminal import visible


class PickerScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="picker-cancel")]
    DEFAULT_CSS = """
    PickerScreen { align: center middle; }
    PickerScreen > Vertical { width: 60; max-width: 95%; height: auto; max-height: 90%;
                              border: round $primary; background: $surface; padding: 0 1; }
    PickerScreen OptionList { height: auto; max-height: 18; }
    """

    def __init__(self, title: str, names: list[str], *, selected: str | None = None) -> None:
        super().__init__()
        self.title_text, self.names, self.selected = title, list(names), selected

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text)
            yield OptionList(*(Text(visible(n)) for n in self.names))  # names from files and data

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        if self.selected in self.names:
            ol.highlighted = self.names.index(self.selected)
        ol.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.names[event.option_index])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
