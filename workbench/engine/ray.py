"""The Ray engine: recipe steps as Ray Data stages. The only module that imports ray (lazily).

Row-scoped operations are `map_batches` over Arrow batches of canonical records: the rule
filter checks rows on the workers; decontamination broadcasts the benchmark n-gram index
(`ray.put`, one copy per node) and looks every batch up in it. Whole-dataset dedup is split
into stages the way datatrove and NeMo Curator split it:

    exact:   key per row (normalised text, blake2b)   -> shuffle by key  -> pairs
    minhash: signatures per batch -> (band, bucket key, position) rows -> shuffle by bucket ->
             candidate pairs -> the pairs' signatures fetched -> their estimated Jaccard
    both:    the rows of the pairs fetched by position, connected components and
             representatives in the driver (workbench.ops.clusters) over those rows only

The shuffles are plain Ray tasks over the blocks (`_shuffle`): a reduce task sorts its whole
partition as arrays, where Ray Data's groupby().map_groups() would call Python once per bucket.

The kernels are the local engine's (workbench.ops.minhash, dedup_exact, decontam, filters),
so a step gives the same Result as `Engine` does: the same flagged rows, clusters (the same
seed gives the same permutations) and signals. Results come back to the driver, which saves
them with `apply_result` as the local engine does; for rows the workers read (a RayInput) the
Result is compact: its signals an iterator the workspace inserts as it reads them (in one
transaction), its report counts instead of per-row lists. Operations without stages here (template
lint, embeddings, LLM steps, mix, map) run in the driver, as on the local engine.

A step runs on a Dataset the driver opened, or on a `RayInput`: files, directories of shards
and globs (Parquet, JSON Lines, gzip too) read by the workers, so the rows never pass through
the driver; `write_shards` then writes the curated rows from the workers as sharded JSON Lines
or Parquet in the chosen format.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa

from workbench.engine.base import RAY_STAGES, SHARD_SUFFIXES, Engine
from workbench.ops.base import Context, Operation, Params, Result, subset

BATCH_ROWS = 1024  # rows per map_batches call (the local kernels' chunk size)
# Rows per block of a driver-loaded dataset: a task per block costs a few ms of scheduling, so
# blocks are large, but at least 4 per CPU so that every worker gets some.
BLOCK_ROWS = 8192


class RayEngine(Engine):
    """Runs filter, dedup-exact, dedup-minhash and decontam on Ray Data, on a Dataset loaded in
    the driver or on a RayInput (files read by the workers). `address`: "ray://HOST:PORT" or
    "auto" (an existing cluster); None starts a local instance with `num_cpus` CPUs (all by
    default), shut down by close()."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None):
        import logging

        import ray

        # Ray's own INFO lines and the tracebacks it logs for a failed task would bury the one
        # line we print: errors come back to the driver as exceptions either way.
        logging.getLogger("ray").setLevel(logging.ERROR)
        self._started = not ray.is_initialized()
        if self._started:
            if address:
                ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
            else:
                ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        from ray.data import DataContext

        logging.getLogger("ray.data").setLevel(logging.CRITICAL)  # after import: ray.data sets up its loggers
        dctx = DataContext.get_current()
        dctx.enable_progress_bars = False
        dctx.execution_options.preserve_order = True
        self._framed: tuple | None = None  # (Dataset, its Ray dataset): a recipe's steps share one copy

    def close(self) -> None:
        import ray

        if self._started and ray.is_initialized():
            ray.shutdown()
            self._started = False
        self._framed = None

    def compute(self, op: Operation, ds, params: Params, ctx: Context, rows: list[str] | None = None) -> Result:
        stage = _STAGES.get(op.name)
        if isinstance(ds, RayInput):
            if stage is None or rows is not None:
                raise ValueError(f"{op.name} on selected rows or outside filter, dedup and decontam runs on a dataset "
                                 "read in the driver: write one file (-o FILE) instead of a directory of shards")
            frame = ds.frame
        elif stage is None:
            return op.run(ds, params, ctx, rows)
        else:
            ds = subset(ds, rows)
            if self._framed is None or self._framed[0] is not ds:
                self._framed = (ds, _frame(ds))
            frame = self._framed[1]
        ctx.check()
        # Rows read by the workers (a cluster run): no per-row list beside the signals, which
        # reach the workspace as an iterator.
        result = stage(op, frame, len(ds), params, ctx, compact=isinstance(ds, RayInput))
        result.params = params.to_dict()
        ctx.report(len(ds), len(ds))
        return result


# -- inputs and outputs that stay out of the driver ----------------------------------------

READ_ROWS = 16384  # rows per block read by a worker (and per output shard)
SHUFFLE_PARTITION_BYTES = 64 << 20  # what one reduce task of a shuffle holds (but for one giant bucket)
_FILE_SHIFT = 40  # a row's position: file number << 40 | row number in its file (file order kept)


class RayInput:
    """Dataset files (and directories of shards) read by Ray workers, one read task per file,
    into blocks of canonical records (workbench.data.readers.iter_records, so rows, ids and
    formats are the ones the local reader gives). The blocks stay in Ray's object store (which
    spills to disk); the driver holds the file list and the row count only.

    `sources`, `identity`, `formats` and `fingerprint` are a Dataset's, so the workspace is
    the one `workbench`/the TUI opens for the same paths. Raises DataError (file and line) for
    the first bad row, as Dataset.open does."""

    def __init__(self, paths: list[str], *, format: str | None = None, mapping: dict | None = None,
                 roles: dict | None = None, split: str | None = None):
        import ray

        from workbench.data.dataset import Dataset
        from workbench.data.readers import expand_paths, iter_records
        from workbench.data.splits import select

        every = expand_paths(paths)
        self.sources = select(every, split)
        if not self.sources:
            raise ValueError(f"no dataset files in {', '.join(paths)}")
        self.identity = every
        self.fingerprint = Dataset(pa.table({}), self.sources, identity=every).fingerprint
        options = {"format": format, "mapping": mapping, "roles": roles}
        first: dict = {}
        next(iter_records(self.sources[0], on_format=lambda name: first.update(f=name), **options), None)
        self.formats = {self.sources[0]: first.get("f")}
        files = ray.data.from_items([{"fileno": i, "path": f} for i, f in enumerate(self.sources)],
                                    override_num_blocks=len(self.sources))
        with _worker_errors():
            self.frame = files.map_batches(_read_files, batch_size=1, fn_kwargs={"options": options}).materialize()
        self._rows = self.frame.count()

    def __len__(self) -> int:
        return self._rows


def _read_files(files: dict, options: dict):
    """Read task: the canonical records of each file, with their positions, in READ_ROWS blocks."""
    from workbench.data.dataset import _batches
    from workbench.data.readers import iter_records

    for fileno, path in zip(files["fileno"].tolist(), files["path"].tolist()):
        done, pending = 0, []
        batches = _batches(iter_records(path, on_error="stop", **options))
        for batch in batches:
            pending.append(batch)
            if sum(b.num_rows for b in pending) >= READ_ROWS:
                yield _positioned(pending, fileno, done)
                done += sum(b.num_rows for b in pending)
                pending = []
        if pending:
            yield _positioned(pending, fileno, done)


def _positioned(batches: list, fileno: int, start: int) -> pa.Table:
    table = pa.Table.from_batches(batches)
    pos = (fileno << _FILE_SHIFT) + np.arange(start, start + table.num_rows, dtype=np.int64)
    return table.append_column("_pos", pa.array(pos))


@contextlib.contextmanager
def _worker_errors():
    """A DataError raised in a Ray worker comes out as itself (one line naming file and
    line), not as Ray's wrapped traceback."""
    from workbench.data.errors import DataError

    try:
        yield
    except Exception as e:  # noqa: BLE001 - unwrapped below, re-raised as it came otherwise
        seen, cause = set(), e
        while cause is not None and id(cause) not in seen:
            seen.add(id(cause))
            if isinstance(cause, DataError) and type(cause) is DataError:
                raise cause from None
            cause = getattr(cause, "cause", None) or cause.__cause__
        raise


def write_shards(rin: RayInput, ws, to: str, out: str, *, only: str = "not-rejected", suffix: str = "jsonl") -> dict:
    """The curated rows of `rin` (the workspace's decisions and proposals applied, as
    workbench.store.export does) written by the workers as shards `out/part-FFFFF-RRRRRRRRRR.SUFFIX`
    (input file number, first row), one per block, in format `to`; their names sort in the
    input's row order. The shards are written into a hidden folder beside `out`, renamed to
    `out` once all are done (an interrupted run leaves no partial `out`). Returns {"out",
    "format", "only", "total", "rows", "files", "left_out": {reason: count}}. Raises
    ValueError for an unknown suffix or format, or an `out` that exists and is not empty."""
    import ray

    from workbench.data.formats import TARGETS

    if suffix not in SHARD_SUFFIXES:
        raise ValueError(f"shards are one of {', '.join(SHARD_SUFFIXES)}, not {suffix!r}")
    if to not in TARGETS:
        raise ValueError(f"unknown target format {to!r}; expected one of {', '.join(TARGETS)}")
    if to == "parquet":
        suffix = "parquet"
    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ValueError(f"{out}: exists and is not an empty directory; choose a new output directory")
    tmp = target.with_name(f".{target.name}.partial-{os.getpid()}")
    tmp.mkdir(parents=True)
    try:
        ref = ray.put(ws.reasons())
        done = _collect(rin.frame.map_batches(
            _write_shard, batch_format="pyarrow", batch_size=None,
            fn_kwargs={"reasons_ref": [ref], "only": only, "to": to, "folder": str(tmp), "suffix": suffix}),
            "rows", "left")
        if target.exists():
            target.rmdir()
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    left: dict[str, int] = {}
    for counts in done["left"]:
        for reason, k in json.loads(counts).items():
            left[reason] = left.get(reason, 0) + k
    return {"out": str(out), "format": to, "only": only, "total": len(rin), "rows": int(done["rows"].sum()),
            "files": len(done["rows"]), "left_out": dict(sorted(left.items(), key=lambda kv: (-kv[1], kv[0])))}


def _write_shard(block: pa.Table, reasons_ref, only: str, to: str, folder: str, suffix: str) -> dict:
    import ray

    from workbench.data.writers import write_records
    from workbench.store.export import rules

    decide = rules(ray.get(reasons_ref[0]), only)
    first = int(block.column("_pos")[0].as_py())
    left: dict[str, int] = {}
    kept = []
    for rec in _dataset(block).records():
        why = decide(rec)
        if why is None:
            kept.append(rec)
        else:
            left[why] = left.get(why, 0) + 1
    name = f"part-{first >> _FILE_SHIFT:05d}-{first & ((1 << _FILE_SHIFT) - 1):010d}.{suffix}"
    report = write_records(kept, to, Path(folder) / name)
    return {"rows": np.array([report["rows"]], dtype=np.int64), "left": np.array([json.dumps(left)], dtype=object)}


# -- helpers ------------------------------------------------------------------------------


def _frame(ds):
    """A Ray dataset of `ds`'s table with its row positions (`_pos`), in blocks of at most
    BLOCK_ROWS rows, at least 4 per CPU (the blocks the workers share out)."""
    import ray

    size = min(BLOCK_ROWS, max(BATCH_ROWS, math.ceil(len(ds) / (4 * _cpus()))))
    table = ds.table.append_column("_pos", pa.array(np.arange(len(ds), dtype=np.int64)))
    blocks = [table.slice(s, size) for s in range(0, len(ds), size)] or [table]
    return ray.data.from_arrow(blocks)


def _cpus() -> int:
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _dataset(batch: pa.Table):
    from workbench.data.dataset import Dataset

    return Dataset(batch)


def _groups(batch: pa.Table) -> np.ndarray:
    """The KTO label group of each row (workbench.ops.dedup.kto_groups: 0 unlabelled, 1
    desirable, 2 undesirable)."""
    return np.array([0 if v is None else 1 if v else 2 for v in batch.column("label").to_pylist()], dtype=np.int8)


def _collect(rds, *columns: str) -> dict[str, np.ndarray | list]:
    """The named columns of every row of a Ray dataset, gathered in the driver batch by batch."""
    parts: dict[str, list] = {c: [] for c in columns}
    for batch in rds.iter_batches(batch_format="pyarrow", batch_size=65536):
        for c in columns:
            parts[c].append(batch.column(c).to_numpy(zero_copy_only=False))
    return {c: np.concatenate(v) if v else np.empty(0) for c, v in parts.items()}


def _pairs_in_order(a, b) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (a < b) deduplicated and sorted, as the local kernels produce them."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if not len(a):
        return a, b
    keyed = np.unique(np.stack([a, b], axis=1), axis=0)
    return keyed[:, 0], keyed[:, 1]


def _partitions(rows: int, row_bytes: int) -> int:
    """Shuffle partitions for `rows` rows of about `row_bytes` bytes each: enough that each
    reduce task holds about SHUFFLE_PARTITION_BYTES (a worker's memory stays bounded however
    many rows there are), and at least one per CPU."""
    return max(_cpus(), math.ceil(rows * row_bytes / SHUFFLE_PARTITION_BYTES))


def _shuffle(rds, keyed, reduce, parts: int, **kwargs) -> dict[str, np.ndarray]:
    """A hash shuffle in plain Ray tasks: `keyed(block, **kwargs)` -> (uint64 hash, {column:
    array}) runs once per block of `rds` and splits its rows by hash into `parts` partitions;
    `reduce({column: array})` runs once per partition (every row with one hash in one call,
    as whole arrays) and returns {column: array}, concatenated here.

    Ray Data's groupby().map_groups() calls its function once per group, through a batch
    conversion: one call per (row, band) bucket of a MinHash shuffle, most of them of one row
    (its MinHash step took 29 s on 5,000 rows on 1 CPU; this one 6 s on 100,000)."""
    import ray

    split = ray.remote(num_returns=parts)(_split_block) if parts > 1 else ray.remote(_split_block)
    mapped = [split.remote(ref, keyed, kwargs, parts) for ref in rds.to_arrow_refs()]
    if parts == 1:
        mapped = [[ref] for ref in mapped]
    reducer = ray.remote(_reduce_partition)
    done = ray.get([reducer.remote(reduce, *[m[k] for m in mapped]) for k in range(parts)])
    return {c: np.concatenate([d[c] for d in done]) for c in done[0]}


def _split_block(block: pa.Table, keyed, kwargs: dict, parts: int):
    """Map side of _shuffle: the block's keyed rows, one dict of arrays per partition."""
    h, cols = keyed(block, **kwargs)
    part = h % np.uint64(parts)
    order = np.argsort(part, kind="stable")
    cuts = np.searchsorted(part[order], np.arange(1, parts, dtype=np.uint64))
    out = [{c: v[at] for c, v in cols.items()} for at in np.split(order, cuts)]
    return out if parts > 1 else out[0]


def _reduce_partition(reduce, *pieces: dict) -> dict:
    return reduce({c: np.concatenate([p[c] for p in pieces]) for c in pieces[0]})


def _head_pairs(cols: dict, *keys: str) -> dict:
    """Reduce side of a dedup shuffle: every row paired with the first row (smallest `_pos`)
    of its group of equal `keys` columns: {"a": first, "b": row} for the rows that are not
    first (what the local kernels pair). A position appears once per group."""
    order = _group_order([cols[k] for k in keys])
    equal = np.ones(max(len(order) - 1, 0), dtype=bool)
    for k in keys:
        ks = cols[k][order]
        equal &= ks[1:] == ks[:-1]
    pos = cols["_pos"][order]
    start = np.flatnonzero(np.r_[True, ~equal])
    if not len(pos):
        return {"a": pos, "b": pos}
    first = np.minimum.reduceat(pos, start)[np.cumsum(np.r_[True, ~equal]) - 1]  # each row's group's first
    other = pos != first
    return {"a": first[other], "b": pos[other]}


def _group_order(keys: list[np.ndarray]) -> np.ndarray:
    """An order that brings rows with equal `keys` (non-negative integer columns) together: one
    argsort of the keys packed into 64 bits when they fit (a MinHash band key of 4 bytes and
    its bucket number), else a lexsort (a third of the time for the first)."""
    packed, bits = np.zeros(len(keys[0]), dtype=np.uint64), 0
    for k in keys:
        width = int(k.max()).bit_length() if len(k) else 0
        if bits + width > 64:
            return np.lexsort(keys)
        packed = (packed << np.uint64(width)) | k.astype(np.uint64)
        bits += width
    return np.argsort(packed)


_PICKED = ("id", "length", "text", "content")


def _rows_at(frame, nodes: np.ndarray, view: str | None = None) -> dict:
    """id, length, content hash (workbench.store.reconcile.content_hash) and the `view` text
    of the rows at the sorted positions `nodes`, in that order: one pass over the blocks with
    the positions broadcast."""
    import ray

    if not len(nodes):
        return {c: np.empty(0, dtype=np.int64 if c == "length" else object) for c in _PICKED}
    got = _collect(frame.map_batches(_pick_rows, batch_format="pyarrow", batch_size=BATCH_ROWS,
                                     fn_kwargs={"nodes_ref": [ray.put(nodes)], "view": view}), "_pos", *_PICKED)
    order = np.argsort(got["_pos"], kind="stable")
    return {c: got[c][order] for c in _PICKED}


def _among(pos: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Which of `pos` are in the sorted `nodes`: a binary search per position (np.isin sorts
    the broadcast nodes again for every batch: 33 ms a batch of 1,024 against 100k nodes)."""
    at = np.minimum(np.searchsorted(nodes, pos), len(nodes) - 1)
    return nodes[at] == pos if len(nodes) else np.zeros(len(pos), dtype=bool)


def _pick_rows(batch: pa.Table, nodes_ref, view: str | None) -> dict:
    import ray

    from workbench.store.reconcile import content_hash

    picked = batch.filter(pa.array(_among(batch.column("_pos").to_numpy(), ray.get(nodes_ref[0]))))
    texts = _dataset(picked).texts(view) if view else [""] * picked.num_rows
    return {"_pos": picked.column("_pos").to_numpy(), "id": np.array(picked.column("id").to_pylist(), dtype=object),
            "length": picked.column("length").to_numpy(), "text": np.array(texts, dtype=object),
            "content": np.array([content_hash(r) for r in _dataset(picked).records()], dtype=object)}


# -- row scope: filter, decontam -----------------------------------------------------------


def _filter_batch(batch: pa.Table, rules) -> dict:
    from workbench.ops.filters import Checker

    checker = Checker(rules)
    pos, ids, reasons = [], [], []
    for p, rec in zip(batch.column("_pos").to_pylist(), _dataset(batch).records()):
        why = checker.reasons(rec)
        if why:
            pos.append(p)
            ids.append(rec["id"])
            reasons.append(json.dumps(why))
    return {"_pos": np.array(pos, dtype=np.int64), "id": np.array(ids, dtype=object),
            "reasons": np.array(reasons, dtype=object)}


def _filter(op, frame, n, params, ctx, compact: bool) -> Result:
    from workbench.ops.filters import filter_result

    got = _collect(frame.map_batches(_filter_batch, batch_format="pyarrow", batch_size=BATCH_ROWS,
                                     fn_kwargs={"rules": params}), "_pos", "id", "reasons")
    order = np.argsort(got["_pos"], kind="stable")
    return filter_result([(got["id"][k], json.loads(got["reasons"][k])) for k in order], n, params, compact=compact)


def _decontam_batch(batch: pa.Table, index_ref, view: str) -> dict:
    import ray

    from workbench.ops.decontam import chunk_hits

    index = ray.get(index_ref[0])  # the broadcast copy in this node's object store
    pos = batch.column("_pos").to_pylist()
    ids = batch.column("id").to_pylist()
    hits = chunk_hits(index, _dataset(batch).texts(view), [str(k) for k in range(len(pos))])
    at = [int(h.pop("row")) for h in hits]
    return {"_pos": np.array([pos[k] for k in at], dtype=np.int64), "id": np.array([ids[k] for k in at], dtype=object),
            "hit": np.array([json.dumps(h) for h in hits], dtype=object)}


def _decontam(op, frame, n, params, ctx, compact: bool) -> Result:
    import ray

    from workbench.ops.decontam import NgramIndex, decontam_result, parse_against

    # Broadcast whole to the workers: never spilled to this machine's disk (math.inf keys).
    index = NgramIndex([parse_against(spec) for spec in params.against], n=params.ngram, max_keys=math.inf)
    ctx.check()
    ref = ray.put(index)
    # The ref goes in a list so that Ray hands the workers the reference, not a copy per call.
    got = _collect(frame.map_batches(_decontam_batch, batch_format="pyarrow", batch_size=BATCH_ROWS,
                                     fn_kwargs={"index_ref": [ref], "view": params.view}), "_pos", "id", "hit")
    order = np.argsort(got["_pos"], kind="stable")  # a row's hits stay in their kernel order
    hits = [{"row": got["id"][k], **json.loads(got["hit"][k])} for k in order]
    return decontam_result(index, n, hits, compact=compact)


# -- dataset scope: exact and MinHash dedup -------------------------------------------------


def _clusters(op, frame, n, a, b, sim, params, ctx, report_params: dict, compact: bool, verify: bool = False):
    """Clusters of the candidate pairs (a, b: positions, a < b) over their rows only (the
    driver holds the rows that have a duplicate, not the dataset), kept by the step's policy;
    with `verify`, pairs below the threshold by the verified similarity are dropped first.
    Returns (Result, pairs kept)."""
    from workbench.ops.clusters import build_clusters, dedup_result
    from workbench.ops.dedup import _number
    from workbench.ops.minhash import verified_similarity

    nodes = np.unique(np.concatenate([a, b]))
    rows = _rows_at(frame, nodes, params.view if verify else None)
    a, b = np.searchsorted(nodes, a), np.searchsorted(nodes, b)  # positions -> their rank among the nodes
    if verify:
        sim = verified_similarity(rows["text"], a, b, params)
        keep = sim >= (params.verify_threshold if params.verify_threshold is not None else params.threshold)
        a, b, sim = a[keep], b[keep], sim[keep]
    scores = op.scores(params, ctx)
    ids = rows["id"].tolist()
    # Ties broken by content hash, as workbench.ops.dedup.content_keys does on the local engine.
    clusters = build_clusters(len(nodes), a, b, sim, keep=params.keep, lengths=rows["length"],
                              scores=[_number(scores.get(rid)) for rid in ids] if scores is not None else None,
                              stable_keys=lambda at: rows["content"][at].tolist())
    return dedup_result(op.name, report_params, clusters, ids, n, compact=compact), len(a)


def _exact_keyed(block: pa.Table, params) -> tuple[np.ndarray, dict]:
    """Map side of the exact-dedup shuffle: each row's 16-byte key as two uint64 and its KTO
    group (rows without a key — empty once normalised — are left out)."""
    from workbench.ops.dedup_exact import _ascii_table, _chunk_keys

    texts, table = _dataset(block).texts(params.view), _ascii_table(params)
    keys = [k for s in range(0, len(texts), BATCH_ROWS) for k in _chunk_keys(texts[s:s + BATCH_ROWS], params, table)]
    keep = np.array([k is not None for k in keys], dtype=bool)
    kk = np.frombuffer(b"".join(k for k in keys if k is not None), dtype=np.uint64).reshape(-1, 2)
    group = _groups(block)[keep]
    return kk[:, 0] ^ group.astype(np.uint64), {"_pos": block.column("_pos").to_numpy()[keep], "k0": kk[:, 0],
                                                "k1": kk[:, 1], "group": group}


def _exact_pairs(cols: dict) -> dict:
    return _head_pairs(cols, "k1", "k0", "group")


def _dedup_exact(op, frame, n, params, ctx, compact: bool) -> Result:
    from workbench.ops.dedup_exact import params_dict

    op.scores(params, ctx)  # a missing score signal fails before the shuffle
    pairs = _shuffle(frame, _exact_keyed, _exact_pairs, _partitions(n, 25), params=params)
    ctx.check()
    a, b = _pairs_in_order(pairs["a"], pairs["b"])
    result, _ = _clusters(op, frame, n, a, b, np.ones(len(a)), params, ctx,
                          {"method": "exact", "view": params.view, **params_dict(params)}, compact)
    return result


def _minhash_signatures(batch: pa.Table, params) -> dict:
    """Stage 1: the 8-bit MinHash signature of each row (`has`: 0 for a row without shingles)."""
    from workbench.ops.minhash import _permutations, signatures

    sig, has = signatures(_dataset(batch).texts(params.view), params, _permutations(params.num_perm, params.seed))
    width = sig.shape[1]
    return pa.table({"_pos": batch.column("_pos"), "_group": _groups(batch), "has": has.astype(np.int64),
                     "sig": pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), len(sig),
                                                                 [None, pa.py_buffer(sig.tobytes())])})


def _sig_matrix(column) -> np.ndarray:
    """A column of fixed-size signatures (workbench.ops.minhash bytes) as a rows x num_perm uint8 matrix."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    width = arr.type.byte_width
    return np.frombuffer(arr.buffers()[1], dtype=np.uint8, count=len(arr) * width,
                         offset=arr.offset * width).reshape(len(arr), width)


def _minhash_keyed(block: pa.Table, bands: int, rows: int) -> tuple[np.ndarray, dict]:
    """Map side of the MinHash shuffle: one row per (row with shingles, band) with its LSH
    bucket (band and KTO group as one number, the band key) and position only; the signature
    stays behind (fetched for the candidate pairs afterwards)."""
    from workbench.ops.minhash import band_keys

    has = block.column("has").to_numpy() > 0
    pos, group = block.column("_pos").to_numpy()[has], block.column("_group").to_numpy()[has]
    sig = _sig_matrix(block.column("sig"))[has]
    key = np.concatenate([band_keys(sig, band, rows) for band in range(bands)])
    bucket = (np.arange(bands, dtype=np.int64)[:, None] * 3 + group[None, :].astype(np.int64)).ravel()
    with np.errstate(over="ignore"):
        h = key ^ (bucket.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    return h, {"_pos": np.tile(pos, bands), "key": key, "bucket": bucket}


def _minhash_pairs(cols: dict) -> dict:
    return _head_pairs(cols, "key", "bucket")


def _pick_signatures(batch: pa.Table, nodes_ref) -> pa.Table:
    import ray

    return batch.select(["_pos", "sig"]).filter(pa.array(_among(batch.column("_pos").to_numpy(),
                                                                    ray.get(nodes_ref[0]))))


def _signatures_at(sigs, nodes: np.ndarray) -> np.ndarray:
    """The signatures (len(nodes) x num_perm, uint8) of the rows at the sorted positions `nodes`."""
    import ray

    got = [b for b in sigs.map_batches(_pick_signatures, batch_format="pyarrow", batch_size=None,
                                       fn_kwargs={"nodes_ref": [ray.put(nodes)]}).iter_batches(
        batch_format="pyarrow", batch_size=None)]
    table = pa.concat_tables(got)
    return _sig_matrix(table.column("sig"))[np.argsort(table.column("_pos").to_numpy(), kind="stable")]


def _dedup_minhash(op, frame, n, params, ctx, compact: bool) -> Result:
    from workbench.ops.minhash import estimated_jaccard, params_dict

    params.validate()
    op.scores(params, ctx)  # a missing score signal fails before the shuffle
    bands, rows = params.banding()
    sigs = frame.map_batches(_minhash_signatures, batch_format="pyarrow", batch_size=BATCH_ROWS,
                             fn_kwargs={"params": params}).materialize()
    empty = n - int(_collect(sigs.select_columns(["has"]), "has")["has"].sum())  # (Dataset.sum starts a hash aggregation)
    # One row per (row, band): its band key, bucket number and position, 24 bytes.
    pairs = _shuffle(sigs, _minhash_keyed, _minhash_pairs, _partitions((n - empty) * bands, 24),
                     bands=bands, rows=rows)
    ctx.check()
    a, b = _pairs_in_order(pairs["a"], pairs["b"])
    nodes = np.unique(np.concatenate([a, b]))
    sim = (estimated_jaccard(_signatures_at(sigs, nodes), np.searchsorted(nodes, a), np.searchsorted(nodes, b))
           if len(a) else np.ones(0))
    n_candidates = len(a)
    verify = params.verify != "none" and len(a) > 0
    if not verify:
        keep = sim >= params.threshold
        a, b, sim = a[keep], b[keep], sim[keep]
    result, kept = _clusters(op, frame, n, a, b, sim, params, ctx,
                             {"method": "minhash", "view": params.view, **params_dict(params)}, compact, verify=verify)
    result.report.update({"candidate_pairs": n_candidates, "pairs_kept": kept, "rows_without_shingles": empty})
    return result


_STAGES = dict(zip(RAY_STAGES, (_filter, _decontam, _dedup_exact, _dedup_minhash)))
