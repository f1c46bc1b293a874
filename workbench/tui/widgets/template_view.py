"""The Template pane: the current row rendered through the chosen chat template, byte for byte,
with special tokens and trained spans marked, token counts, and template errors in place.

Rendering is quick (sandboxed Jinja); token counting loads a tokenizer, so it runs in a thread
worker and fills in the counts when ready.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual import work
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from workbench.terminal import visible

LEGEND = Text.assemble(("trained", "bold green underline"), " · ", ("not trained", "dim"), " · ",
                       ("special token", "bold reverse magenta"))
MAX_CHARS = 50_000


def styled_rendering(r) -> Text:
    """The rendered text, styled by span: trained (green, underlined), special (reverse).
    Control characters show through `visible`, piece by piece so that the spans stay on
    the characters they mark."""
    text = r.text[:MAX_CHARS]
    styles: list[list[str]] = [[] for _ in text]
    marks = [(s, e, "bold green underline" if t else "dim") for s, e, t in r.spans]
    for start, end, style in marks + [(s, e, "bold reverse magenta") for s, e in r.special]:
        for i in range(start, min(end, len(text))):
            styles[i].append(style)
    out = Text()
    cuts = [0] + [i for i in range(1, len(text)) if styles[i] != styles[i - 1]] + [len(text)]
    for a, b in zip(cuts, cuts[1:]):
        out.append(visible(text[a:b]), " ".join(styles[a]) or None)
    if len(r.text) > MAX_CHARS:
        out.append(f"\n… {len(r.text) - MAX_CHARS:,} more characters", style="dim")
    return out


class TokenCounts(Message):
    def __init__(self, key: tuple, counts: list[str]) -> None:
        self.key, self.counts = key, counts
        super().__init__()


class TemplatePane(VerticalScroll):
    DEFAULT_CSS = "TemplatePane { padding: 0 1; }"

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._key: tuple | None = None
        self._renderings: list = []
        self._notes: list[list[str]] = []  # per rendering: warnings and what lint flags in it
        self._counts: list[str] = []
        self._tokenizer: str | None = None  # the tokenizer spec that counts (the template's own, else SmolLM2)

    def compose(self):
        yield Static("", id="template-body")

    def refresh_pane(self) -> None:
        app = self.app
        body = self.query_one("#template-body", Static)
        if not app.template_name:
            body.update("Press t to choose a chat template.")
            return
        i = app.current_row()
        if i is None:
            body.update("No row: the filter shows nothing (esc clears it).")
            return
        key = (app.template_name, i)
        if key == self._key:
            return
        from workbench.templates import get_template, render_sides
        from workbench.templates.lint import rendering_notes

        self._key, self._counts = key, []
        rec = app.ds.record(i)
        try:
            tpl = get_template(app.template_name)
            self._renderings = render_sides(rec, tpl)
        except ValueError as e:  # an unknown template spec; template faults come back in .error
            self._renderings = self._notes = []
            body.update(Text(visible(f"{app.template_name}: {e}"), style="bold red"))
            return
        self._tokenizer = tpl.tokenizer
        self._notes = [rendering_notes(r, record_system=rec.get("system")) for r in self._renderings]
        if not app.token_counts:
            self._counts = ["token counts off in tui.json"] * len(self._renderings)
        self._draw()
        self.scroll_home(animate=False)
        if app.token_counts:
            self.count_tokens(key, self._renderings, self._tokenizer)

    @work(thread=True, exclusive=True, group="tokens", exit_on_error=False)
    def count_tokens(self, key: tuple, renderings: list, tokenizer: str | None) -> None:
        from workbench.templates import tokenize

        counts = []
        try:
            for r in renderings:
                if r.error:
                    counts.append("")
                    continue
                c = tokenize(r, tokenizer)
                counts.append(f"{c.total:,} tokens · {c.trained:,} trained · {c.untrained:,} not trained")
        except Exception as e:  # noqa: BLE001 - shown in place of the counts
            counts = [f"no token counts: {type(e).__name__}: {e}"] * len(renderings)
        self.post_message(TokenCounts(key, counts))

    def on_token_counts(self, msg: TokenCounts) -> None:
        if msg.key == self._key:
            self._counts = msg.counts
            self._draw()

    def _draw(self) -> None:
        from workbench.templates import tokenizer_name

        parts = [Text.assemble((visible(self.app.template_name), "bold"), "  ", LEGEND)]
        if self.app.token_counts:
            unnamed = "" if self._tokenizer else " — the template names no tokenizer"
            parts.append(Text(visible(f"tokens counted by {tokenizer_name(self._tokenizer)}{unnamed}"), style="dim"))
        for n, r in enumerate(self._renderings):
            counts = self._counts[n] if n < len(self._counts) else "counting tokens (the first count loads the tokenizer)…"
            parts.append(Text.assemble(("\n── " + r.side, "bold"), f" · {len(r.text):,} chars · ",
                                       (visible(counts), "cyan")))
            if r.error:
                parts.append(Text(visible(f"template error ({r.error_kind}): {r.error}"), style="bold red"))
            for w in self._notes[n]:
                parts.append(Text(visible(f"note: {w}"), style="yellow"))
            if r.text:
                parts.append(styled_rendering(r))
        self.query_one("#template-body", Static).update(Group(*parts))
