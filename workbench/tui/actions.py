"""The one action table of the TUI: the key bindings, the footer, the help screen and the
command palette are all generated from it, so a key rebound in tui.json (`keymap`, by id)
shows the same in all of them.

Each action has a binding id (what a keymap names), default keys, the app action it runs, a
short description (footer, help), and a long name for the palette in VisiData's spirit
(`accept-row`). Operations are not listed here: their palette entries and help lines come
from the operations registry (workbench.ops.registry).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Action:
    id: str  # binding id: the keymap's name for it
    keys: str  # default keys, comma-separated
    action: str  # the app action it runs
    description: str
    name: str | None = None  # long name in the palette; None: not in the palette
    show: bool = True  # in the footer
    key_display: str | None = None
    priority: bool = False  # before any widget's own use of the key
    rows: str | None = None  # NAVIGATION: the row list's own action (RowList binds it)
    in_pane: tuple[str, ...] = ()  # NAVIGATION: what it runs in a pane that does not show the cursor's row
    on_row: bool = False  # it decides, marks or annotates the Browse cursor's row (or its marks), or moves that
    # cursor to a search match: app.check_action offers it only where the pane shows that row
    # (app.Pane.shows_row), never on a row hidden behind the pane

    def binding(self, action: str | None = None) -> Binding:
        return Binding(self.keys, action or self.action, self.description, show=self.show, id=self.id,
                       key_display=self.key_display, priority=self.priority)


# The movement keys. The row list binds them to its own actions (`rows`); the app binds them to
# navigate(id), which decides from the pane shown (app.Pane.shows_row): where the pane shows the
# row under the cursor (Sample, Template, ...) they move that cursor, and the pane follows; in the
# other panes (Stats, Jobs, Topics, ...) they run the focused widget's first action of `in_pane`
# that it has (its own cursor, else its scrolling), or nothing: never a row hidden behind the pane.
NAVIGATION = [
    Action("cursor-down", "down,j", "navigate('cursor-down')", "Down", show=False, rows="move(1)",
           in_pane=("cursor_down", "scroll_down")),
    Action("cursor-up", "up,k", "navigate('cursor-up')", "Up", show=False, rows="move(-1)",
           in_pane=("cursor_up", "scroll_up")),
    Action("page-down", "pagedown", "navigate('page-down')", "Page down", show=False, rows="page(1)",
           in_pane=("page_down",)),
    Action("page-up", "pageup", "navigate('page-up')", "Page up", show=False, rows="page(-1)", in_pane=("page_up",)),
    Action("first-row", "g,home", "navigate('first-row')", "First row", name="first-row", show=False,
           rows="jump_first", in_pane=("first", "scroll_home")),
    Action("last-row", "G,end", "navigate('last-row')", "Last row", name="last-row", show=False,
           rows="jump_last", in_pane=("last", "scroll_end")),
]

ACTIONS = [
    Action("accept", "a", "decide('accept')", "Accept", name="accept-row", on_row=True),
    Action("reject", "r", "decide('reject')", "Reject", name="reject-row", on_row=True),
    Action("undo", "u", "undo", "Undo", name="undo-decision"),
    Action("redo", "U,ctrl+y", "redo", "Redo", name="redo-decision", show=False),
    Action("note", "e", "edit_note", "Note and tags", name="edit-note-and-tags", show=False, on_row=True),
    # space marks and moves down, as ranger, mc, nnn, VisiData (s)
    Action("mark", "space", "toggle_mark", "Mark↓", name="toggle-mark", key_display="␣", on_row=True),
    Action("bulk-accept", "A", "bulk('accept')", "Accept marked/filtered", name="accept-marked-or-filtered",
           show=False, on_row=True),
    Action("bulk-reject", "R", "bulk('reject')", "Reject marked/filtered", name="reject-marked-or-filtered",
           show=False, on_row=True),
    Action("search", "slash", "search", "Search", name="search-text"),
    Action("next-match", "n", "next_match(1)", "Next match", name="next-match", show=False, on_row=True),
    Action("previous-match", "N", "next_match(-1)", "Previous match", name="previous-match", show=False,
           on_row=True),
    Action("filter", "f", "filter", "Filter", name="filter-rows"),
    Action("sort", "s", "sort", "Sort by a column or a score", name="sort-rows", show=False),
    Action("reverse-sort", "S", "reverse_sort", "Reverse the sort", name="reverse-sort", show=False),
    Action("clear-filter", "escape", "clear_filter", "Clear filter / back to Browse", name="clear-filter",
           show=False),
    Action("open-sample", "enter", "open_sample", "Read the row (Sample pane)", show=False),
    Action("pick-template", "t", "pick_template", "Template", name="pick-template"),
    Action("help", "question_mark,f1", "help", "Help", name="show-help"),
    # q asks first when work is running; ctrl+c cancels it and quits at once, from anywhere.
    Action("quit", "q", "request_quit", "Quit", show=False),
    Action("quit-now", "ctrl+c", "quit_now", "Quit now, cancelling running work", show=False, priority=True),
]

# The app actions of the keys that act on the Browse cursor's row or its marks, or move it (`on_row`).
ON_ROW = frozenset(a.action.partition("(")[0] for a in ACTIONS if a.on_row)

# Palette-only actions (no key).
PALETTE_ONLY = [
    ("pick-theme", "pick_theme", "Choose the colour theme (remembered)"),
    ("reject-all-below", "reject_below", "Reject every row whose score is below X (asks with the count; u undoes)"),
    ("export", "export", "Write the curated rows: format, --for trainer, --kind, --only, splits, --with-signals, output"),
]


def bindings(panes) -> list[Binding]:
    """The app's bindings: navigation, the actions, and one key per pane (`panes`: app.PANES)."""
    return [*(a.binding() for a in NAVIGATION + ACTIONS),
            *(Binding(p.key, f"show_pane('{p.id}')", p.title, show=False, id=f"pane-{p.id}") for p in panes)]


def palette_actions() -> list[Action]:
    """The actions that have a long name, in table order."""
    return [a for a in NAVIGATION + ACTIONS if a.name]
