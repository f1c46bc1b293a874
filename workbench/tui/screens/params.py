"""A small form over an operation's parameters (palette: `configure-NAME`): one line per
parameter, its value as JSON (`0.6`, `true`, `null`, `["a", "b"]`); plain text for a string,
`a, b` for a list of strings.
ctrl+r (or enter on the last line) runs the operation with them; the operation's own
validation judges them, and its message shows in the form. Escape leaves without running.
"""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


def _show(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _read(text: str):
    """JSON when it parses as JSON, else the text itself (a string parameter needs no quotes)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


class ParamsScreen(ModalScreen[dict | None]):
    """Returns the edited parameters as a dict, validated by `validate(dict)` (which raises
    ValueError with a message), or None on escape."""

    AUTO_FOCUS = "Input"  # the first field, not the (focusable) scroll around the fields
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="params-cancel"),
                Binding("ctrl+r", "submit", "Run", id="params-run")]
    DEFAULT_CSS = """
    ParamsScreen { align: center middle; }
    ParamsScreen > Vertical { width: 90%; max-width: 100; height: auto; max-height: 90%;
                              border: round $primary; background: $surface; padding: 0 1; }
    ParamsScreen VerticalScroll { height: auto; max-height: 16; }
    ParamsScreen Horizontal { height: 1; }
    ParamsScreen .param-name { width: 24; color: $text-muted; }
    ParamsScreen Input { width: 1fr; }
    ParamsScreen #params-error { color: $error; height: auto; }
    """

    def __init__(self, title: str, values: dict, validate) -> None:
        super().__init__()
        self.title_text, self.values, self.validate = title, values, validate

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text)
            with VerticalScroll():
                for name, value in self.values.items():
                    with Horizontal():
                        yield Label(name[:23], classes="param-name")
                        yield Input(_show(value), id=f"param-{name}", compact=True)
            yield Static("", id="params-error")
            yield Label("[dim]ctrl+r runs · enter on the last line runs · esc cancels[/]")

    def _edited(self) -> dict:
        out = {}
        for name, old in self.values.items():
            text = self.query_one(f"#param-{name}", Input).value.strip()
            if isinstance(old, str) and text != "null" and not text.startswith(('"', "[", "{")):
                out[name] = text
            elif isinstance(old, list) and not text.startswith("["):  # a, b for ["a", "b"]
                out[name] = [x.strip() for x in text.split(",") if x.strip()]
            else:
                out[name] = _read(text)
        return out

    def action_submit(self) -> None:
        edited = self._edited()
        try:
            self.validate(edited)
        except ValueError as e:
            self.query_one("#params-error", Static).update(str(e))
            return
        self.dismiss(edited)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        if event.input is inputs[-1]:
            self.action_submit()
        else:
            inputs[inputs.index(event.input) + 1].focus()

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
