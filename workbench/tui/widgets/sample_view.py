"""The Sample pane: one row as it reads — turns with roles and markdown, reasoning, tool calls,
preference pairs side by side, and what operations said about the row."""

from __future__ import annotations

import json

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from workbench.terminal import visible, visible_data

ROLE_STYLE = {"system": "magenta", "user": "cyan", "assistant": "green", "tool": "yellow"}
MAX_CHARS = 20_000  # a huge turn is cut so that reading stays instant; the rest is counted


def _md(text: str) -> RenderableType:
    if len(text) > MAX_CHARS:
        return Group(Markdown(text[:MAX_CHARS]), Text(f"… {len(text) - MAX_CHARS:,} more characters", style="dim"))
    return Markdown(text)


def turn_panel(turn: dict) -> Panel:
    role = turn.get("role", "?")
    parts: list[RenderableType] = []
    if turn.get("reasoning"):
        parts.append(Panel(Text(turn["reasoning"], style="italic"), title="reasoning", title_align="left",
                           border_style="dim"))
    if turn.get("content"):
        parts.append(_md(turn["content"]))
    for call in turn.get("tool_calls") or ():
        args = call.get("arguments", "")
        try:
            args = json.dumps(json.loads(args), indent=2, ensure_ascii=False)
        except (TypeError, ValueError):
            pass
        parts.append(Text(f"→ call {call.get('name', '?')}({args})", style="yellow"))
    title = role + (f" · {turn['name']}" if turn.get("name") else "")
    if turn.get("tool_call_id"):
        title += f" · reply to {turn['tool_call_id']}"
    if "train" in turn:
        title += f" · train={turn['train']}"
    return Panel(Group(*parts) if parts else Text("(empty)", style="dim"), title=Text(title), title_align="left",
                 border_style=ROLE_STYLE.get(role, "white"))


def render_record(rec: dict, status: str, reason: str | None, signals: list[dict]) -> RenderableType:
    """The row as panels; every string from the data is shown through `visible`."""
    # meta and origin are not shown (and may nest deep): only the shown fields are mapped
    rec = {k: v if k in ("meta", "origin") else visible_data(v) for k, v in rec.items()}
    reason, signals = reason and visible(reason), visible_data(signals)
    head = Text.assemble((f"{rec['id']}", "bold"), f"  {rec['kind']}  ",
                         (status, {"accept": "green", "reject": "red"}.get(status, "dim")),
                         (f" ({reason})" if reason else "", "dim"),
                         (f"  {rec['source']}:{rec.get('row', 0) + 1}" if rec.get("source") else "", "dim"))
    parts: list[RenderableType] = [head]
    if signals:
        t = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
        for s in signals:
            v = s["value"]
            t.add_row(Text(s["op"], style="dim"), Text(s["name"]), Text(json.dumps(v, ensure_ascii=False)
                                                                  if not isinstance(v, str) else v))
        parts.append(t)
    if rec.get("kind") == "kto" and rec.get("label") is not None:
        parts.append(Text("label: " + ("desirable" if rec["label"] else "undesirable"), style="bold"))
    if rec.get("tools"):
        parts.append(Panel(Text(rec["tools"]), title="tools", title_align="left", border_style="dim"))
    if rec.get("system"):
        parts.append(turn_panel({"role": "system", "content": rec["system"]}))
    if rec.get("kind") == "text":
        parts.append(_md(rec.get("text") or ""))
    parts += [turn_panel(t) for t in rec.get("messages") or ()]
    if rec.get("chosen") is not None or rec.get("rejected") is not None:
        pair = Table(expand=True, box=None, padding=(0, 1))
        pair.add_column(Text("chosen", style="bold green"), ratio=1)
        pair.add_column(Text("rejected", style="bold red"), ratio=1)
        pair.add_row(Group(*[turn_panel(t) for t in rec.get("chosen") or ()]),
                     Group(*[turn_panel(t) for t in rec.get("rejected") or ()]))
        parts.append(pair)
    if rec.get("images"):
        parts.append(Text("images: " + ", ".join(rec["images"]), style="dim"))
    return Group(*parts)


class SamplePane(VerticalScroll):
    DEFAULT_CSS = "SamplePane { padding: 0 1; } SamplePane > Static { width: 1fr; }"

    def compose(self):
        yield Static("", id="sample-body")

    def refresh_pane(self) -> None:
        app = self.app
        i = app.current_row()
        body = self.query_one("#sample-body", Static)
        if i is None:
            body.update("No row: the filter shows nothing (esc clears it).")
            return
        rec = app.ds.record(i)
        decision = app.ws.decision(rec["id"])
        status = decision["status"] if decision else "pending"
        reason = None
        if decision:
            reason = decision.get("note") or (None if decision.get("by") == "user" else decision.get("by"))
        body.update(render_record(rec, status, reason, app.ws.signals(rec["id"])))
        self.scroll_home(animate=False)
