"""A small form over an operation's parameters (palette: `configure-NAME`): one line per
parameter. Plain text for a string, a number, `true`/`false`; a list's items as its flag takes
them (`a, b`; `FILE:col,col; FILE2` for one given by a repeated flag: Params.fields_for_form);
an empty line means the parameter's default (none, no items: the placeholder says so) and
`null` means none. ctrl+r (or enter on the last line) runs the operation with them; the
operation's own validation judges them, and its message shows in the form. Escape leaves
without running.
"""

from __future__ import annotations

import copy
import json

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


def _show(value, field: dict) -> str:
    """The value as typed in the form: nothing for none or no items."""
    if value is None:
        return ""
    if isinstance(value, list) and field["items"] and all(isinstance(x, str) for x in value):
        return f"{field['items']} ".join(value)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _placeholder(field: dict) -> str:
    """What an empty line means, and the field's help."""
    if field["items"]:
        empty = "none · items separated by " + ("; (an item may hold commas)" if field["items"] == ";" else "commas")
    elif field["default"] in (None, ""):
        empty = "none"
    else:
        empty = f"default {_show(field['default'], field)}"
    return f"{empty} · {field['help']}" if field["help"] else empty


def _read(text: str, field: dict):
    """The typed text as the field's value: its default when empty; JSON when it parses as
    JSON (a number, true, null, a quoted string, a [list]), else the text itself."""
    if not text:
        return copy.deepcopy(field["default"])
    if field["items"] and not text.startswith("["):
        return [x.strip() for x in text.split(field["items"]) if x.strip()]
    if field["kind"] == "str" and text != "null" and not text.startswith('"'):
        return text  # a string needs no quotes, and stays one when it looks like a number or a [class]
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


class ParamsScreen(ModalScreen[dict | None]):
    """Returns the edited parameters as a dict, validated by `params.from_dict` (a
    workbench.ops.base.Params class; ValueError with a message), or None on escape."""

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

    def __init__(self, title: str, values: dict, params) -> None:
        super().__init__()
        self.title_text, self.values, self.validate = title, values, params.from_dict
        self.fields = params.fields_for_form()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text)
            with VerticalScroll():
                for name, value in self.values.items():
                    with Horizontal():
                        yield Label(name[:23], classes="param-name")
                        field = self.fields[name]
                        yield Input(_show(value, field), placeholder=_placeholder(field), id=f"param-{name}",
                                    compact=True)
            yield Static("", id="params-error")
            yield Label("[dim]ctrl+r runs · enter on the last line runs · esc cancels[/]")

    def _edited(self) -> dict:
        return {name: _read(self.query_one(f"#param-{name}", Input).value.strip(), self.fields[name])
                for name in self.values}

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
