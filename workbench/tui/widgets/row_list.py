"""The Browse list: a Line-API ScrollView over a BrowseModel.

No widget per row: `render_line` draws only the visible lines, reading rows block-wise from
the model, and keeps rendered strips in an LRU keyed by (position, width, cursor,
generation). Any change of data bumps the generation, so stale lines are never shown.
"""

from __future__ import annotations

import bisect

from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from workbench.tui.actions import NAVIGATION

from typing import TYPE_CHECKING

from workbench.terminal import visible

if TYPE_CHECKING:
    import pyarrow as pa

    from workbench.tui.browse_model import BrowseModel

STATUS_GLYPH = {"accept": "✓", "reject": "✗", "pending": "·"}
KIND_SHORT = {"preference": "pref"}
SOURCE_WIDTH = 10  # the file name column, shown when several files are open

def _fmt_signal(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.3g}"
    return visible(str(v))


def plain_row(number: int, row: dict, num_w: int) -> str:
    """A row in the list's columns (number, kind, length, turns, preview), without status or styles."""
    return (f"    {number:>{num_w}} {KIND_SHORT.get(row['kind'], row['kind'])[:4]:<4} "
            f"{row['length']:>6} {row['n_turns']:>4} {visible(row['preview'] or '')}")


class RowList(ScrollView, can_focus=True, inherit_bindings=False):
    BINDINGS = [a.binding(a.rows) for a in NAVIGATION]

    COMPONENT_CLASSES = {
        "row-list--cursor", "row-list--accept", "row-list--reject", "row-list--marked", "row-list--dim",
        "row-list--match",
    }
    DEFAULT_CSS = """
    RowList { height: 1fr; overflow-x: hidden; }
    RowList > .row-list--cursor { background: $primary 40%; text-style: bold; }
    RowList:focus > .row-list--cursor { background: $primary 60%; }
    RowList > .row-list--accept { color: $success; }
    RowList > .row-list--reject { color: $error; }
    RowList > .row-list--marked { color: $accent; text-style: bold; }
    RowList > .row-list--dim { color: $foreground 60%; }
    RowList > .row-list--match { background: $warning 70%; color: $text; }
    """

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    class Highlighted(Message):
        """The cursor moved to list position `pos`."""

        def __init__(self, pos: int) -> None:
            self.pos = pos
            super().__init__()

    def __init__(self, model: BrowseModel, **kw) -> None:
        super().__init__(**kw)
        self.model = model
        self._lines: LRUCache[tuple, Strip] = LRUCache(1024)
        self._generation = 0
        self._styles: dict[str, Style] | None = None

    def notify_style_update(self) -> None:
        # Theme or CSS changed: rendered lines and cached styles are stale.
        super().notify_style_update()
        self._styles = None
        self._lines.clear()

    def styles_for_rows(self) -> dict[str, Style]:
        """Rich styles of the row parts, computed once per theme rather than once per line."""
        if self._styles is None:
            base = self.rich_style
            part = lambda name: self.get_component_rich_style(name, partial=True)  # noqa: E731
            self._styles = {
                "base": base,
                "cursor": base + self.get_component_rich_style("row-list--cursor"),
                "accept": part("row-list--accept"), "reject": part("row-list--reject"),
                "marked": part("row-list--marked"), "dim": part("row-list--dim"),
                "match": part("row-list--match"),
            }
        return self._styles

    # -- data changes -------------------------------------------------------------------

    def data_changed(self, keep_cursor: bool = True) -> None:
        """The model's rows, statuses or marks changed: redraw and clamp the cursor."""
        self._generation += 1
        self._lines.clear()
        self.virtual_size = Size(self.size.width, len(self.model))
        # Now, not at the next layout: they decide whether (and their thumb shows where) the
        # list scrolls to the cursor's row below; a list that fitted the screen had none.
        self._refresh_scrollbars()
        n = len(self.model)
        self.set_reactive(RowList.cursor, 0 if not keep_cursor or n == 0 else min(self.cursor, n - 1))
        self._show_cursor()
        self.refresh()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.model))
        self._lines.clear()
        self._show_cursor()  # a cursor set before the first layout (or a smaller terminal) stays in view

    def on_mount(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.model))

    def _show_cursor(self, center: bool = False) -> None:
        """Scroll the cursor's row into sight: to the nearest edge, or mid-screen if `center`."""
        height = self.scrollable_content_region.height or 1
        top = int(self.scroll_y)
        if top <= self.cursor < top + height:
            return
        y = self.cursor - height // 2 if center else self.cursor if self.cursor < top else self.cursor - height + 1
        self.scroll_to(y=max(0, y), animate=False, immediate=True)

    def watch_cursor(self, old: int, new: int) -> None:
        self._show_cursor()
        self.refresh()
        self.post_message(self.Highlighted(new))

    # -- movement -----------------------------------------------------------------------

    def go(self, pos: int, center: bool = False) -> None:
        """Move the cursor to list position `pos` (clamped); `center`: a jump (a changed view,
        a search match, a row another pane names) that lands off screen shows the row mid-screen."""
        n = len(self.model)
        if n:
            pos = max(0, min(pos, n - 1))
            if center:
                self.set_reactive(RowList.cursor, pos)
                self._show_cursor(center=True)
            self.cursor = pos

    def action_move(self, delta: int) -> None:
        self.go(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        height = max(1, self.scrollable_content_region.height)
        self.scroll_to(y=self.scroll_y + direction * height, animate=False, immediate=True)
        self.go(self.cursor + direction * height)

    def action_jump_first(self) -> None:
        self.go(0)

    def action_jump_last(self) -> None:
        self.go(len(self.model) - 1)

    # -- drawing ------------------------------------------------------------------------

    def layout(self, width: int) -> tuple[int, int, int]:
        """Widths of the number column, the source column (0: one file open) and the signal column."""
        num_w = max(3, len(str(len(self.model.ds) - 1)))
        name = self.model.signal_column
        sig_w = min(14, max(6, len(name) + 1)) if name else 0
        src_w = SOURCE_WIDTH if self.model.show_source else 0
        return num_w, src_w, sig_w

    def header(self, width: int) -> str:
        """The column names; the sorted column's carries ↓ (highest first) or ↑."""
        from workbench.views import SORT_COLUMNS

        num_w, src_w, sig_w = self.layout(width)
        s = self.model.session
        arrow = ("↓" if s.sort_descending else "↑") if s.sort_by else ""
        names = {"length": "len", "turns": "trn"}
        col = {k: names[k] + (arrow if s.sort_by == k else "") for k in SORT_COLUMNS}
        sig = ""
        if sig_w:
            name, mark = self.model.signal_column, arrow if s.sort_by == self.model.signal_column else ""
            if len(name) + len(mark) > sig_w:  # too long: the signal's own name, without its operation
                name = name.rsplit(".", 1)[-1]
                if len(name) + len(mark) > sig_w:
                    name = name[: sig_w - len(mark) - 1] + "…"
            sig = f"{name + mark:>{sig_w}} "
        src = f"{'source':<{src_w}} " if src_w else ""
        text = f"   {'#':>{num_w}} kind {src}{col['length']:>6} {col['turns']:>4} {sig}preview"
        return text[:width].ljust(width)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        pos = int(self.scroll_y) + y
        if pos >= len(self.model):
            return Strip.blank(width, self.rich_style)
        key = (pos, width, pos == self.cursor, self._generation)
        strip = self._lines.get(key)
        if strip is None:
            strip = self._render_row(pos, width)
            self._lines[key] = strip
        return strip

    def _render_row(self, pos: int, width: int) -> Strip:
        m = self.model
        row = m.row(pos)
        rid = row["id"]
        status = m.status(rid)
        marked = rid in m.marked
        num_w, src_w, sig_w = self.layout(width)
        st = self.styles_for_rows()
        base = st["cursor"] if pos == self.cursor else st["base"]
        dim = st["dim"]
        segs = [
            Segment("▶" if pos == self.cursor else " ", base),
            Segment("●" if marked else " ", base + st["marked"]),
            Segment(STATUS_GLYPH.get(status, "?"), base + st.get(status, dim)),
            Segment("✎" if m.noted(rid) else " ", base),  # a note or tags: e reads them
            Segment(f"{m.index(pos):>{num_w}} ", base + dim),  # the row number the CLI's --row takes
            Segment(f"{KIND_SHORT.get(row['kind'], row['kind'])[:4]:<4} ", base),
        ]
        if src_w:
            name = visible(m.source_names.get(row["source"], row["source"] or ""))
            segs.append(Segment(f"{name[:src_w]:<{src_w}} ", base + dim))
        segs.append(Segment(f"{row['length']:>6} {row['n_turns']:>4} ", base + dim))
        if sig_w:
            segs.append(Segment(f"{_fmt_signal(m.signal(rid))[:sig_w]:>{sig_w}} ", base))
        preview = visible(row["preview"] or "")
        for piece, match in m.search.pieces(preview) if m.search is not None else [(preview, False)]:
            segs.append(Segment(piece, base + st["match"] if match else base))
        return Strip(segs).crop(0, width).extend_cell_length(width, base)


class ConvertedRows:
    """The list columns of the rows a first conversion has handed over so far (Dataset.open's
    `converted`), as Arrow batches: at most `keep` rows are kept (about 200 bytes each)."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._ends: list[int] = []  # list position after each kept batch
        self._batches: list[tuple[int, pa.RecordBatch]] = []  # (dataset index of its first row, batch)

    def add(self, start: int, batch: pa.RecordBatch) -> bool:
        """Keep the batch's rows up to `keep` in all; False when none was kept."""
        kept = len(self)
        if kept >= self.keep:
            return False
        batch = batch.slice(0, self.keep - kept)
        self._batches.append((start, batch))
        self._ends.append(kept + batch.num_rows)
        return True

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def _find(self, pos: int) -> tuple[int, pa.RecordBatch, int]:
        b = bisect.bisect_right(self._ends, pos)
        start, batch = self._batches[b]
        return start, batch, pos - (self._ends[b] - batch.num_rows)

    def index(self, pos: int) -> int:
        """The dataset row index at list position `pos` (the number Browse will show)."""
        start, _, i = self._find(pos)
        return start + i

    def row(self, pos: int) -> dict:
        _, batch, i = self._find(pos)
        return batch.slice(i, 1).to_pylist()[0]


class ConvertingRows(RowList):
    """The rows of a first conversion as they arrive, read-only, with the Browse list's
    columns and moving keys (as VisiData shows a file while it loads); Browse replaces it when
    the conversion ends, on the same row."""

    def __init__(self, keep: int, **kw) -> None:
        super().__init__(ConvertedRows(keep), **kw)  # type: ignore[arg-type]

    def add(self, start: int, batch: pa.RecordBatch) -> None:
        if self.model.add(start, batch):  # past `keep`, nothing changes on screen
            self.virtual_size = Size(self.size.width, len(self.model))
            self.refresh()

    def watch_cursor(self, old: int, new: int) -> None:
        self._show_cursor()  # no Highlighted: there is no session to show the row in yet
        self.refresh()

    def _render_row(self, pos: int, width: int) -> Strip:
        m = self.model
        num_w = max(3, len(str(m.index(len(m) - 1))))
        st = self.styles_for_rows()
        text = ("▶" if pos == self.cursor else " ") + plain_row(m.index(pos), m.row(pos), num_w)[1:]
        style = st["cursor"] if pos == self.cursor else st["base"]
        return Strip([Segment(text, style)]).crop(0, width).extend_cell_length(width, style)
