"""Views over a dataset: the filter language, the row selection it makes, sorting, and search.

The filter language is what the TUI's `f` prompt, a recipe step's selection and the CLI read:
space-separated conditions that must all hold, in any order, e.g.

    status=pending kind=sft tag=math judge.score>=4 cluster=3

- `status=accept|reject|pending` (a person's decision, else the standing proposal),
- `kind=sft|preference|kto|text` (`pref` as the list shows it),
- `tag=NAME` (a tag a person put on the row),
- `source=FILE` (rows from one of the open files: its path, file name or stem),
- `topic=N` (rows of topic N of the latest topic map, the number the Topics pane shows; -1 the
  unclustered rows),
- `mine` (the rows assigned to the annotator deciding here, `workbench assign`),
- `conflict` (rows whose annotators disagree),
- `SIGNAL OP VALUE` for any signal an operation wrote (OP one of = == != >= <= > <); the value
  is compared as a number when it reads as one, else as text; `=` on a list signal means
  "holds" (`heuristic.pii=email`), `!=` "does not hold".

`select` turns Filters into dataset row indices over the Arrow table without building a
Python object per row, so a filter costs about the same at 1k and 1M rows. `sort_rows` orders
them by a list column (`SORT_COLUMNS`: length, turns), tokens, or any signal, either way.
pyarrow.compute and rapidfuzz (slow to import) are imported by the functions that need them.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable

import numpy as np
import pyarrow as pa


STATUSES = ("accept", "reject", "pending")
GROUPS = ("mine", "conflict")  # bare words naming row sets the workspace keeps
KIND_NAMES = ("sft", "preference", "kto", "text")
KIND_ALIASES = {"pref": "preference"}  # the Browse list's short name
SORT_COLUMNS = {"length": "length", "turns": "n_turns"}  # sort key -> the dataset column it orders by
TOKENS = "tokens"  # a sort key counted on demand (workbench.explore.stats.row_tokens)

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
    source: str | None = None  # an open file: its path, file name or stem
    topic: int | None = None  # a topic of the latest map (Session.topic_rows)
    topic_label: str | None = None  # its label, shown beside it (not part of the expression)
    signals: tuple[str, ...] = ()  # e.g. ("judge.score>=4", "cluster=3")
    groups: tuple[str, ...] = ()  # named row sets (GROUPS): ("mine", "conflict")
    rows: np.ndarray | None = field(default=None, repr=False)
    rows_label: str | None = None
    ranked: bool = False  # `rows` are in rank order (a semantic search's nearest first): the view keeps it

    def active(self) -> bool:
        return (any((self.status, self.kind, self.tag, self.source, self.signals, self.groups))
                or self.topic is not None or self.rows is not None)

    def expression(self) -> str:
        """The conditions in the filter language (what `parse_filter` reads back), rows aside."""
        parts = [f"status={self.status}" if self.status else "", f"kind={self.kind}" if self.kind else "",
                 f"tag={self.tag}" if self.tag else "", f"source={self.source}" if self.source else "",
                 f"topic={self.topic}" if self.topic is not None else "", *self.groups, *self.signals]
        return " ".join(p for p in parts if p)

    def describe(self) -> str:
        """The expression, the topic's label and the label of the explicit rows: what the status line shows."""
        rows = (self.rows_label or f"{len(self.rows)} rows") if self.rows is not None else ""
        label = f"({self.topic_label})" if self.topic is not None and self.topic_label else ""
        return " ".join(p for p in (self.expression(), label, rows) if p)

    def with_rows_of(self, other: "Filters") -> "Filters":
        """These conditions, keeping `other`'s explicit rows (a new expression keeps the cluster)."""
        return replace(self, rows=other.rows, rows_label=other.rows_label, ranked=other.ranked)


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
            raise ValueError(f"cannot read {part!r}: expected status=..., kind=..., tag=..., source=..., topic=..., "
                             "mine, conflict or SIGNAL>=VALUE")
        name, op, value = m.groups()
        if name in ("status", "kind", "tag", "source", "topic") and op not in ("=", "=="):
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
        elif name == "source":
            f.source = value
        elif name == "topic":
            try:
                f.topic = int(value)
            except ValueError:
                raise ValueError(f"topic takes a topic number as the Topics pane shows it, not {value!r}") from None
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
        if isinstance(v, list) and op in ("=", "==", "!="):
            return (target in v) != (op == "!=")
        try:
            return bool(fn(v, target))
        except TypeError:
            return False

    return name, pred


def sources_named(name: str, sources: Iterable[str]) -> list[str]:
    """The sources (paths as the dataset's `source` column holds them) that `name` names: one
    equal to it, else those whose file name or stem it is, else those whose file name starts
    with it (`dpo` names dpo_en_demo.json). ValueError names some of the sources."""
    from pathlib import Path

    sources = list(sources)
    if name in sources:
        return [name]
    hits = ([s for s in sources if name in (Path(s).name, Path(s).stem)]
            or [s for s in sources if Path(s).name.startswith(name)])
    if not hits:
        names = sorted(Path(s).name for s in sources)
        more = f", … ({len(names)} sources)" if len(names) > 6 else ""
        raise ValueError(f"no source called {name!r}; the sources are: {', '.join(names[:6]) or 'none'}{more}")
    return hits


def ids_mask(ids: pa.ChunkedArray | pa.Array, wanted: Iterable[str]) -> np.ndarray:
    """One bool per entry of `ids`: is it among `wanted`."""
    import pyarrow.compute as pc

    wanted = list(wanted)
    if not wanted:
        return np.zeros(len(ids), dtype=bool)
    return pc.is_in(ids, value_set=pa.array(wanted, pa.string())).to_numpy(zero_copy_only=False)


def select(table: pa.Table, f: Filters, statuses: dict[str, str], signal_values: Callable[[str], dict],
           tagged: Callable[[str], Iterable[str]],
           group: Callable[[str], Iterable[str]] = lambda name: (),
           topic: Callable[[int], Iterable[str]] = lambda n: ()) -> np.ndarray | None:
    """Dataset row indices (ascending) that meet every condition of `f`; None when `f` has none.

    `table` has the dataset's `id`, `kind` and `source` columns; `statuses` maps decided row ids to their
    effective status; `signal_values(name)`, `tagged(tag)`, `group(name)` (the ids of a
    GROUPS set) and `topic(n)` (the ids of a map topic) read the workspace."""
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
    if f.source:
        column = table.column("source")
        wanted = sources_named(f.source, (s for s in pc.unique(column).to_pylist() if s is not None))
        both(pc.is_in(column, value_set=pa.array(wanted, pa.string())).to_numpy(zero_copy_only=False))
    if f.topic is not None:
        both(ids_mask(ids, topic(f.topic)))
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


def sort_keys(table: pa.Table, by: str, signal_values: Callable[[str], dict],
              counted: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """One float per dataset row to order by: a per-row count in `counted` (TOKENS), the list
    column `by` names (SORT_COLUMNS), else the numeric value of signal `by` (NaN where a row has
    none, or a non-numeric one)."""
    if counted and by in counted:
        return counted[by].astype(float)
    if by in SORT_COLUMNS:
        return table.column(SORT_COLUMNS[by]).to_numpy().astype(float)
    import pyarrow.compute as pc

    values = signal_values(by)
    numeric = {r: float(v) for r, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    ids = table.column("id")
    keys = np.full(len(ids), np.nan)
    if numeric:
        # Position of each row's id among the ids that have a value (null where none).
        where = pc.index_in(ids, value_set=pa.array(list(numeric), pa.string()))
        hit = where.is_valid().to_numpy(zero_copy_only=False)
        vals = np.fromiter(numeric.values(), dtype=float, count=len(numeric))
        keys[hit] = vals[where.drop_null().to_numpy()]
    return keys


def sort_rows(rows: np.ndarray, keys: np.ndarray, descending: bool = True) -> np.ndarray:
    """`rows` (dataset indices) ordered by `keys` (one per dataset row, from `sort_keys`); rows
    with no value (NaN) last whichever the direction, file order among equals."""
    k = keys[rows]
    order = np.lexsort(((-k if descending else k), np.isnan(k)))
    return rows[order]


SEARCH_PREFIXES = {"=": "exact", "~": "regex", "?": "semantic"}  # the first character picks the mode
SEMANTIC_K = 50  # rows a semantic search keeps: the nearest


@dataclass(frozen=True)
class Search:
    """A search of the rows' text (`full_text`: system, every turn, both preference sides).

    Modes, picked by the query's first character (`Search.parse`):
    - fuzzy (no prefix): every word of the query appears approximately (rapidfuzz
      partial_ratio >= SEARCH_CUTOFF per word, case and punctuation ignored, so a typo matches);
    - exact (`=text`): the text appears as written, case ignored;
    - regex (`~pattern`): Python `re` search, case as written (`(?i)` ignores it);
    - semantic (`?text`): the SEMANTIC_K rows whose embedding (all-MiniLM-L6-v2, as
      `workbench similar`) is nearest the query's by cosine.
    """

    mode: str
    text: str
    k: int = SEMANTIC_K  # rows a semantic search keeps

    @classmethod
    def parse(cls, query: str) -> "Search":
        """The Search a prompt's text asks for. Raises ValueError (one line) for a bad regex or
        an empty query."""
        mode = SEARCH_PREFIXES.get(query[:1])
        text = query[1:] if mode else query
        if not text.strip():
            raise ValueError("nothing to search for")
        s = cls(mode or "fuzzy", text if mode in ("exact", "regex") else text.strip())
        if s.mode == "regex":
            try:
                re.compile(s.text)
            except re.error as e:
                raise ValueError(f"bad regex '{s.text}': {e}") from None  # as typed: repr would double its backslashes
        return s

    @property
    def label(self) -> str:
        """The query as typed (its prefix included): what the status line shows after `/`."""
        prefix = {v: k for k, v in SEARCH_PREFIXES.items()}.get(self.mode, "")
        return prefix + self.text

    def _pattern(self) -> re.Pattern | None:
        if self.mode == "exact":
            return re.compile(re.escape(self.text), re.IGNORECASE)
        if self.mode == "regex":
            return re.compile(self.text)
        return None

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the query matches in `text`: sorted, non-overlapping (start, end) character
        spans, for highlighting. Fuzzy: each word's literal occurrences (case ignored), else
        its best approximate place; semantic: none (a meaning has no place)."""
        if self.mode == "semantic" or not text:
            return []
        pattern = self._pattern()
        if pattern is not None:
            return [m.span() for m in pattern.finditer(text) if m.end() > m.start()]
        from rapidfuzz import fuzz, utils

        found: list[tuple[int, int]] = []
        lowered = text.lower() if len(text.lower()) == len(text) else None  # offsets must carry over
        for w in utils.default_process(self.text).split():
            hits = [m.span() for m in re.finditer(re.escape(w), lowered)] if lowered is not None else []
            if not hits:
                a = fuzz.partial_ratio_alignment(w, lowered or text, score_cutoff=SEARCH_CUTOFF)
                hits = [(a.dest_start, a.dest_end)] if a is not None and a.dest_end > a.dest_start else []
            found += hits
        return _merged(found)

    def pieces(self, text: str) -> list[tuple[str, bool]]:
        """`text` cut at the edges of its matches: [(piece, inside a match)], pieces joined = text."""
        edges = [0, *(i for span in self.spans(text) for i in span), len(text)]
        return [(text[a:b], n % 2 == 1) for n, (a, b) in enumerate(zip(edges, edges[1:])) if b > a]

    def rows(self, ds, ws=None, *, cancelled: Callable[[], bool] = lambda: False,
             progress: Callable[[int, int], None] | None = None, on_stage: Callable[[str], None] | None = None,
             counts: dict | None = None) -> np.ndarray:
        """Dataset row indices that match: in file order, a semantic search's nearest first. It embeds the rows first
        (cached on disk, `explore.embed.embed_dataset`: `progress(done, total)` hears the rows not
        cached yet as they are embedded, and an exception it raises stops the search keeping what
        was embedded; `on_stage` hears the model load; `counts` gets {rows, embedded, cached};
        with `ws` the embedding is recorded in its history) and loads the embedding model only then."""
        if self.mode == "fuzzy":
            return fuzzy_search(ds, self.text, cancelled=cancelled)
        if self.mode == "semantic":
            from workbench.explore.embed import embed_texts, embed_dataset
            from workbench.explore.similar import nearest

            vectors = embed_dataset(ds, ws, progress=progress, on_stage=on_stage, counts=counts)
            hits = nearest(vectors, embed_texts([self.text])[0], self.k)
            return np.array([i for i, _ in hits], dtype=np.int64)
        pattern = self._pattern()
        hits: list[int] = []
        for start in range(0, len(ds), SEARCH_BATCH):
            if cancelled():
                break
            hits += [start + i for i, t in enumerate(ds.texts("all", start, start + SEARCH_BATCH)) if pattern.search(t)]
        return np.array(hits, dtype=np.int64)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def next_match(view: np.ndarray | None, matches: np.ndarray, cursor: int, step: int) -> int | None:
    """The list position of the next (`step` 1) or previous (-1) match after position `cursor`,
    wrapping around; None when no match is in the list. `view`: the list's dataset row indices
    (None: every row in file order); `matches`: matching dataset row indices."""
    positions = np.flatnonzero(np.isin(view, matches)) if view is not None else np.sort(matches)
    if not len(positions):
        return None
    if step > 0:
        after = positions[positions > cursor]
        return int(after[0] if len(after) else positions[0])
    before = positions[positions < cursor]
    return int(before[-1] if len(before) else positions[-1])


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
        texts = [utils.default_process(t) for t in ds.texts("all", start, start + SEARCH_BATCH)]
        keep: set[int] | None = None
        for w in words:
            found = {i for _, _, i in process.extract(w, texts, scorer=fuzz.partial_ratio, score_cutoff=cutoff,
                                                      limit=None)}
            keep = found if keep is None else keep & found
            if not keep:
                break
        hits.extend(sorted(start + i for i in keep or ()))
    return np.array(hits, dtype=np.int64)
