"""The Generated pane: review what the generate-* operations produced in this workspace.

Each output row (the Session's `generated()`: rows the generate-* operations stored in the
workspace for review) is one line: its status, operation and review id. Below, the highlighted row's word-level diff
against its original (removed words red and struck through, added words green); a new
self-instruct task has no original and shows all green. Above it, the row's provenance; a pair
made from a document shows its source chunk below. `a`/`r` accept or reject it through
the app (committed to the workspace), `w` writes the accepted rows to a file.
"""

from __future__ import annotations

from rich.panel import Panel
from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from workbench.explore.worddiff import word_diff
from workbench.terminal import visible, visible_data
from workbench.tui.widgets.sample_view import provenance_line

_MARK = {"accept": ("✓", "green"), "reject": ("✗", "red"), "pending": ("·", "dim")}


def inline_diff(before: str, after: str) -> Text:
    """`after` against `before`, word by word: a changed run shows whole, old words then new."""
    out = Text()
    for tag, removed, added in word_diff(before, after):
        if tag == "equal":
            out.append(added)
            continue
        out.append(removed, style="red strike")
        if removed and added and not removed[-1:].isspace():
            out.append(" ")  # keep the last removed word apart from the first added one
        out.append(added, style="green")
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
            yield Static("", id="gen-chunk")

    # -- reading the workspace ------------------------------------------------------------

    def refresh_pane(self) -> None:
        items = self.app.session.generated()
        ol = self.query_one("#gen-list", OptionList)
        keep = ol.highlighted
        statuses = self.app.ws.statuses()
        self.items = items
        ol.clear_options()
        ol.add_options([Option(self._line(k, v, statuses.get(k, "pending")), id=k) for k, v in items.items()])
        if items:
            ol.highlighted = min(keep if keep is not None else 0, len(items) - 1)
        self._show_diff()

    @staticmethod
    def _line(key: str, item: dict, status: str) -> Text:
        mark, style = _MARK.get(status, _MARK["pending"])
        key, item = visible(key), visible_data(item)
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
        record = self.items[key].get("record") or {}
        key, item = visible(key), visible_data(self.items[key])
        head = Text.assemble(
            (f"{key}", "bold"), f"  {item.get('op')}",
            (f"  rewrite of {item['parent']}" if item.get("parent") else "  new row", "dim"),
            ("  (red: removed, green: added)\n\n", "dim"))
        prov = (record.get("meta") or {}).get("provenance") if isinstance(record.get("meta"), dict) else None
        prov = prov if isinstance(prov, dict) else {}
        line = provenance_line(prov) + "\n" if prov else Text()
        self.query_one("#gen-diff", Static).update(line + head + inline_diff(item.get("before", ""), item.get("after", "")))
        chunk = self.query_one("#gen-chunk", Static)
        chunk.display = isinstance(prov.get("chunk"), str)  # a pair made from a document: its source
        if chunk.display:
            chunk.update(Panel(Text(visible(prov["chunk"])), title="source chunk", title_align="left",
                               border_style="dim"))

    # -- actions --------------------------------------------------------------------------

    def action_decide(self, status: str) -> None:
        key = self._selected()
        if key is None:
            self.app.notify("nothing to review", severity="warning")
            return
        ol = self.query_one("#gen-list", OptionList)
        pos = ol.highlighted
        # Review ids are not dataset rows: they count apart from the dataset's decisions.
        if not self.app.written(self.app.session.decide_generated, key, status)[0]:  # committed before the pane redraws
            return
        self.app.refresh_panes()
        if pos is not None and pos + 1 < len(self.items):
            ol.highlighted = pos + 1

    def action_write_accepted(self) -> None:
        from workbench.tui.screens.prompt import PromptScreen

        accepted = self.app.session.accepted_generated()
        if not accepted:
            self.app.notify("no accepted generated rows yet (a accepts)", severity="warning")
            return
        self.app.push_screen(PromptScreen(
            f"Write {len(accepted):,} accepted generated rows to (.jsonl, .json or .parquet)",
            value="generated-accepted.jsonl"), self._write)

    def _write(self, path: str | None) -> None:
        if not path:
            return
        try:
            report = self.app.session.write_generated(path)
        except (OSError, ValueError) as e:
            self.app.notify(f"cannot write {path}: {e}", severity="error", timeout=10)
            return
        lost = f"; {len(report['lost'])} fields the format cannot hold" if report["lost"] else ""
        self.app.notify(f"wrote {report['rows']:,} rows to {path}{lost}")
