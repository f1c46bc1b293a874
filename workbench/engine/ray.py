"""The Ray engine: recipe steps as Ray Data stages. The only module that imports ray (lazily).

Row-scoped operations are `map_batches` over Arrow batches of canonical records: the rule
filter checks rows on the workers; decontamination broadcasts the benchmark n-gram index
(`ray.put`, one copy per node) and looks every batch up in it. Whole-dataset dedup is split
into stages the way datatrove and NeMo Curator split it:

    exact:   key per row (normalised text, blake2b)   -> shuffle by key  -> pairs
    minhash: signatures per batch -> (band, bucket key) rows -> shuffle by bucket -> candidate
             pairs with their estimated Jaccard
    both:    the rows of the pairs fetched by position, connected components and
             representatives in the driver (workbench.ops.clusters) over those rows only

The kernels are the local engine's (workbench.ops.minhash, dedup_exact, decontam, filters),
so a step gives the same Result as `Engine` does: the same flagged rows, clusters (the same
seed gives the same permutations) and signals. Results come back to the driver, which saves
them with `apply_result` as the local engine does. Operations without stages here (template
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

    def close(self) -> None:
        import ray

        if self._started and ray.is_initialized():
            ray.shutdown()
            self._started = False

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
            frame = _frame(ds)
        ctx.check()
        result = stage(op, frame, len(ds), params, ctx)
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
    """A Ray dataset of `ds`'s table with its row positions (`_pos`), in blocks of BATCH_ROWS
    rows (the blocks the workers share out)."""
    import ray

    table = ds.table.append_column("_pos", pa.array(np.arange(len(ds), dtype=np.int64)))
    blocks = [table.slice(s, BATCH_ROWS) for s in range(0, len(ds), BATCH_ROWS)] or [table]
    return ray.data.from_arrow(blocks)


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


def _pairs_in_order(a, b, sim=None):
    """Pairs (a < b) deduplicated and sorted, as the local kernels produce them."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if not len(a):
        return a, b, np.ones(0) if sim is None else np.asarray(sim, dtype=np.float64)
    keyed, first = np.unique(np.stack([a, b], axis=1), axis=0, return_index=True)
    s = np.ones(len(keyed)) if sim is None else np.asarray(sim, dtype=np.float64)[first]
    return keyed[:, 0], keyed[:, 1], s


def _partitions(rows: int, row_bytes: int) -> int:
    """Shuffle partitions for `rows` rows of about `row_bytes` bytes each: enough that each
    reduce task holds about SHUFFLE_PARTITION_BYTES, never fewer than Ray's default, so a
    worker's memory stays bounded however many rows there are."""
    from ray.data import DataContext

    return max(DataContext.get_current().default_hash_shuffle_parallelism,
               math.ceil(rows * row_bytes / SHUFFLE_PARTITION_BYTES))


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


def _pick_rows(batch: pa.Table, nodes_ref, view: str | None) -> dict:
    import ray

    from workbench.store.reconcile import content_hash

    picked = batch.filter(pa.array(np.isin(batch.column("_pos").to_numpy(), ray.get(nodes_ref[0]))))
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


def _filter(op, frame, n, params, ctx) -> Result:
    from workbench.ops.filters import filter_result

    got = _collect(frame.map_batches(_filter_batch, batch_format="pyarrow", batch_size=BATCH_ROWS,
                                     fn_kwargs={"rules": params}), "_pos", "id", "reasons")
    order = np.argsort(got["_pos"], kind="stable")
    return filter_result([(got["id"][k], json.loads(got["reasons"][k])) for k in order], n, params)


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


def _decontam(op, frame, n, params, ctx) -> Result:
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
    return decontam_result(index, n, hits)


# -- dataset scope: exact and MinHash dedup -------------------------------------------------


def _clusters(op, frame, n, a, b, sim, params, ctx, report_params: dict, verify: bool = False):
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
    return dedup_result(op.name, report_params, clusters, ids, n), len(a)


def _exact_keys(batch: pa.Table, params) -> dict:
    from workbench.ops.dedup_exact import _ascii_table, _chunk_keys

    keys = _chunk_keys(_dataset(batch).texts(params.view), params, _ascii_table(params))
    groups = _groups(batch)
    pos = batch.column("_pos").to_pylist()
    keep = [k for k, key in enumerate(keys) if key is not None]
    return {"_pos": np.array([pos[k] for k in keep], dtype=np.int64),
            "key": np.array([(keys[k] + bytes([groups[k]])).hex() for k in keep], dtype=object)}


def _exact_pairs(group: dict) -> dict:
    """One hash bucket: every member paired with the bucket's first row."""
    pos = np.sort(group["_pos"])
    return {"a": np.full(len(pos) - 1, pos[0] if len(pos) else 0, dtype=np.int64), "b": pos[1:]}


def _dedup_exact(op, frame, n, params, ctx) -> Result:
    from workbench.ops.dedup_exact import params_dict

    op.scores(params, ctx)  # a missing score signal fails before the shuffle
    keyed = frame.map_batches(_exact_keys, batch_format="pyarrow", batch_size=BATCH_ROWS, fn_kwargs={"params": params})
    pairs = _collect(keyed.groupby("key", num_partitions=_partitions(n, 48)).map_groups(
        _exact_pairs, batch_format="numpy"), "a", "b")
    ctx.check()
    a, b, sim = _pairs_in_order(pairs["a"], pairs["b"])
    result, _ = _clusters(op, frame, n, a, b, sim, params, ctx,
                          {"method": "exact", "view": params.view, **params_dict(params)})
    return result


def _minhash_signatures(batch: pa.Table, params) -> dict:
    """Stage 1: the 8-bit MinHash signature of each row (`has`: 0 for a row without shingles)."""
    from workbench.ops.minhash import _permutations, signatures

    sig, has = signatures(_dataset(batch).texts(params.view), params, _permutations(params.num_perm, params.seed))
    return {"_pos": batch.column("_pos").to_numpy(), "_group": _groups(batch),
            "has": has.astype(np.int64), "sig": np.array([s.tobytes() for s in sig], dtype=object)}


def _minhash_bands(batch: dict, bands: int, rows: int) -> dict:
    """Stage 2: one row per (row with shingles, band): the LSH bucket it falls in (band, KTO
    group, band key) and the signature its bucket's pairs are scored with."""
    from workbench.ops.minhash import band_keys

    has = batch["has"] > 0
    pos, group, raw = batch["_pos"][has], batch["_group"][has], batch["sig"][has]
    sig = np.frombuffer(b"".join(raw.tolist()), dtype=np.uint8).reshape(len(pos), -1)
    bucket = [f"{band}:{g}:{k}" for band in range(bands)
              for g, k in zip(group.tolist(), band_keys(sig, band, rows).tolist())]
    return {"bucket": np.array(bucket, dtype=object), "_pos": np.tile(pos, bands), "sig": np.tile(raw, bands)}


def _minhash_pairs(group: dict) -> dict:
    """One LSH bucket: each member paired with its first row, with the estimated Jaccard."""
    from workbench.ops.minhash import estimated_jaccard

    order = np.argsort(group["_pos"], kind="stable")
    pos = group["_pos"][order]
    sig = np.frombuffer(b"".join(group["sig"][order].tolist()), dtype=np.uint8).reshape(len(pos), -1)
    others = np.arange(1, len(pos))
    sim = estimated_jaccard(sig, np.zeros(len(others), dtype=np.int64), others)
    return {"a": np.full(len(others), pos[0], dtype=np.int64), "b": pos[1:], "sim": sim}


def _dedup_minhash(op, frame, n, params, ctx) -> Result:
    from workbench.ops.minhash import params_dict

    params.validate()
    op.scores(params, ctx)  # a missing score signal fails before the shuffle
    bands, rows = params.banding()
    sigs = frame.map_batches(_minhash_signatures, batch_format="pyarrow", batch_size=BATCH_ROWS,
                             fn_kwargs={"params": params}).materialize()
    empty = n - int(sigs.sum("has") or 0)
    banded = sigs.map_batches(_minhash_bands, batch_format="numpy", batch_size=BATCH_ROWS,
                              fn_kwargs={"bands": bands, "rows": rows})
    # One row per (row, band): its bucket key (~30 bytes), position and signature.
    shuffle = banded.groupby("bucket", num_partitions=_partitions((n - empty) * bands, 40 + params.num_perm))
    pairs = _collect(shuffle.map_groups(_minhash_pairs, batch_format="numpy"), "a", "b", "sim")
    ctx.check()
    a, b, sim = _pairs_in_order(pairs["a"], pairs["b"], pairs["sim"])
    n_candidates = len(a)
    verify = params.verify != "none" and len(a) > 0
    if not verify:
        keep = sim >= params.threshold
        a, b, sim = a[keep], b[keep], sim[keep]
    result, kept = _clusters(op, frame, n, a, b, sim, params, ctx,
                             {"method": "minhash", "view": params.view, **params_dict(params)}, verify=verify)
    result.report.update({"candidate_pairs": n_candidates, "pairs_kept": kept, "rows_without_shingles": empty})
    return result


_STAGES = dict(zip(RAY_STAGES, (_filter, _decontam, _dedup_exact, _dedup_minhash)))
