"""A yes/no question in a modal: `y` (or enter) answers True, `n` (or escape) False. Used
before what cannot be taken back in one key: quitting with work running, a bulk decision
over a filter, a slow run on the local model."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from workbench.terminal import visible


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm-yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm-no"),
    ]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 70; max-width: 95%; height: auto; border: round $warning;
                               background: $surface; padding: 0 1; }
    ConfirmScreen #confirm-keys { color: $text-muted; }
    """

    def __init__(self, question: str, *, yes: str = "go on", no: str = "stop", also_yes: str = "") -> None:
        """`also_yes`: more keys that answer yes (q answers the quit question)."""
        super().__init__()
        self.question, self.yes, self.no = question, yes, no
        if also_yes:
            self._bindings.bind(also_yes, "answer(True)", "Yes", show=False)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(visible(self.question), markup=False)
            yield Label(f"y {self.yes} · n {self.no}", id="confirm-keys", markup=False)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
