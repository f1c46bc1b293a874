"""What the Browse list shows, kept free of Textual so it can be tested and reused.

The list is a *view* over the dataset's Arrow table: `None` (every row in file order) or a
numpy array of row indices after filters and sorting. Rows are read in blocks of `BLOCK`
positions through `table.take`, so drawing a screen costs the same at 1,000 or 1,000,000
rows; only the ids of rows with a decision are ever held as Python objects.
pyarrow.compute (slow to import) is imported by the filters that need it, not at start-up.
"""

from __future__ import annotations

import operator
import re
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

STATUSES = ("accept", "reject", "pending")
KIND_NAMES = ("sft", "preference", "kto", "text")
LIST_COLUMNS = ("id", "kind", "length", "n_turns", "preview")
BLOCK = 128
MAX_BLOCKS = 64
INLINE_HASH_ROWS = 512  # decisions on more rows at once hash those rows in the background

_OPS = {">=": operator.ge, "<=": operator.le, "!=": operator.ne, "==": operator.eq,
        "=": operator.eq, ">": operator.gt, "<": operator.lt}
_SIGNAL_RE = re.compile(r"^\s*([\w.\-]+)\s*(>=|<=|!=|==|=|>|<)\s*(.+?)\s*$")


@dataclass
class Filters:
    """The active restrictions on the list; `describe()` is what the title bar shows."""

    status: str | None = None
    kind: str | None = None
    signal: str | None = None  # e.g. "judge.score>=4"
    # An explicit set of row indices (search matches, a topic-map cluster) and its label.
    rows: np.ndarray | None = field(default=None, repr=False)
    rows_label: str | None = None

    def active(self) -> bool:
        return any((self.status, self.kind, self.signal)) or self.rows is not None

    def describe(self) -> str:
        parts = []
        if self.status:
            parts.append(f"status={self.status}")
        if self.kind:
            parts.append(f"kind={self.kind}")
        if self.signal:
            parts.append(self.signal)
        if self.rows is not None:
            parts.append(self.rows_label or f"{len(self.rows)} rows")
        return " ".join(parts)


def parse_filter(text: str) -> Filters:
    """Parse `status=accept kind=sft judge.score>=4` (any subset, any order) into Filters.

    Raises ValueError with a message fit for the screen when a part is not understood.
    """
    f = Filters()
    for part in text.split():
        m = _SIGNAL_RE.match(part)
        if not m:
            raise ValueError(f"cannot read {part!r}: expected status=..., kind=... or SIGNAL>=VALUE")
        name, op, value = m.groups()
        if name == "status" and op in ("=", "=="):
            if value not in STATUSES:
                raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {value!r}")
            f.status = value
        elif name == "kind" and op in ("=", "=="):
            value = {"pref": "preference"}.get(value, value)  # the list shows "pref"
            if value not in KIND_NAMES:
                raise ValueError(f"kind must be one of {', '.join(KIND_NAMES)}, not {value!r}")
            f.kind = value
        else:
            if f.signal:  # one signal column is shown and filtered; say so, do not drop one
                raise ValueError(f"one signal condition at a time: {f.signal!r} and {part!r}")
            f.signal = f"{name}{op}{value}"
    return f


def _coerce(value: str) -> Any:
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(value.lower(), value)


def signal_predicate(expr: str):
    """(signal name, predicate(value) -> bool) for `NAME OP VALUE`."""
    m = _SIGNAL_RE.match(expr)
    if not m:
        raise ValueError(f"cannot read signal filter {expr!r}: expected e.g. judge.score>=4")
    name, op, raw = m.groups()
    target, fn = _coerce(raw), _OPS[op]

    def pred(v: Any) -> bool:
        try:
            return bool(fn(v, target))
        except TypeError:
            return False

    return name, pred


class BrowseModel:
    """Rows, statuses, marks, filters and sort order for the Browse list."""

    def __init__(self, ds, ws=None):
        self.ds = ds
        self.ws = ws
        self.table: pa.Table = ds.table.select(list(LIST_COLUMNS))
        self.statuses: dict[str, str] = self._dataset_statuses()
        self._tally = self._count_statuses()  # kept up to date by decide(): the status line reads it on every move
        self.hashing: threading.Thread | None = None  # the latest bulk decision's background hashing
        self.marked: set[str] = set()
        self.filters = Filters()
        self.view: np.ndarray | None = None
        self.sort_signal: str | None = None
        self.sort_descending = True
        self.signal_column: str | None = None  # the signal shown as a column
        self._signal_cache: dict[str, dict[str, Any]] = {}
        self._blocks: OrderedDict[int, list[dict]] = OrderedDict()

    # -- reading ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.view) if self.view is not None else self.table.num_rows

    def index(self, pos: int) -> int:
        """Dataset row index at list position `pos`."""
        return int(self.view[pos]) if self.view is not None else pos

    def row(self, pos: int) -> dict:
        """List fields of the row at `pos` (id, kind, length, n_turns, preview), block-cached."""
        block, off = divmod(pos, BLOCK)
        rows = self._blocks.get(block)
        if rows is None:
            start = block * BLOCK
            stop = min(start + BLOCK, len(self))
            if self.view is None:
                part = self.table.slice(start, stop - start)
            else:
                part = self.table.take(pa.array(self.view[start:stop]))
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
        return self.statuses.get(row_id, "pending")

    def signal_values(self, name: str) -> dict[str, Any]:
        if name not in self._signal_cache:
            self._signal_cache[name] = dict(self.ws.signal_values(name)) if self.ws is not None else {}
        return self._signal_cache[name]

    def signal(self, row_id: str) -> Any:
        if not self.signal_column:
            return None
        return self.signal_values(self.signal_column).get(row_id)

    def counts(self) -> dict[str, int]:
        out = dict(self._tally)
        out["pending"] = self.table.num_rows - out["accept"] - out["reject"]
        return out

    def _count_statuses(self) -> dict[str, int]:
        c = Counter(self.statuses.values())
        return {"accept": c["accept"], "reject": c["reject"]}

    # -- decisions ----------------------------------------------------------------------

    def decide(self, row_ids: list[str], status: str) -> None:
        """Write the decision to the workspace (committed on return), then remember it."""
        self.decide_each(dict.fromkeys(row_ids, status))

    def decide_each(self, changes: dict[str, str]) -> None:
        """Several rows, each its own status, as one undo step."""
        bad = set(changes.values()) - set(STATUSES)
        if bad:
            raise ValueError(f"unknown status {bad.pop()!r}")
        if self.ws is None:
            raise RuntimeError("no workspace is open")
        from workbench.store.reconcile import content_hashes

        # The rows' content hashes let each decision follow its row if the source is edited.
        # Hashing decodes every row (about 20 us each): a bulk decision over a big filtered view
        # is written at once and hashed in the background, the loaded dataset being immutable.
        if len(changes) <= INLINE_HASH_ROWS:
            self.ws.decide_each(changes, content=content_hashes(self.ds, changes))
        else:
            self.ws.decide_each(changes)
            self._hash_in_background(list(changes))
        for rid, status in changes.items():
            old = self.statuses.get(rid)
            if old in self._tally:
                self._tally[old] -= 1
            if status in self._tally:
                self._tally[status] += 1
            self.statuses[rid] = status

    def _hash_in_background(self, row_ids: list[str]) -> None:
        """Give the decisions on these rows that have no content hash one."""
        self.hashing = threading.Thread(target=self._hash_later, args=(row_ids, self.hashing),
                                        name="decision-hashes", daemon=True)
        self.hashing.start()

    def _hash_later(self, row_ids: list[str], before: threading.Thread | None) -> None:
        from workbench.store.reconcile import content_hashes

        if before is not None:  # one at a time: whoever joins the latest waits for them all
            before.join()
        try:
            self.ws.add_content(content_hashes(self.ds, row_ids))
        except Exception:  # noqa: BLE001 - the app closed the workspace first: these decisions
            pass  # keep no hash, like those made before hashes existed (they are never moved)

    def undo(self) -> list[str]:
        return self._reload(self.ws.undo())

    def redo(self) -> list[str]:
        return self._reload(self.ws.redo())

    def _reload(self, ids: list[str]) -> list[str]:
        if ids:
            self.statuses = self._dataset_statuses()
            self._tally = self._count_statuses()
            # The undo history holds a bulk decision as written, before its rows were hashed.
            self._hash_in_background(ids)
        return ids

    def _dataset_statuses(self) -> dict[str, str]:
        """The workspace's statuses of this dataset's rows only: it also holds decisions on
        ids that are not rows here (generated rows under review), which must not count."""
        if self.ws is None:
            return {}
        st = self.ws.statuses()
        if not st:
            return {}
        import pyarrow.compute as pc

        keys = list(st)
        inside = pc.is_in(pa.array(keys, pa.string()), value_set=self.table.column("id").combine_chunks())
        return {k: st[k] for k, ok in zip(keys, inside.to_pylist()) if ok}

    def reload(self) -> None:
        """Re-read statuses and signals after an operation wrote to the workspace."""
        self.statuses = self._dataset_statuses()
        self._tally = self._count_statuses()
        self._signal_cache.clear()
        self.apply()

    # -- marks --------------------------------------------------------------------------

    def toggle_mark(self, pos: int) -> bool:
        rid = self.row_id(pos)
        if rid in self.marked:
            self.marked.discard(rid)
            return False
        self.marked.add(rid)
        return True

    def view_ids(self) -> list[str]:
        """Ids of every row in the current view (for bulk decisions on a filtered list)."""
        if self.view is None:
            return self.table.column("id").to_pylist()
        return self.table.column("id").take(pa.array(self.view)).to_pylist()

    # -- filtering and sorting ----------------------------------------------------------

    def set_filters(self, filters: Filters) -> None:
        if filters.signal:
            name, _ = signal_predicate(filters.signal)  # fail before changing anything
            known = self.ws.signal_names() if self.ws is not None else [name]
            if name not in known:  # e.g. `len<300`: a column of the list, not a signal
                raise ValueError(f"no signal named {name!r} in this workspace"
                                 f" (signals: {', '.join(known) or 'none yet'})")
            self.signal_column = name  # show the values the filter is about
        self.filters = filters
        self.apply()

    def set_sort(self, signal: str | None, descending: bool = True) -> None:
        self.sort_signal = signal
        self.sort_descending = descending
        if signal:
            self.signal_column = signal
        self.apply()

    def _ids_mask(self, ids) -> np.ndarray:
        import pyarrow.compute as pc

        ids = list(ids)
        if not ids:
            return np.zeros(self.table.num_rows, dtype=bool)
        mask = pc.is_in(self.table.column("id"), value_set=pa.array(ids, pa.string()))
        return mask.to_numpy(zero_copy_only=False)

    def apply(self) -> None:
        """Recompute the view from filters and sort order."""
        import pyarrow.compute as pc

        f, n = self.filters, self.table.num_rows
        mask: np.ndarray | None = None

        def both(m: np.ndarray) -> None:
            nonlocal mask
            mask = m if mask is None else (mask & m)

        if f.kind:
            both(pc.equal(self.table.column("kind"), f.kind).to_numpy(zero_copy_only=False))
        if f.status:
            if f.status == "pending":
                both(~self._ids_mask(r for r, s in self.statuses.items() if s != "pending"))
            else:
                both(self._ids_mask(r for r, s in self.statuses.items() if s == f.status))
        if f.signal:
            name, pred = signal_predicate(f.signal)
            both(self._ids_mask(r for r, v in self.signal_values(name).items() if pred(v)))
        if f.rows is not None:
            m = np.zeros(n, dtype=bool)
            m[f.rows] = True
            both(m)
        view = np.flatnonzero(mask) if mask is not None else None
        if self.sort_signal:
            keys = self._sort_keys(self.sort_signal)
            rows = view if view is not None else np.arange(n)
            k = keys[rows]
            # NaN (no value) last, whatever the direction.
            order = np.lexsort(((-k if self.sort_descending else k), np.isnan(k)))
            view = rows[order]
        self.view = view
        self._blocks.clear()

    def _sort_keys(self, name: str) -> np.ndarray:
        """One float per dataset row: the signal's value, NaN where it has none (or not a number)."""
        import pyarrow.compute as pc

        numeric = {r: float(v) for r, v in self.signal_values(name).items() if isinstance(v, (int, float))}
        keys = np.full(self.table.num_rows, np.nan)
        if numeric:
            # Position of each row's id among the ids that have a value (null where none).
            where = pc.index_in(self.table.column("id"), value_set=pa.array(list(numeric), pa.string()))
            hit = where.is_valid().to_numpy(zero_copy_only=False)
            vals = np.fromiter(numeric.values(), dtype=float, count=len(numeric))
            keys[hit] = vals[where.drop_null().to_numpy()]
        return keys

    def position_of(self, row_index: int) -> int | None:
        """List position of a dataset row index, or None when it is filtered out."""
        if self.view is None:
            return row_index if 0 <= row_index < self.table.num_rows else None
        hits = np.flatnonzero(self.view == row_index)
        return int(hits[0]) if len(hits) else None
