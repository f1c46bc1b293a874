"""What the Browse list draws: the rows of the Session's current view, read block-wise, and
the rows the user marked. The view itself (filters, sort, decisions) is the Session's.

Rows are read in blocks of `BLOCK` positions through `table.take`, so drawing a screen costs
the same at 1,000 or 1,000,000 rows.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import pyarrow as pa

from workbench.views import TOKENS

LIST_COLUMNS = ("id", "kind", "source", "length", "n_turns", "preview")
BLOCK = 128
MAX_BLOCKS = 64


class BrowseModel:
    """The list's rows over `session` (workbench.session.Session), its marks and the signal
    shown as a column."""

    def __init__(self, session):
        self.session = session
        self.ds = session.ds
        self.table: pa.Table = self.ds.table.select(list(LIST_COLUMNS))
        self.marked: set[str] = set()
        self.signal_column: str | None = None  # the signal shown as a column
        self.search = None  # the last search (workbench.views.Search): its matches are highlighted
        # several files open: a column names each row's file by the shortest name that tells them
        # apart (stem, file name, path), which `source=` also takes
        sources = session.sources()
        self.source_names = next(names for names in ({s: Path(s).stem for s in sources}, {s: Path(s).name for s in sources},
                                                     {s: s for s in sources}) if len(set(names.values())) == len(names))
        self.show_source = len(sources) > 1
        self._blocks: OrderedDict[int, list[dict]] = OrderedDict()
        self._view = session.view  # the view the blocks were read from

    def __len__(self) -> int:
        return len(self.session)

    def index(self, pos: int) -> int:
        """Dataset row index at list position `pos`."""
        return self.session.index(pos)

    def row(self, pos: int) -> dict:
        """List fields of the row at `pos` (id, kind, source, length, n_turns, preview), block-cached."""
        view = self.session.view
        if view is not self._view:  # filters or sort changed since the blocks were read
            self._blocks.clear()
            self._view = view
        block, off = divmod(pos, BLOCK)
        rows = self._blocks.get(block)
        if rows is None:
            start = block * BLOCK
            stop = min(start + BLOCK, len(self))
            part = self.table.slice(start, stop - start) if view is None else self.table.take(pa.array(view[start:stop]))
            rows = part.to_pylist()
            self._blocks[block] = rows
            if len(self._blocks) > MAX_BLOCKS:
                self._blocks.popitem(last=False)
        else:
            self._blocks.move_to_end(block)
        return rows[off]

    def row_id(self, pos: int) -> str:
        return self.row(pos)["id"]

    def status(self, row_id: str) -> str:
        return self.session.status(row_id)

    def noted(self, row_id: str) -> bool:
        """The row has a note or tags."""
        return row_id in self.session.notes

    def signal(self, row_id: str) -> Any:
        """The value shown in the signal column: the signal's, or the row's tokens once counted."""
        if not self.signal_column:
            return None
        if self.signal_column == TOKENS and self.session.tokens is not None:
            return int(self.session.tokens[self.ds.index_of(row_id)])
        return self.session.signal_values(self.signal_column).get(row_id)

    def toggle_mark(self, pos: int) -> bool:
        rid = self.row_id(pos)
        if rid in self.marked:
            self.marked.discard(rid)
            return False
        self.marked.add(rid)
        return True
