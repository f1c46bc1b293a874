"""The template workshop pane: a chat template edited in a text area (Jinja tags, expressions
and comments highlighted), tried as it is typed.

Every pause in typing (DEBOUNCE) starts one thread worker that renders the current row in the
sandbox (trained spans and special tokens marked, as in the Template pane), counts its tokens
with the template's tokenizer, and lints the dataset (an even sample of a big one, said so),
counts per issue kind; the editor never waits for it, and a result older than the text is
dropped. A template error is shown with its line, and that line is marked in the editor.
`ctrl+o` starts again from another template (the picker: built-ins, tokenizer:DIR,
jinja:FILE, gguf:FILE); `ctrl+s` saves as a .jinja file, or with `tokenizer:DIR` into that
tokenizer folder (workbench.templates.workshop). In the editor tab indents and `esc` leaves
it (the app's keys work again; a second `esc` goes back to Browse).
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict

from rich.console import Group
from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static, TextArea
from textual.widgets.text_area import TextAreaTheme

from workbench.terminal import visible
from workbench.tui.widgets.template_view import LEGEND, styled_rendering

DEBOUNCE = 0.4  # seconds of no typing before the template is tried
# Jinja's delimiters with what they hold: comments, statements (keyword first), expressions.
_JINJA = re.compile(r"\{#.*?#\}|\{%-?\s*(\w+)?.*?-?%\}|\{\{.*?\}\}", re.S)
_STRING = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")


def jinja_highlights(text: str, error_line: int | None = None) -> dict[int, list[tuple[int, int | None, str]]]:
    """TextArea highlights for Jinja `text`: {line: [(start byte, end byte or None, name)]}, the
    names those of a TextArea theme (comment, keyword, punctuation.special, string, and the error
    style on `error_line`, 1-based)."""
    out: dict[int, list[tuple[int, int | None, str]]] = defaultdict(list)
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def mark(a: int, b: int, name: str) -> None:
        """Characters a..b of the text, split by line, in byte columns."""
        row = next(r for r in range(len(lines)) if starts[r + 1] > a)
        while a < b and row < len(lines):
            end = min(b, starts[row] + len(lines[row]))
            line = lines[row]
            col_a = len(line[: a - starts[row]].encode())
            col_b = len(line[: end - starts[row]].encode())
            if col_b > col_a:
                out[row].append((col_a, col_b, name))
            row += 1
            a = starts[row] if row < len(starts) else b

    for m in _JINJA.finditer(text):
        if m.group().startswith("{#"):
            mark(m.start(), m.end(), "comment")
            continue
        mark(m.start(), m.end(), "punctuation.special")
        for s in _STRING.finditer(m.group()):
            mark(m.start() + s.start(), m.start() + s.end(), "string")
        if m.group(1):
            mark(m.start(1), m.end(1), "keyword")
    if error_line is not None and 0 < error_line <= len(lines):
        out[error_line - 1].append((0, None, "html.end_tag_error"))
    return out


def _light_editor_theme() -> TextAreaTheme:
    """GitHub's light editor theme with the error line style it lacks (monokai's, red underline)."""
    light, dark = TextAreaTheme.get_builtin_theme("github_light"), TextAreaTheme.get_builtin_theme("monokai")
    return dataclasses.replace(light, name="workbench-light", syntax_styles={
        **light.syntax_styles, "html.end_tag_error": dark.syntax_styles["html.end_tag_error"]})


class JinjaArea(TextArea):
    """A TextArea with `jinja_highlights` in place of a tree-sitter grammar (none exists for Jinja),
    light or dark as the app's theme is, live."""

    error_line: int | None = None

    def on_mount(self) -> None:
        self.register_theme(_light_editor_theme())
        self.watch(self.app, "theme", self._follow_app_theme)  # now, then on every change

    def _follow_app_theme(self) -> None:
        self.theme = "monokai" if self.app.current_theme.dark else "workbench-light"

    def _build_highlight_map(self) -> None:
        self._line_cache.clear()
        self._highlights.clear()
        self._highlights.update(jinja_highlights(self.text, self.error_line))

    def mark_error(self, line: int | None) -> None:
        if line != self.error_line:
            self.error_line = line
            self._build_highlight_map()
            self.refresh()


class Tried(Message):
    """What a try of the template found: `part` is "row" (rendering, counts) or "lint"."""

    def __init__(self, generation: int, part: str, body) -> None:
        self.generation, self.part, self.body = generation, part, body
        super().__init__()


class WorkshopPane(Vertical):
    DEFAULT_CSS = """
    WorkshopPane #workshop-head { height: 1; padding: 0 1; color: $text-muted; }
    WorkshopPane JinjaArea { width: 1fr; }
    WorkshopPane #workshop-out { width: 1fr; padding: 0 1; border-left: solid $panel; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="workshop-save"),
        Binding("ctrl+o", "start_from", "Start from…", id="workshop-start-from"),
    ]

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.base: str | None = None  # the template spec the text started from
        self.generation = 0  # bumped by every edit: older results are dropped
        self._row: Group | None = None
        self._lint: Text | None = None
        self._timer = None

    def compose(self):
        yield Static("", id="workshop-head", markup=False)
        with Horizontal():
            yield JinjaArea("", soft_wrap=True, show_line_numbers=True, tab_behavior="indent",
                            id="workshop-editor")
            with VerticalScroll(id="workshop-out"):
                # the lint counts first: a few lines, under a long rendering they were off screen
                yield Static("", id="workshop-lint")
                yield Static("", id="workshop-row")

    def on_mount(self) -> None:
        self.start_from(self.app.template_name or "chatml")

    def start_from(self, spec: str) -> None:
        """Load `spec`'s Jinja text into the editor (the bos/eos and tokenizer come along)."""
        from workbench.templates import get_template

        try:
            source = get_template(spec).source
        except ValueError as e:
            self.app.notify(str(e), severity="error")
            return
        self.base = spec
        self.query_one(JinjaArea).load_text(source)  # a Changed message follows: tried after DEBOUNCE
        self._head()

    def _head(self) -> None:
        self.query_one("#workshop-head", Static).update(visible(
            f"from {self.base} · ctrl+o start from… · ctrl+s save · esc leaves the editor"))

    # -- trying the template --------------------------------------------------------------

    def refresh_pane(self) -> None:
        self._schedule()  # the cursor moved to another row

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._schedule()

    def _schedule(self) -> None:
        self.generation += 1
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, self._try)

    def _try(self) -> None:
        from workbench.templates.workshop import edited

        app = self.app
        i = app.current_row()
        tpl = edited(self.base, self.query_one(JinjaArea).text)
        self.try_template(self.generation, tpl, None if i is None else app.ds.record(i), app.token_counts)

    @work(thread=True, exclusive=True, group="workshop", exit_on_error=False)
    def try_template(self, generation: int, tpl, rec: dict | None, count_tokens: bool) -> None:
        from textual.worker import get_current_worker

        from workbench.templates import render_sides, tokenize, tokenizer_name
        from workbench.templates.lint import rendering_notes
        from workbench.templates.workshop import lint_sample

        worker = get_current_worker()
        parts: list = []
        error_line = None
        if rec is None:
            parts.append(Text("No row: the filter shows nothing (esc clears it)."))
        else:
            for r in render_sides(rec, tpl):
                if r.error:
                    error_line = error_line or r.error_line
                    where = f" · line {r.error_line}" if r.error_line else ""
                    parts.append(Text(visible(f"── {r.side}{where}: {r.error}"), style="bold red"))
                    continue
                head = f"── {r.side} · {len(r.text):,} chars"
                if count_tokens:
                    try:
                        c = tokenize(r, tpl.tokenizer)
                        head += f" · {c.total:,} tokens · {c.trained:,} trained ({tokenizer_name(tpl.tokenizer)})"
                    except Exception as e:  # noqa: BLE001 - shown in place of the counts
                        head += f" · no token counts: {e}"
                parts.append(Text(visible(head), style="bold"))
                parts += [Text(visible(f"note: {w}"), style="yellow")
                          for w in rendering_notes(r, record_system=rec.get("system"))]
                parts.append(styled_rendering(r))
        self.post_message(Tried(generation, "row", (Group(LEGEND, *parts), error_line)))
        if worker.is_cancelled:
            return
        try:
            found = lint_sample(self.app.ds, tpl)
        except ValueError as e:
            self.post_message(Tried(generation, "lint", Text(visible(f"lint: {e}"), style="red")))
            return
        rep = found.report
        over = (f"{rep.rows:,} rows sampled evenly of {found.of:,}" if found.sampled else f"all {rep.rows:,} rows")
        lines = [Text(f"lint over {over}: {rep.rows_with_issues:,} with issues", style="bold")]
        lines += [Text(f"  {code:<18} {n:>6,} rows") for code, n in rep.counts.items()] + [Text("")]
        self.post_message(Tried(generation, "lint", Group(*lines)))

    def on_tried(self, msg: Tried) -> None:
        if msg.generation != self.generation:
            return  # the text or the row changed since: a newer try is coming
        if msg.part == "row":
            body, error_line = msg.body
            self.query_one(JinjaArea).mark_error(error_line)
            self.query_one("#workshop-row", Static).update(body)
        else:
            self.query_one("#workshop-lint", Static).update(msg.body)

    # -- actions ---------------------------------------------------------------------------

    def action_start_from(self) -> None:
        self.app.pick_template_spec(self.start_from)

    def action_save(self) -> None:
        from workbench.tui.screens.prompt import PathSuggester, PromptScreen

        name = re.sub(r"[^\w.-]+", "-", (self.base or "template").split(":")[-1].split("/")[-1]).removesuffix(".jinja")
        self.app.push_screen(PromptScreen(
            "Save as FILE.jinja, or tokenizer:DIR (its chat_template.jinja and tokenizer_config.json)",
            value=f"{name}.jinja", suggester=PathSuggester(), check=self._save), lambda _: None)

    def _save(self, where: str) -> str | None:
        """Save to `where` (the prompt's check: a problem keeps the prompt open)."""
        from workbench.templates.workshop import save_jinja, save_to_tokenizer

        source = self.query_one(JinjaArea).text
        if not where:
            return "type a file name, or tokenizer:DIR"
        try:
            if where.startswith("tokenizer:"):
                written = save_to_tokenizer(where[len("tokenizer:"):], source)
            else:
                written = [save_jinja(where, source)]
        except (OSError, ValueError) as e:
            return str(e)
        self.app.notify("saved " + ", ".join(str(p) for p in written))
        return None
