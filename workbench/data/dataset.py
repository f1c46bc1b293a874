"""An Arrow-backed dataset of canonical records.

Each source file is converted once into an Arrow IPC file in the cache directory and then
memory-mapped, so a million rows cost no more RAM than the pages being read. The cache is
keyed by the file's path, size and mtime (and the reading options): it is reused on the
next open and rebuilt when the source changes. Several sources open as one dataset.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import pyarrow as pa
import pyarrow.ipc as ipc

from workbench.atomic import write_text_atomic
from workbench.data.errors import DataError
from workbench.data.jsonio import dumps, loads
from workbench.data.record import FIELDS, JSON_FIELDS, SCALAR_FIELDS, TEXT_VIEWS, Record, joined_text, preview
from workbench.data.splits import label, select, splits_of
from workbench.paths import cache_dir

# Bump when the stored layout or the readers' output changes, so old caches are rebuilt.
CACHE_VERSION = "7"
# Rows per Arrow batch: 1024 records in flight stay in the CPU caches; converting 4096 at a time
# was about 10% slower, with three times the page faults.
BATCH_ROWS = 1024
# Rows per stored Arrow batch (a chunk of the memory-mapped table). Writing one holds it twice
# (its small batches and their combined copy): 8192 rows keep a first open's peak memory at
# 0.46x that of datasets.load_dataset (16384: 0.50x), with 123 chunks at a million rows.
WRITE_ROWS = 8 * 1024

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("kind", pa.string()),
        ("system", pa.string()),
        ("label", pa.bool_()),
        ("text", pa.string()),
        ("tools", pa.string()),
        ("source", pa.string()),
        ("row", pa.int64()),
        *[(f, pa.string()) for f in JSON_FIELDS],
        # Derived columns for lists and sorting, computed once at conversion.
        ("length", pa.int64()),
        ("n_turns", pa.int32()),
        ("preview", pa.string()),
    ]
)

Progress = Callable[[int], None]
# The columns of converted rows handed to a viewer while a conversion runs (Dataset.open's `converted`).
VIEW_ROW_FIELDS = ("id", "kind", "n_turns", "length", "preview")
# The fields every text view reads (record.TEXT_VIEWS).
_VIEW_FIELDS = ("kind", "system", "text", "messages", "chosen", "rejected")


def _text_length(r: Record) -> int:
    """len(full_text(r)) without building the string: its non-empty pieces joined by newlines."""
    if r.get("kind") == "text":
        return len(r.get("text") or "")
    n = k = 0
    if r.get("system"):
        n, k = len(r["system"]), 1
    for side in ("messages", "chosen", "rejected"):
        for t in r.get(side) or ():
            for key in ("reasoning", "content"):
                s = t.get(key)
                if s:
                    n += len(s)
                    k += 1
    return n + k - 1 if k else 0


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Records are trees of new dicts and lists, never cycles: the cycle collector, which runs
    every few hundred new containers, would scan them for nothing (a third of the decoding
    time). It is paused for one batch at a time, and left off if someone else turned it off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _batch(records: Sequence[Record]) -> pa.RecordBatch:
    # Column by column: one comprehension per field is cheaper than appending cell by cell.
    cols = {f: [r.get(f) for r in records] for f in SCALAR_FIELDS}
    for f in JSON_FIELDS:
        cols[f] = [None if v is None else dumps(v) for v in (r.get(f) for r in records)]
    cols["length"] = [_text_length(r) for r in records]
    cols["n_turns"] = [len(r.get("messages") or ()) + len(r.get("chosen") or ()) for r in records]
    cols["preview"] = [preview(r) for r in records]
    return pa.RecordBatch.from_pydict(cols, schema=SCHEMA)


def _batches(records: Iterable[Record]) -> Iterator[pa.RecordBatch]:
    """Records in Arrow batches of BATCH_ROWS, built with the cycle collector paused."""
    records = iter(records)
    while True:
        with _gc_paused():  # each batch's records are freed before the collector runs again
            batch = _batch(list(islice(records, BATCH_ROWS)))
        if not batch.num_rows:
            return
        yield batch


def _write_arrow(batches: Iterable[pa.RecordBatch], out: Path, progress: Progress | None = None) -> int:
    """Stream batches into an Arrow IPC file, atomically. Returns the row count.

    Small batches are cheap to build, but every stored batch is a chunk that opening and
    slicing the table pay for: they are written in groups of WRITE_ROWS rows, so a million-row
    file opens about as fast as a small one."""
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    n = held = 0
    pending: list[pa.RecordBatch] = []
    try:
        with pa.OSFile(str(tmp), "wb") as sink, ipc.new_file(sink, SCHEMA) as writer:
            for batch in batches:
                pending.append(batch)
                n += batch.num_rows
                held += batch.num_rows
                if held >= WRITE_ROWS:
                    writer.write_table(pa.Table.from_batches(pending, schema=SCHEMA).combine_chunks())
                    pending, held = [], 0
                if progress:
                    progress(n)
            if pending:
                writer.write_table(pa.Table.from_batches(pending, schema=SCHEMA).combine_chunks())
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return n


def _handed(batches: Iterator[pa.RecordBatch], start: int,
            to: Callable[[int, pa.RecordBatch], None]) -> Iterator[pa.RecordBatch]:
    """The batches unchanged; each one's VIEW_ROW_FIELDS also go to `to` with the dataset
    position of its first row, as it passes."""
    for batch in batches:
        to(start, batch.select(VIEW_ROW_FIELDS))
        start += batch.num_rows
        yield batch


def _map_arrow(path: Path) -> pa.Table:
    return ipc.open_file(pa.memory_map(str(path), "r")).read_all()


def _records(part: pa.Table) -> list[Record]:
    """The records of a slice of the table, decoded column by column (cheaper than row by row)."""
    cols = part.select(FIELDS).to_pydict()
    with _gc_paused():
        for f in JSON_FIELDS:
            cols[f] = [None if v is None else loads(v) for v in cols[f]]
        for f in ("meta", "origin"):  # always dicts in a record
            cols[f] = [{} if v is None else v for v in cols[f]]
        return [dict(zip(FIELDS, values)) for values in zip(*cols.values())]


class Dataset:
    """Canonical records over one Arrow table (usually memory-mapped)."""

    def __init__(
        self,
        table: pa.Table,
        sources: Sequence[str] = (),
        formats: dict[str, str] | None = None,
        errors: Sequence[dict] = (),
        identity: Sequence[str] | None = None,
    ):
        self.table = table
        self.sources = list(sources)
        # The sources the workspace belongs to: all splits even when one is open, so that
        # `--split test` sees the decisions made on the whole dataset.
        self.identity = list(identity) if identity is not None else self.sources
        self.formats = dict(formats or {})  # source path -> detected format name
        self.errors = list(errors)  # [{file, line, message}] of rows skipped while reading
        self._ids: list[str] | None = None
        self._index: dict[str, int] | None = None

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_records(cls, records: Iterable[Record], sources: Sequence[str] = ()) -> "Dataset":
        """An in-memory dataset (tests, generated rows, small previews)."""
        batches = list(_batches(records)) or [_batch([])]
        return cls(pa.Table.from_batches(batches, schema=SCHEMA), sources)

    @classmethod
    def open(
        cls,
        paths: str | os.PathLike | Sequence[str | os.PathLike],
        *,
        format: str | None = None,
        mapping: dict[str, str] | None = None,
        on_error: str = "stop",
        progress: Progress | None = None,
        use_cache: bool = True,
        roles: dict[str, str] | None = None,
        split: str | None = None,
        converted: Callable[[int, pa.RecordBatch], None] | None = None,
    ) -> "Dataset":
        """Open one or more files or directories as one dataset.

        `on_error="stop"` raises the first DataError; `"skip"` leaves bad rows out and lists
        them in `.errors`. `roles` reads more role spellings (--roles Human=user); `split`
        opens only the sources of that split (see workbench.data.splits).
        Conversions are cached (see module docstring). While a file converts, `converted` is
        called with each converted batch (the VIEW_ROW_FIELDS columns, up to BATCH_ROWS rows) and
        the dataset position of its first row, so that a viewer shows rows before the
        conversion ends; it is called from the converting thread.
        """
        from workbench.data.readers import expand_paths, iter_records

        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        every = expand_paths([str(p) for p in paths])
        files = select(every, split)
        tables, formats, errors = [], {}, []
        done_before = 0
        for f in files:
            key = _cache_key(f, format, mapping, roles)
            arrow = cache_dir() / "arrow" / f"{key}.arrow"
            side = arrow.with_suffix(".json")
            prog = (lambda n, base=done_before: progress(base + n)) if progress else None

            def read(f=f) -> tuple[dict, Iterator[pa.RecordBatch]]:
                info: dict = {"format": None, "errors": []}
                rows = iter_records(f, format=format, mapping=mapping, on_error=on_error,
                                    errors=info["errors"], on_format=lambda name: info.update(format=name), roles=roles)
                return info, _batches(rows)

            t = None
            if use_cache and arrow.exists() and side.exists():
                info = json.loads(side.read_text())
                if on_error == "stop" and info["errors"]:  # converted by a skipping reader (`info`)
                    e = info["errors"][0]
                    raise DataError(e["file"], e["line"], e["message"])
            else:
                info, batches = read()
                if converted is not None:
                    batches = _handed(batches, done_before, converted)
                try:
                    arrow.parent.mkdir(parents=True, exist_ok=True)
                    _write_arrow(batches, arrow, prog)
                    write_text_atomic(side, json.dumps(info))
                except OSError:
                    # A full or read-only cache folder: read the file into memory instead, uncached.
                    info, batches = read()
                    t = pa.Table.from_batches(list(batches), schema=SCHEMA)
            if t is None:
                t = _map_arrow(arrow)
            done_before += t.num_rows
            tables.append(t)
            formats[f] = info["format"]
            errors += info["errors"]
        table = pa.concat_tables(tables) if tables else pa.Table.from_batches([_batch([])])
        return cls(table, files, formats, errors, identity=every)

    # -- access -------------------------------------------------------------------------

    def __len__(self) -> int:
        return self.table.num_rows

    def record(self, i: int) -> Record:
        if not 0 <= i < len(self):
            raise IndexError(i)
        return _records(self.table.slice(i, 1))[0]

    def records(self, start: int = 0, stop: int | None = None) -> list[Record]:
        stop = len(self) if stop is None else min(stop, len(self))
        if start >= stop:
            return []
        return _records(self.table.slice(start, stop - start))

    def records_at(self, positions: Sequence[int]) -> list[Record]:
        """The records at these row positions (in the order given), decoded in one pass."""
        if not positions:
            return []
        for i in positions:
            if not 0 <= i < len(self):
                raise IndexError(i)
        return _records(self.table.take(pa.array(positions, pa.int64())))

    def iter_batches(self, batch_size: int = 1024) -> Iterator[list[Record]]:
        for start in range(0, len(self), batch_size):
            yield self.records(start, start + batch_size)

    def __iter__(self) -> Iterator[Record]:
        for batch in self.iter_batches():
            yield from batch

    def texts(self, view: str = "all", start: int = 0, stop: int | None = None) -> list[str]:
        """view_text(record, view) of rows start..stop, decoding only the columns a view reads
        (never meta or origin), for operations that read text (dedup, decontam, filters)."""
        fn = TEXT_VIEWS.get(view)
        if fn is None:
            raise ValueError(f"unknown text view {view!r}; expected one of {', '.join(TEXT_VIEWS)}")
        stop = len(self) if stop is None else min(stop, len(self))
        if start >= stop:
            return []
        cols = self.table.slice(start, stop - start).select(_VIEW_FIELDS).to_pydict()
        with _gc_paused():
            if view in ("all", "conversation"):  # straight from the columns: no record is built
                with_system = view == "all"
                return [joined_text(kind, system, text, m and loads(m), c and loads(c), r and loads(r),
                                    with_system=with_system)
                        for kind, system, text, m, c, r in zip(*cols.values())]
            for f in ("messages", "chosen", "rejected"):
                cols[f] = [None if v is None else loads(v) for v in cols[f]]
            return [fn(dict(zip(_VIEW_FIELDS, values))) for values in zip(*cols.values())]

    def column(self, name: str) -> list:
        """A plain column as a Python list (id, kind, length, n_turns, preview, source, ...)."""
        return self.table.column(name).to_pylist()

    @property
    def ids(self) -> list[str]:
        if self._ids is None:
            self._ids = self.column("id")
        return self._ids

    def index_of(self, row_id: str) -> int:
        """Position of a row id (KeyError if absent)."""
        if self._index is None:
            self._index = {rid: i for i, rid in enumerate(self.ids)}
        return self._index[row_id]

    @property
    def fingerprint(self) -> str:
        """Identity of the dataset for its workspace: its sources' absolute paths.

        Path-based on purpose: editing a source keeps its decisions, which are keyed by row id.
        """
        h = hashlib.sha256()
        for s in sorted(os.path.abspath(s) for s in self.identity) or ["<memory>"]:
            h.update(s.encode() + b"\0")
        return h.hexdigest()[:16]

    @property
    def name(self) -> str:
        if not self.sources:
            return "<memory>"
        splits = self.splits
        if splits and len({Path(s).parent for s in self.sources}) == 1:  # dd (train, test)
            return f"{Path(self.sources[0]).parent.name} ({', '.join(dict.fromkeys(splits.values()))})"
        return ", ".join(label(s) for s in self.sources[:3]) + (" …" if len(self.sources) > 3 else "")

    @property
    def splits(self) -> dict[str, str]:
        """{source: split name} when the sources hold named splits (train, test...), else {}."""
        return splits_of(self.sources)


def _cache_key(path: str, format: str | None, mapping: dict | None, roles: dict | None = None) -> str:
    """One cache per file and reading options, whatever `on_error` says: a conversion is stored
    only once complete, so a stopping reader's cache has no errors, and a skipping reader's
    lists its skipped rows (a stopping reader raises the first), so `info` and every other
    command, the TUI and the Python API share it."""
    st = os.stat(path)
    if os.path.isdir(path):  # a save_to_disk directory: its files' sizes and times
        parts = []
        for p in sorted(Path(path).rglob("*")):
            if p.is_file():
                s = p.stat()
                parts.append(f"{p}:{s.st_size}:{s.st_mtime_ns}")
        stamp = "|".join(parts)
    else:
        stamp = f"{st.st_size}:{st.st_mtime_ns}"
    raw = json.dumps([CACHE_VERSION, os.path.abspath(path), stamp, format, sorted((mapping or {}).items()),
                      sorted((roles or {}).items())])
    return hashlib.sha256(raw.encode()).hexdigest()[:24]
