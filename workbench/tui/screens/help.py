"""Help (`?`, F1): every key with its binding id (from the action table, keymap applied), every
operation of the registry, and how to rebind."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from workbench.tui.config import config_path

ABOUT = """Keys work in every pane. j/k move the cursor even while you read a sample.
Decisions (a, r, A, R) are committed to the workspace before the list shows them.
ctrl+p opens the command palette: every action by its long name, themes, operations.
Rebind any key by its id in {path}, e.g. {{"keymap": {{"accept": "y"}}}}."""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help-close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 100; height: 90%; border: round $primary;
                                  background: $surface; padding: 0 1; }
    """

    def __init__(self, bindings: list[Binding], operations: list[tuple[str, str]]) -> None:
        super().__init__()
        self.bindings, self.operations = bindings, operations

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_edge=False, pad_edge=False)
        table.add_column("keys", style="bold", no_wrap=True)
        table.add_column("action")
        table.add_column("id", style="dim", no_wrap=True)
        for b in self.bindings:
            keys = ", ".join(self.app.get_key_display(Binding(k, "")) for k in b.key.split(","))
            table.add_row(keys, b.description, b.id or "")
        ops = Table(box=None, expand=True, show_edge=False, pad_edge=False)
        ops.add_column("palette", style="bold", no_wrap=True)
        ops.add_column("operation")
        for name, help in self.operations:
            ops.add_row(name, help)
        with VerticalScroll():
            yield Static("[b]Workbench keys[/b]  (esc closes)\n")
            yield Static(table)
            yield Static("\n[b]Operations[/b] (ctrl+p; configure-NAME changes the parameters first)\n")
            yield Static(ops)
            yield Static("\n" + ABOUT.format(path=config_path()), markup=False)
