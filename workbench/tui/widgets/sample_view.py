"""The Sample pane: one row as it reads — turns with roles, reasoning, tool calls, preference
pairs side by side, then what operations say about the row now (each signal's latest value).

Text shows as it is by default (GSM8K's `#### 5` and a `1.` list marker stay); `m` renders it
as markdown instead (reasoning blocks as labelled panels, tags such as `<answer>` kept as text),
`w` draws whitespace (space ·, tab →, newline ↵, no-break and zero-width characters). Control
characters always show through `visible`. Matches of the last search (`/`) are highlighted in
the raw text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from workbench.data.record import INLINE_REASONING, UNCLOSED_REASONING
from workbench.terminal import show_whitespace, visible, visible_data

ROLE_STYLE = {"system": "magenta", "user": "cyan", "assistant": "green", "tool": "yellow"}
MAX_CHARS = 20_000  # a huge turn is cut so that reading stays instant; the rest is counted
MATCH_STYLE = "black on yellow"


@dataclass(frozen=True)
class Look:
    """How the pane shows text: as markdown or as it is, whitespace drawn, the search to highlight
    (workbench.views.Search or None)."""

    markdown: bool = False
    whitespace: bool = False
    search: object = None


def reasoning_panel(text: str) -> Panel:
    """A reasoning block: dimmed, labelled, apart from the answer."""
    return Panel(Text(text, style="italic"), title="reasoning", title_align="left", border_style="dim")


class TextMarkdown(Markdown):
    """Markdown in which what looks like HTML stays text: in a dataset `<answer>…</answer>` or
    `Vec<String>` is content, and rich's parser would drop it as markup."""

    def __init__(self, markup: str) -> None:
        from markdown_it import MarkdownIt

        super().__init__("")
        self.markup = markup
        self.parsed = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table").parse(markup)


def _markdown(text: str, look: Look) -> RenderableType:
    """`text` rendered as markdown, its reasoning blocks (<think>, <|begin_of_thought|>,
    <reasoning>: the readers' INLINE_REASONING) shown as reasoning panels apart from the answer;
    a leading block never closed (an answer cut off while it reasoned) is reasoning to the end."""
    if m := UNCLOSED_REASONING.match(text):
        return reasoning_panel(next(g for g in m.groups() if g is not None).strip())
    parts: list[RenderableType] = []

    def md(piece: str) -> None:
        parts.append(TextMarkdown(show_whitespace(piece) if look.whitespace else piece))

    at = 0
    for m in INLINE_REASONING.finditer(text):
        if text[at:m.start()].strip():
            md(text[at:m.start()])
        parts.append(reasoning_panel(next(g for g in m.groups() if g is not None).strip()))
        at = m.end()
    if text[at:].strip() or not parts:
        md(text[at:])
    return Group(*parts) if len(parts) > 1 else parts[0]


def _body(text: str, look: Look) -> RenderableType:
    """One piece of the row's text as `look` asks."""
    cut, more = text[:MAX_CHARS], len(text) - MAX_CHARS
    if look.markdown:
        shown: RenderableType = _markdown(cut, look)
    else:
        # Drawn whitespace leaves no space to wrap at: fold the long lines, never cut them (a
        # table cell, as the preference pair's sides are, cuts with an ellipsis by default).
        shown = Text(overflow="fold" if look.whitespace else None)
        for piece, match in look.search.pieces(cut) if look.search is not None else [(cut, False)]:
            shown.append(show_whitespace(piece) if look.whitespace else piece, MATCH_STYLE if match else None)
    if more > 0:
        return Group(shown, Text(f"… {more:,} more characters", style="dim"))
    return shown


def turn_panel(turn: dict, look: Look = Look()) -> Panel:
    role = turn.get("role", "?")
    parts: list[RenderableType] = []
    if turn.get("reasoning"):
        parts.append(reasoning_panel(turn["reasoning"]))
    if turn.get("content"):
        parts.append(_body(turn["content"], look))
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


def source_name(source: str) -> str:
    """A row's source as the header names it: the file's name, or dataset/split for a split of a
    saved DatasetDict (a folder: its own name alone would say only "train")."""
    path = Path(source)
    return f"{path.parent.name}/{path.name}" if not path.suffix and path.parent.name else path.name


def provenance_line(prov: dict) -> Text:
    """Where a generated row comes from: operation, model, parent or document span, checks."""
    bits = [f"{prov.get('operation', '?')} · {prov.get('model', '?')}"]
    if prov.get("parent"):
        bits.append(f"from row {prov['parent']}")
    if prov.get("document"):
        span = prov.get("span") or ()
        bits.append(f"from {prov['document']}" + (f" chars {span[0]}–{span[1]}" if len(span) == 2 else ""))
    if prov.get("question_type"):
        bits.append(str(prov["question_type"]))
    check = prov.get("grounding")
    if isinstance(check, dict):
        bits.append(f"grounding: {check.get('llm', '?')}, lexical support {check.get('lexical_support', '?')}")
    return Text("provenance: " + visible("; ".join(bits)), style="dim")


def render_record(rec: dict, status: str, reason: str | None, signals: list[dict], look: Look = Look(),
                  number: int | None = None, tags: list[str] | None = None) -> RenderableType:
    """The row as panels, headed by its row number (`number`: the dataset index, as the Browse
    list and the CLI's --row give it) and its `tags`, its text shown as `look` says, then its
    `signals` (Workspace.signals: {"op", "name", "value"}) below the text; every string from the
    data is shown through `visible`."""
    # meta and origin are not shown (and may nest deep): only the shown fields are mapped
    rec = {k: v if k in ("meta", "origin") else visible_data(v) for k, v in rec.items()}
    reason, signals = reason and visible(reason), visible_data(signals)
    head = Text.assemble((f"#{number}  " if number is not None else "", "bold"), (f"{rec['id']}", "bold"),
                         f"  {rec['kind']}  ", (status, {"accept": "green", "reject": "red"}.get(status, "dim")),
                         (f" ({reason})" if reason else "", "dim"),
                         (f"  {source_name(rec['source'])}" if rec.get("source") else "", "dim"))
    parts: list[RenderableType] = [head]
    if tags:
        parts.append(Text.assemble(("tags ", "dim"), visible(", ".join(tags)), style="italic"))
    if rec.get("kind") == "kto" and rec.get("label") is not None:
        parts.append(Text("label: " + ("desirable" if rec["label"] else "undesirable"), style="bold"))
    if rec.get("tools"):
        parts.append(Panel(Text(rec["tools"]), title="tools", title_align="left", border_style="dim"))
    if rec.get("system"):
        parts.append(turn_panel({"role": "system", "content": rec["system"]}, look))
    if rec.get("kind") == "text":
        parts.append(_body(rec.get("text") or "", look))
    turns: list[RenderableType] = [turn_panel(t, look) for t in rec.get("messages") or ()]
    prov = (rec.get("meta") or {}).get("provenance") if isinstance(rec.get("meta"), dict) else None
    if isinstance(prov, dict):
        parts.append(provenance_line(prov))
        if isinstance(prov.get("chunk"), str) and turns:  # a pair made from a document: its chunk beside it
            beside = Table(expand=True, box=None, padding=(0, 1))
            beside.add_column(Text("source chunk", style="bold"), ratio=1)
            beside.add_column(Text("generated pair", style="bold"), ratio=1)
            beside.add_row(Panel(Text(visible(prov["chunk"])), border_style="dim"), Group(*turns))
            turns = [beside]
    parts += turns
    if rec.get("chosen") is not None or rec.get("rejected") is not None:
        pair = Table(expand=True, box=None, padding=(0, 1))
        pair.add_column(Text("chosen", style="bold green"), ratio=1)
        pair.add_column(Text("rejected", style="bold red"), ratio=1)
        pair.add_row(Group(*[turn_panel(t, look) for t in rec.get("chosen") or ()]),
                     Group(*[turn_panel(t, look) for t in rec.get("rejected") or ()]))
        parts.append(pair)
    if rec.get("images"):
        parts.append(Text("images: " + ", ".join(rec["images"]), style="dim"))
    if signals:  # after the text, which is what a reader comes for: one line per operation
        t = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1), title="signals", title_style="dim",
                  title_justify="left")
        by_op: dict[str, list[dict]] = {}
        for s in signals:
            by_op.setdefault(s["op"], []).append(s)
        for op, sigs in by_op.items():
            t.add_row(Text(op, style="dim"), Text(" · ").join(
                Text.assemble((s["name"], "dim"), " ", s["value"] if isinstance(s["value"], str)
                              else json.dumps(s["value"], ensure_ascii=False)) for s in sigs))
        parts.append(t)
    return Group(*parts)


class SamplePane(VerticalScroll):
    DEFAULT_CSS = "SamplePane { padding: 0 1; } SamplePane > Static { width: 1fr; }"
    BINDINGS = [
        Binding("m", "toggle('markdown')", "Markdown", id="sample-markdown"),
        Binding("w", "toggle('whitespace')", "Whitespace", id="sample-whitespace"),
    ]

    markdown = False
    whitespace = False

    def compose(self):
        yield Static("", id="sample-body")

    def action_toggle(self, what: str) -> None:
        setattr(self, what, not getattr(self, what))
        self.refresh_pane(scroll=False)

    def _mode_line(self) -> Text:
        """The visible state of the two toggles, above the row."""
        on = lambda flag: "bold reverse" if flag else "dim"  # noqa: E731
        return Text.assemble(("m", "bold"), " ", ("markdown" if self.markdown else "raw text", on(self.markdown)),
                             "  ", ("w", "bold"), " ", ("whitespace shown" if self.whitespace else "whitespace",
                                                         on(self.whitespace)))

    def refresh_pane(self, scroll: bool = True) -> None:
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
        look = Look(self.markdown, self.whitespace, app.search)
        tags = app.session.notes.get(rec["id"], {}).get("tags")
        signals = app.ws.signals(rec["id"], latest=True)  # the current values, not every old run's
        body.update(Group(self._mode_line(), render_record(rec, status, reason, signals, look, number=i, tags=tags)))
        if scroll:
            self.scroll_home(animate=False)
