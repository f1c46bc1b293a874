"""Views over a dataset: the filter language, the row selection it makes, sorting, and search.

The filter language is what the TUI's `f` prompt, a recipe step's selection and the CLI read:
space-separated conditions that must all hold, in any order, e.g.

    status=pending kind=sft tag=math judge.score>=4 cluster=3

- `status=accept|reject|pending` (a person's decision, else the standing proposal),
- `kind=sft|preference|kto|text` (`pref` as the list shows it),
- `tag=NAME` (a tag a person put on the row),
- `mine` (the rows assigned to the annotator deciding here, `workbench assign`),
- `conflict` (rows whose annotators disagree),
- `SIGNAL OP VALUE` for any signal an operation wrote (OP one of = == != >= <= > <); the value
  is compared as a number when it reads as one, else as text.

`select` turns Filters into dataset row indices over the Arrow table without building a
Python object per row, so a filter costs about the same at 1k and 1M rows.
pyarrow.compute and rapidfuzz (slow to import) are imported by the functions that need them.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable

import numpy as np
import pyarrow as pa

from workbench.data.record import full_text

STATUSES = ("accept", "reject", "pending")
GROUPS = ("mine", "conflict")  # bare words naming row sets the workspace keeps
KIND_NAMES = ("sft", "preference", "kto", "text")
KIND_ALIASES = {"pref": "preference"}  # the Browse list's short name

_OPS = {">=": operator.ge, "<=": operator.le, "!=": operator.ne, "==": operator.eq,
        "=": operator.eq, ">": operator.gt, "<": operator.lt}
_CONDITION = re.compile(r"^\s*([\w.\-]+)\s*(>=|<=|!=|==|=|>|<)\s*(.+?)\s*$")

SEARCH_CUTOFF = 80  # rapidfuzz partial_ratio a word must reach
SEARCH_BATCH = 4096


@dataclass
class Filters:
    """The conditions of a view. `rows` is an explicit set of dataset row indices (search
    matches, a cluster) with the label the status line shows for it."""

    status: str | None = None
    kind: str | None = None
    tag: str | None = None
    signals: tuple[str, ...] = ()  # e.g. ("judge.score>=4", "cluster=3")
    groups: tuple[str, ...] = ()  # named row sets (GROUPS): ("mine", "conflict")
    rows: np.ndarray | None = field(default=None, repr=False)
    rows_label: str | None = None

    def active(self) -> bool:
        return any((self.status, self.kind, self.tag, self.signals, self.groups)) or self.rows is not None

    def expression(self) -> str:
        """The conditions in the filter language (what `parse_filter` reads back), rows aside."""
        parts = [f"status={self.status}" if self.status else "", f"kind={self.kind}" if self.kind else "",
                 f"tag={self.tag}" if self.tag else "", *self.groups, *self.signals]
        return " ".join(p for p in parts if p)

    def describe(self) -> str:
        """The expression and the label of the explicit rows: what the status line shows."""
        rows = (self.rows_label or f"{len(self.rows)} rows") if self.rows is not None else ""
        return " ".join(p for p in (self.expression(), rows) if p)

    def with_rows_of(self, other: "Filters") -> "Filters":
        """These conditions, keeping `other`'s explicit rows (a new expression keeps the cluster)."""
        return replace(self, rows=other.rows, rows_label=other.rows_label)


def parse_filter(text: str) -> Filters:
    """Parse the filter language (see the module doc) into Filters.

    Raises ValueError with a one-line message naming the part not understood."""
    f = Filters()
    signals: list[str] = []
    for part in text.split():
        if part in GROUPS:
            f.groups = tuple(dict.fromkeys((*f.groups, part)))
            continue
        m = _CONDITION.match(part)
        if not m:
            raise ValueError(f"cannot read {part!r}: expected status=..., kind=..., tag=..., mine, conflict "
                             "or SIGNAL>=VALUE")
        name, op, value = m.groups()
        if name in ("status", "kind", "tag") and op not in ("=", "=="):
            raise ValueError(f"{part!r}: {name} takes = only")
        if name == "status":
            if value not in STATUSES:
                raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {value!r}")
            f.status = value
        elif name == "kind":
            value = KIND_ALIASES.get(value, value)
            if value not in KIND_NAMES:
                raise ValueError(f"kind must be one of {', '.join(KIND_NAMES)}, not {value!r}")
            f.kind = value
        elif name == "tag":
            f.tag = value
        else:
            signals.append(f"{name}{op}{value}")
    f.signals = tuple(signals)
    return f


def _coerce(value: str) -> Any:
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(value.lower(), value)


def signal_predicate(expr: str) -> tuple[str, Callable[[Any], bool]]:
    """(signal name, predicate(value) -> bool) for `NAME OP VALUE`; a value of another type
    (None, text against a number) does not match."""
    m = _CONDITION.match(expr)
    if not m:
        raise ValueError(f"cannot read signal condition {expr!r}: expected e.g. judge.score>=4")
    name, op, raw = m.groups()
    target, fn = _coerce(raw), _OPS[op]

    def pred(v: Any) -> bool:
        try:
            return bool(fn(v, target))
        except TypeError:
            return False

    return name, pred


def ids_mask(ids: pa.ChunkedArray | pa.Array, wanted: Iterable[str]) -> np.ndarray:
    """One bool per entry of `ids`: is it among `wanted`."""
    import pyarrow.compute as pc

    wanted = list(wanted)
    if not wanted:
        return np.zeros(len(ids), dtype=bool)
    return pc.is_in(ids, value_set=pa.array(wanted, pa.string())).to_numpy(zero_copy_only=False)


def select(table: pa.Table, f: Filters, statuses: dict[str, str], signal_values: Callable[[str], dict],
           tagged: Callable[[str], Iterable[str]],
           group: Callable[[str], Iterable[str]] = lambda name: ()) -> np.ndarray | None:
    """Dataset row indices (ascending) that meet every condition of `f`; None when `f` has none.

    `table` has the dataset's `id` and `kind` columns; `statuses` maps decided row ids to their
    effective status; `signal_values(name)`, `tagged(tag)` and `group(name)` (the ids of a
    GROUPS set) read the workspace."""
    import pyarrow.compute as pc

    ids = table.column("id")
    mask: np.ndarray | None = None

    def both(m: np.ndarray) -> None:
        nonlocal mask
        mask = m if mask is None else (mask & m)

    if f.kind:
        both(pc.equal(table.column("kind"), f.kind).to_numpy(zero_copy_only=False))
    if f.status == "pending":
        both(~ids_mask(ids, (r for r, s in statuses.items() if s != "pending")))
    elif f.status:
        both(ids_mask(ids, (r for r, s in statuses.items() if s == f.status)))
    if f.tag:
        both(ids_mask(ids, tagged(f.tag)))
    for name in f.groups:
        both(ids_mask(ids, group(name)))
    for expr in f.signals:
        name, pred = signal_predicate(expr)
        both(ids_mask(ids, (r for r, v in signal_values(name).items() if pred(v))))
    if f.rows is not None:
        m = np.zeros(table.num_rows, dtype=bool)
        m[f.rows] = True
        both(m)
    return np.flatnonzero(mask) if mask is not None else None


def sort_rows(ids: pa.ChunkedArray, rows: np.ndarray, values: dict[str, Any], descending: bool = True) -> np.ndarray:
    """`rows` (dataset indices) ordered by their value in `values` (row id -> value); rows with
    no numeric value last whichever the direction, file order among equals."""
    import pyarrow.compute as pc

    numeric = {r: float(v) for r, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    keys = np.full(len(ids), np.nan)
    if numeric:
        # Position of each row's id among the ids that have a value (null where none).
        where = pc.index_in(ids, value_set=pa.array(list(numeric), pa.string()))
        hit = where.is_valid().to_numpy(zero_copy_only=False)
        vals = np.fromiter(numeric.values(), dtype=float, count=len(numeric))
        keys[hit] = vals[where.drop_null().to_numpy()]
    k = keys[rows]
    order = np.lexsort(((-k if descending else k), np.isnan(k)))
    return rows[order]


def fuzzy_search(ds, query: str, *, cancelled: Callable[[], bool] = lambda: False,
                 cutoff: float = SEARCH_CUTOFF) -> np.ndarray:
    """Dataset row indices, in file order, whose text contains every word of `query`
    approximately (rapidfuzz partial_ratio >= cutoff per word, so a typo still matches).
    Case and punctuation are ignored; `cancelled()` is asked between batches."""
    from rapidfuzz import fuzz, process, utils

    words = utils.default_process(query).split()
    if not words:
        return np.array([], dtype=np.int64)
    hits: list[int] = []
    for start in range(0, len(ds), SEARCH_BATCH):
        if cancelled():
            break
        texts = [utils.default_process(full_text(r)) for r in ds.records(start, start + SEARCH_BATCH)]
        keep: set[int] | None = None
        for w in words:
            found = {i for _, _, i in process.extract(w, texts, scorer=fuzz.partial_ratio, score_cutoff=cutoff,
                                                      limit=None)}
            keep = found if keep is None else keep & found
            if not keep:
                break
        hits.extend(sorted(start + i for i in keep or ()))
    return np.array(hits, dtype=np.int64)
