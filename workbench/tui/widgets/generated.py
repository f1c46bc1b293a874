"""The Generated pane: review what the generate-* operations produced in this workspace.

Each output row (a `generated` signal, see workbench.tui.operations.store_generated) is one
line: its status, operation and review id. Below, the highlighted row's word-level diff
against its original (removed words red and struck through, added words green); a new
self-instruct task has no original and shows all green. `a`/`r` accept or reject it through
the app (committed to the workspace), `w` writes the accepted rows to a file.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

_MARK = {"accept": ("✓", "green"), "reject": ("✗", "red"), "pending": ("·", "dim")}
_TOKENS = re.compile(r"\s+|\S+\s*")  # a word with the space after it; leading space alone


def word_diff(before: str, after: str) -> Text:
    """`after` against `before`, word by word: a changed run shows whole, old words then new."""
    a, b = _TOKENS.findall(before), _TOKENS.findall(after)
    out = Text()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append("".join(b[j1:j2]))
            continue
        if tag in ("delete", "replace"):
            removed = "".join(a[i1:i2])
            out.append(removed, style="red strike")
            if tag == "replace" and not removed[-1:].isspace():
                out.append(" ")  # keep the last removed word apart from the first added one
        if tag in ("insert", "replace"):
            out.append("".join(b[j1:j2]), style="green")
    return out


class GeneratedPane(Vertical):
    BINDINGS = [
        Binding("a", "decide('accept')", "Accept generated", id="generated-accept"),
        Binding("r", "decide('reject')", "Reject generated", id="generated-reject"),
        Binding("w", "write_accepted", "Write accepted", id="generated-write"),
    ]
    DEFAULT_CSS = """
    GeneratedPane > #gen-list { height: 1fr; min-height: 4; }
    GeneratedPane > #gen-diff-box { height: 2fr; border-top: solid $primary; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.items: dict[str, dict] = {}  # review id -> {"op", "parent", "record", "before", "after"}

    def compose(self):
        yield OptionList(id="gen-list")
        with VerticalScroll(id="gen-diff-box"):
            yield Static("Nothing generated yet: run a generate-… operation from the palette (ctrl+p).",
                         id="gen-diff")

    # -- reading the workspace ------------------------------------------------------------

    def _statuses(self) -> dict[str, str]:
        return self.app.ws.statuses()

    def refresh_pane(self) -> None:
        items = dict(self.app.ws.signal_values("generated"))
        ol = self.query_one("#gen-list", OptionList)
        keep = ol.highlighted
        statuses = self._statuses()
        self.items = items
        ol.clear_options()
        ol.add_options([Option(self._line(k, v, statuses.get(k, "pending")), id=k) for k, v in items.items()])
        if items:
            ol.highlighted = min(keep if keep is not None else 0, len(items) - 1)
        self._show_diff()

    @staticmethod
    def _line(key: str, item: dict, status: str) -> Text:
        mark, style = _MARK.get(status, _MARK["pending"])
        kind = "rewrite" if item.get("parent") else "new"
        after = " ".join(item.get("after", "").split())
        # one line per row (OptionList wraps long prompts): the diff below shows the rest
        return Text.assemble((f"{mark} ", style), (f"{item.get('op', '?'):<14}", "bold"), f"{kind:<8}",
                             (f"{key[:24]:<25}", "dim"), after[:40] + ("…" if len(after) > 40 else ""))

    def _selected(self) -> str | None:
        ol = self.query_one("#gen-list", OptionList)
        if ol.highlighted is None or not self.items:
            return None
        return ol.get_option_at_index(ol.highlighted).id

    def on_option_list_option_highlighted(self) -> None:
        self._show_diff()

    def _show_diff(self) -> None:
        key = self._selected()
        if key is None:
            return
        item = self.items[key]
        head = Text.assemble(
            (f"{key}", "bold"), f"  {item.get('op')}",
            (f"  rewrite of {item['parent']}" if item.get("parent") else "  new row", "dim"),
            ("  (red: removed, green: added)\n\n", "dim"))
        self.query_one("#gen-diff", Static).update(head + word_diff(item.get("before", ""), item.get("after", "")))

    # -- actions --------------------------------------------------------------------------

    def action_decide(self, status: str) -> None:
        key = self._selected()
        if key is None:
            self.app.notify("nothing to review", severity="warning")
            return
        ol = self.query_one("#gen-list", OptionList)
        pos = ol.highlighted
        # Review ids are not dataset rows: decide them in the workspace, outside Browse's list.
        self.app.ws.decide(key, status)  # committed before the pane redraws
        self.app.refresh_panes()
        if pos is not None and pos + 1 < len(self.items):
            ol.highlighted = pos + 1

    def action_write_accepted(self) -> None:
        from workbench.tui.screens.prompt import PromptScreen

        accepted = self._accepted()
        if not accepted:
            self.app.notify("no accepted generated rows yet (a accepts)", severity="warning")
            return
        self.app.push_screen(PromptScreen(
            f"Write {len(accepted):,} accepted generated rows to (.jsonl, .json or .parquet)",
            value="generated-accepted.jsonl"), self._write)

    def _accepted(self) -> list[dict]:
        statuses = self._statuses()
        return [v["record"] for k, v in self.app.ws.signal_values("generated").items()
                if statuses.get(k) == "accept"]

    def _write(self, path: str | None) -> None:
        if not path:
            return
        from workbench.data.writers import write_records

        try:
            report = write_records(self._accepted(), self._target(path), path)
        except (OSError, ValueError) as e:
            self.app.notify(f"cannot write {path}: {e}", severity="error", timeout=10)
            return
        lost = f"; {len(report['lost'])} fields the format cannot hold" if report["lost"] else ""
        self.app.notify(f"wrote {report['rows']:,} rows to {path}{lost}")

    def _target(self, path: str) -> str:
        """Parquet by extension, else the dataset's own format when it can hold a conversation."""
        from workbench.data.formats import TARGETS

        if Path(path).suffix == ".parquet":
            return "parquet"
        fmt = next(iter(self.app.ds.formats.values()), None)
        return fmt if fmt in TARGETS and fmt not in ("text", "parquet") else "openai"
