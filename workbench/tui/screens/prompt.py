"""A one-line question in a modal: returns the text on enter, None on escape.

With `check`, enter keeps the prompt open while check(text) returns a problem (shown under
the field). With `paths`, the field completes file names as they are typed (tab takes the
completion): `PathSuggester`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Label, Static

from workbench.terminal import visible


def complete_path(text: str, *, dirs_only: bool = False, suffixes: tuple[str, ...] = ()) -> str | None:
    """The completion of a typed path: the longest name every entry of its folder that starts
    with what was typed shares (`/` after a single folder), else the first such entry; None when
    nothing matches. Folders always qualify; files only when not `dirs_only` and, with
    `suffixes`, only those ending so. `~` is expanded for listing and kept in the answer."""
    head, _, stem = text.rpartition("/")
    folder = Path(os.path.expanduser(head + "/" if head or text.startswith("/") else "."))
    try:
        entries = sorted((e for e in os.scandir(folder) if e.name.startswith(stem) and not
                          (e.name.startswith(".") and not stem.startswith("."))), key=lambda e: e.name)
    except OSError:
        return None

    def fits(e: os.DirEntry) -> bool:
        if e.is_dir():
            return True
        return not dirs_only and (not suffixes or e.name.endswith(suffixes))

    names = [e.name + ("/" if e.is_dir() else "") for e in entries if fits(e)]
    if not names:
        return None
    common = os.path.commonprefix(names)
    prefix = head + "/" if head or text.startswith("/") else ""
    return prefix + (common if len(common) > len(stem) else names[0])


class PathSuggester(Suggester):
    """Suggests `complete_path` of what is typed (the Input shows the rest dimmed)."""

    def __init__(self, *, dirs_only: bool = False, suffixes: tuple[str, ...] = ()) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.dirs_only, self.suffixes = dirs_only, suffixes

    def complete(self, value: str) -> str | None:
        return complete_path(value, dirs_only=self.dirs_only, suffixes=self.suffixes) if value else None

    async def get_suggestion(self, value: str) -> str | None:
        return self.complete(value)


class PromptScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="prompt-cancel"),
                Binding("tab", "complete", "Complete", show=False, id="prompt-complete")]
    DEFAULT_CSS = """
    PromptScreen { align: center middle; }
    PromptScreen > Vertical { width: 90%; max-width: 100; height: auto; border: round $primary;
                              background: $surface; padding: 0 1; }
    PromptScreen #prompt-problem { color: $error; display: none; }
    PromptScreen #prompt-problem.-shown { display: block; }
    """

    def __init__(self, title: str, *, value: str = "", placeholder: str = "",
                 check: Callable[[str], str | None] | None = None, suggester: Suggester | None = None) -> None:
        super().__init__()
        self.title_text, self.value, self.placeholder = title, value, placeholder
        self.check, self.suggester = check, suggester

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, markup=False)  # wraps at 80 columns, not cut
            yield Input(value=self.value, placeholder=self.placeholder, suggester=self.suggester)
            yield Label("", id="prompt-problem", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        problem = self.check(value) if self.check is not None else None
        if problem:
            label = self.query_one("#prompt-problem", Label)
            label.update(visible(problem))
            label.add_class("-shown")
            return
        self.dismiss(value)

    def action_complete(self) -> None:
        """Complete the path typed (tab), as a shell does; at once, not waiting for the suggestion."""
        field = self.query_one(Input)
        done = self.suggester.complete(field.value) if isinstance(self.suggester, PathSuggester) else None
        if done:
            field.value = done
            field.cursor_position = len(done)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
