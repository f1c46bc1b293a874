"""The note and tags of a row in a modal: enter saves (from either field), escape cancels.
Returns (note, tags) or None."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from workbench.terminal import visible


class NoteScreen(ModalScreen[tuple[str, list[str]] | None]):
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="note-cancel")]
    DEFAULT_CSS = """
    NoteScreen { align: center middle; }
    NoteScreen > Vertical { width: 90%; max-width: 100; height: auto; border: round $primary;
                            background: $surface; padding: 0 1; }
    NoteScreen #note-keys { color: $text-muted; }
    """

    def __init__(self, title: str, note: str = "", tags: list[str] | None = None) -> None:
        super().__init__()
        self.title_text, self.note, self.tags = title, note, list(tags or [])

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(visible(self.title_text), markup=False)
            yield Input(value=self.note, placeholder="a note on this row", id="note-text")
            yield Input(value=", ".join(self.tags), placeholder="tags, comma-separated (filter: tag=NAME)",
                        id="note-tags")
            yield Label("enter saves · tab next field · esc cancels", id="note-keys")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        note = self.query_one("#note-text", Input).value
        tags = [t.strip() for t in self.query_one("#note-tags", Input).value.split(",")]
        self.dismiss((note.strip(), [t for t in tags if t]))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
