"""The Ray engine: recipe steps as Ray Data stages. The only module that imports ray (lazily).

Row-scoped operations are `map_batches` over Arrow batches of canonical records: the rule
filter checks rows on the workers; decontamination broadcasts the benchmark n-gram index
(`ray.put`, one copy per node) and looks every batch up in it. Whole-dataset dedup is split
into stages the way datatrove and NeMo Curator split it:

    exact:   key per row (normalised text, blake2b)   -> shuffle by key  -> pairs
    minhash: signatures per batch -> (band, bucket key) rows -> shuffle by bucket -> candidate
             pairs with their estimated Jaccard
    both:    connected components and representatives in the driver (workbench.ops.clusters)

The kernels are the local engine's (workbench.ops.minhash, dedup_exact, decontam, filters),
so a step gives the same Result as `Engine` does: the same flagged rows, clusters (the same
seed gives the same permutations) and signals. Results come back to the driver, which saves
them with `apply_result` as the local engine does. Operations without stages here (template
lint, embeddings, LLM steps, mix, map) run in the driver, as on the local engine.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from workbench.engine.base import Engine
from workbench.ops.base import Context, Operation, Params, Result, subset

BATCH_ROWS = 1024  # rows per map_batches call (the local kernels' chunk size)


class RayEngine(Engine):
    """Runs filter, dedup-exact, dedup-minhash and decontam on Ray Data. `address`:
    "ray://HOST:PORT" or "auto" (an existing cluster); None starts a local instance with
    `num_cpus` CPUs (all by default), shut down by close()."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None):
        import ray

        self._started = not ray.is_initialized()
        if self._started:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
        from ray.data import DataContext

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
        if stage is None:
            return op.run(ds, params, ctx, rows)
        ctx.check()
        part = subset(ds, rows)
        result = stage(op, part, params, ctx)
        result.params = params.to_dict()
        ctx.report(len(part), len(part))
        return result


# -- helpers ------------------------------------------------------------------------------


def _frame(ds, columns: dict | None = None):
    """A Ray dataset of `ds`'s table with its row positions (`_pos`) and extra columns, in
    blocks of BATCH_ROWS rows (the blocks the workers share out)."""
    import ray

    table = ds.table.append_column("_pos", pa.array(np.arange(len(ds), dtype=np.int64)))
    for name, values in (columns or {}).items():
        table = table.append_column(name, pa.array(values))
    blocks = [table.slice(s, BATCH_ROWS) for s in range(0, len(ds), BATCH_ROWS)] or [table]
    return ray.data.from_arrow(blocks)


def _dataset(batch: pa.Table):
    from workbench.data.dataset import Dataset

    return Dataset(batch)


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


# -- row scope: filter, decontam -----------------------------------------------------------


def _filter_batch(batch: pa.Table, rules) -> dict:
    from workbench.ops.filters import Checker

    checker = Checker(rules)
    pos, reasons = [], []
    for p, rec in zip(batch.column("_pos").to_pylist(), _dataset(batch).records()):
        why = checker.reasons(rec)
        if why:
            pos.append(p)
            reasons.append(json.dumps(why))
    return {"_pos": np.array(pos, dtype=np.int64), "reasons": np.array(reasons, dtype=object)}


def _filter(op, ds, params, ctx) -> Result:
    from workbench.ops.filters import filter_result

    got = _collect(_frame(ds).map_batches(_filter_batch, batch_format="pyarrow", batch_size=BATCH_ROWS,
                                          fn_kwargs={"rules": params}), "_pos", "reasons")
    order = np.argsort(got["_pos"], kind="stable")
    ids = ds.ids
    flags = [(ids[got["_pos"][k]], json.loads(got["reasons"][k])) for k in order]
    return filter_result(flags, len(ds), params)


def _decontam_batch(batch: pa.Table, index_ref, view: str) -> dict:
    import ray

    from workbench.ops.decontam import chunk_hits

    index = ray.get(index_ref[0])  # the broadcast copy in this node's object store
    pos = batch.column("_pos").to_pylist()
    hits = chunk_hits(index, _dataset(batch).texts(view), [str(p) for p in pos])
    return {"_pos": np.array([int(h.pop("row")) for h in hits], dtype=np.int64),
            "hit": np.array([json.dumps(h) for h in hits], dtype=object)}


def _decontam(op, ds, params, ctx) -> Result:
    import ray

    from workbench.ops.decontam import NgramIndex, decontam_result, parse_against

    index = NgramIndex([parse_against(spec) for spec in params.against], n=params.ngram)
    ctx.check()
    ref = ray.put(index)
    # The ref goes in a list so that Ray hands the workers the reference, not a copy per call.
    got = _collect(_frame(ds).map_batches(_decontam_batch, batch_format="pyarrow", batch_size=BATCH_ROWS,
                                          fn_kwargs={"index_ref": [ref], "view": params.view}), "_pos", "hit")
    order = np.argsort(got["_pos"], kind="stable")  # a row's hits stay in their kernel order
    ids = ds.ids
    hits = [{"row": ids[got["_pos"][k]], **json.loads(got["hit"][k])} for k in order]
    return decontam_result(index, len(ds), hits)


# -- dataset scope: exact and MinHash dedup -------------------------------------------------


def _dedup_inputs(op, ds, params, ctx):
    """What the driver needs to build clusters, as the local dedup does: per-row scores for
    keep=score, lengths for keep=longest, and the KTO label groups."""
    from workbench.ops.dedup import _number, kto_groups

    scores = op.scores(params, ctx)
    score_list = [_number(scores.get(rid)) for rid in ds.ids] if scores is not None else None
    lengths = ds.column("length") if params.keep == "longest" else None
    groups = kto_groups(ds)
    return score_list, lengths, np.zeros(len(ds), np.int8) if groups is None else groups


def _exact_keys(batch: pa.Table, params) -> dict:
    from workbench.ops.dedup_exact import _ascii_table, _chunk_keys

    texts = _dataset(batch).texts(params.view)
    keys = _chunk_keys(texts, params, _ascii_table(params))
    groups = batch.column("_group").to_pylist()
    pos = batch.column("_pos").to_pylist()
    keep = [k for k, key in enumerate(keys) if key is not None]
    return {"_pos": np.array([pos[k] for k in keep], dtype=np.int64),
            "key": np.array([(keys[k] + bytes([groups[k]])).hex() for k in keep], dtype=object)}


def _exact_pairs(group: dict) -> dict:
    """One hash bucket: every member paired with the bucket's first row."""
    pos = np.sort(group["_pos"])
    return {"a": np.full(len(pos) - 1, pos[0] if len(pos) else 0, dtype=np.int64), "b": pos[1:]}


def _dedup_exact(op, ds, params, ctx) -> Result:
    from workbench.ops.clusters import build_clusters, dedup_result
    from workbench.ops.dedup_exact import params_dict

    scores, lengths, groups = _dedup_inputs(op, ds, params, ctx)
    keyed = _frame(ds, {"_group": groups}).map_batches(_exact_keys, batch_format="pyarrow", batch_size=BATCH_ROWS,
                                                       fn_kwargs={"params": params})
    pairs = _collect(keyed.groupby("key").map_groups(_exact_pairs, batch_format="numpy"), "a", "b")
    ctx.check()
    a, b, sim = _pairs_in_order(pairs["a"], pairs["b"])
    clusters = build_clusters(len(ds), a, b, sim, keep=params.keep, lengths=lengths, scores=scores)
    return dedup_result("dedup-exact", {"method": "exact", "view": params.view, **params_dict(params)},
                        clusters, ds.ids, len(ds))


def _minhash_signatures(batch: pa.Table, params) -> dict:
    """Stage 1: the 8-bit MinHash signature of each row (`has`: 0 for a row without shingles)."""
    from workbench.ops.minhash import _permutations, signatures

    sig, has = signatures(_dataset(batch).texts(params.view), params, _permutations(params.num_perm, params.seed))
    return {"_pos": batch.column("_pos").to_numpy(), "_group": batch.column("_group").to_numpy(),
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


def _dedup_minhash(op, ds, params, ctx) -> Result:
    from workbench.ops.clusters import build_clusters, dedup_result
    from workbench.ops.minhash import params_dict, verified_similarity
    from workbench.ops.oprun import DatasetTexts

    params.validate()
    bands, rows = params.banding()
    scores, lengths, groups = _dedup_inputs(op, ds, params, ctx)
    sigs = _frame(ds, {"_group": groups}).map_batches(
        _minhash_signatures, batch_format="pyarrow", batch_size=BATCH_ROWS, fn_kwargs={"params": params}).materialize()
    empty = len(ds) - int(sigs.sum("has") or 0)
    banded = sigs.map_batches(_minhash_bands, batch_format="numpy", batch_size=BATCH_ROWS,
                              fn_kwargs={"bands": bands, "rows": rows})
    pairs = _collect(banded.groupby("bucket").map_groups(_minhash_pairs, batch_format="numpy"), "a", "b", "sim")
    ctx.check()
    a, b, sim = _pairs_in_order(pairs["a"], pairs["b"], pairs["sim"])
    n_candidates = len(a)
    if params.verify != "none" and len(a):
        sim = verified_similarity(DatasetTexts(ds, params.view), a, b, params)
    threshold = params.verify_threshold if params.verify != "none" and params.verify_threshold is not None \
        else params.threshold
    keep = sim >= threshold
    a, b, sim = a[keep], b[keep], sim[keep]
    clusters = build_clusters(len(ds), a, b, sim, keep=params.keep, lengths=lengths, scores=scores)
    result = dedup_result("dedup-minhash", {"method": "minhash", "view": params.view, **params_dict(params)},
                          clusters, ds.ids, len(ds))
    result.report.update({"candidate_pairs": n_candidates, "pairs_kept": len(a), "rows_without_shingles": empty})
    return result


_STAGES = {
    "filter": _filter,
    "decontam": _decontam,
    "dedup-exact": _dedup_exact,
    "dedup-minhash": _dedup_minhash,
}
