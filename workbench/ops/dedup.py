"""Dedup over a Dataset with any method, and the three dedup operations (dedup-exact,
dedup-minhash, dedup-embedding) that wrap the kernels for the CLI, the TUI and recipes.

    result = dedup_dataset(ds, "minhash", MinHashParams(threshold=0.6))
    apply_result(ws, result)   # workbench.ops.base: signals + proposed rejections, one run
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from workbench.data.record import TEXT_VIEWS
from workbench.ops.base import Context, Operation, Params, ParamError, Result, param, subset
from workbench.ops.dedup_embedding import EmbeddingParams
from workbench.ops.dedup_exact import ExactParams
from workbench.ops.minhash import MinHashParams
from workbench.ops.oprun import DatasetTexts

METHODS = ("exact", "minhash", "embedding")


def default_params(method: str):
    if method == "exact":
        from workbench.ops.dedup_exact import ExactParams

        return ExactParams()
    if method == "minhash":
        from workbench.ops.minhash import MinHashParams

        return MinHashParams()
    if method == "embedding":
        from workbench.ops.dedup_embedding import EmbeddingParams

        return EmbeddingParams()
    raise ValueError(f"unknown dedup method {method!r}; expected one of {', '.join(METHODS)}")


def kto_groups(ds) -> np.ndarray | None:
    """0 for unlabelled rows, 1 desirable, 2 undesirable; None when no row is labelled.

    A KTO good/bad pair shares its prompt on purpose: rows with different labels are never
    each other's duplicates."""
    labels = ds.table.column("label")
    if labels.null_count == len(labels):
        return None
    return np.array([0 if v is None else 1 if v else 2 for v in labels.to_pylist()], dtype=np.int8)


def dedup_dataset(
    ds,
    method: str = "minhash",
    params: Any = None,
    *,
    view: str = "conversation",
    scores: dict[str, Any] | None = None,
    ws=None,
    progress: Callable[[int], None] | None = None,
    cancel=None,
) -> Result:
    """Clusters of duplicate rows of `ds`. `scores` (row id -> number, e.g. a judge's signal)
    serve the keep="score" policy; `ws` lets embedding dedup record its embedding run;
    `cancel` (a threading.Event) stops exact and MinHash dedup between chunks (oprun.Cancelled)."""
    from workbench.ops.clusters import dedup_result

    p = params if params is not None else default_params(method)
    view = getattr(p, "view", view)
    texts = DatasetTexts(ds, view)
    ids = ds.ids
    score_list = [_number(scores.get(rid)) for rid in ids] if scores is not None else None
    if getattr(p, "keep", "first") == "score" and score_list is None:
        raise ValueError("keep policy 'score' needs scores (e.g. --score-signal NAME)")
    lengths = ds.column("length") if getattr(p, "keep", "first") == "longest" else None
    groups = kto_groups(ds)
    keys = content_keys(ds)
    if method == "exact":
        from workbench.ops.dedup_exact import exact_dedup, params_dict

        clusters = exact_dedup(texts, p, lengths=lengths, scores=score_list, progress=progress, cancel=cancel,
                               groups=groups, stable_keys=keys)
        extra: dict = {}
    elif method == "minhash":
        from workbench.ops.minhash import minhash_dedup, params_dict

        clusters, stats = minhash_dedup(texts, p, lengths=lengths, scores=score_list, progress=progress, cancel=cancel,
                                        groups=groups, stable_keys=keys)
        extra = {"candidate_pairs": stats.candidates, "pairs_kept": stats.kept_pairs, "rows_without_shingles": stats.empty}
    elif method == "embedding":
        from workbench.explore.embed import embed_dataset
        from workbench.ops.dedup_embedding import embedding_dedup, params_dict

        emb = embed_dataset(ds, ws, view=view, model=p.model,
                            progress=(lambda done, total: progress(done)) if progress else None)
        empty = np.fromiter((not t.strip() for chunk in texts.chunks() for t in chunk), bool, len(texts))
        clusters = embedding_dedup(emb, p, lengths=lengths, scores=score_list, empty=empty, groups=groups,
                                   stable_keys=keys)
        extra = {}
    else:
        raise ValueError(f"unknown dedup method {method!r}; expected one of {', '.join(METHODS)}")
    result = dedup_result(f"dedup-{method}", {"method": method, "view": view, **params_dict(p)}, clusters, ids, len(ds))
    result.report.update(extra)
    return result


def content_keys(ds) -> Callable[[list[int]], list[str]]:
    """Positions -> content hashes of those rows: the tie-break that keeps a cluster's
    representative the same whatever order the rows are read in (clusters.build_clusters)."""

    def keys(positions: list[int]) -> list[str]:
        from workbench.store.reconcile import content_hashes

        ids = ds.ids
        hashes = content_hashes(ds, [ids[i] for i in positions])
        return [hashes.get(ids[i], "") for i in positions]

    return keys


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, dict):  # a judge's signal may hold {"score": ...}
        return _number(v.get("score"))
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


# -- the operations --------------------------------------------------------------------

VIEWS = tuple(TEXT_VIEWS)
KEEPS = ("first", "longest", "score")


class _Keep:
    """The keep policy's check, shared by the three dedup parameter sets."""

    def validate(self) -> None:
        super().validate()
        if self.keep == "score" and not self.score_signal:
            raise ParamError("keep policy 'score' needs score_signal (--score-signal NAME)")


@dataclass
class ExactDedupParams(_Keep, Params, ExactParams):
    choices = {"view": VIEWS, "keep": KEEPS}
    score_signal: str | None = param(None, help="signal whose highest value is kept, with keep=score")


@dataclass
class MinHashDedupParams(_Keep, Params, MinHashParams):
    choices = {"view": VIEWS, "keep": KEEPS, "unit": ("word", "char"), "verify": ("none", "jaccard", "rapidfuzz")}
    score_signal: str | None = param(None, help="signal whose highest value is kept, with keep=score")

    def validate(self) -> None:
        super().validate()
        MinHashParams.validate(self)


@dataclass
class EmbeddingDedupParams(_Keep, Params, EmbeddingParams):
    choices = {"view": VIEWS, "keep": KEEPS}
    score_signal: str | None = param(None, help="signal whose highest value is kept, with keep=score")

    def validate(self) -> None:
        super().validate()
        if not 0 < self.threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")


class _Dedup(Operation):
    """Dataset scope: every pair of (selected) rows is compared. Reached from the command line
    as `workbench dedup --method METHOD` (cli/dedup.py keeps that command's flags)."""

    method: str
    scope = "dataset"

    def scores(self, params, ctx: Context) -> dict | None:
        """Row id -> score for keep=score (the workspace's `score_signal`), else None."""
        if not params.score_signal:
            return None
        if ctx.ws is None:
            raise ValueError("score_signal reads the workspace: it cannot run without one")
        scores = ctx.ws.signal_values(params.score_signal)
        if not scores:
            raise ValueError(f"no signal {params.score_signal!r} in the workspace {ctx.ws.path}")
        return scores

    def run(self, ds, params, ctx: Context, rows: list[str] | None = None) -> Result:
        scores = self.scores(params, ctx)
        part = subset(ds, rows)
        result = dedup_dataset(part, self.method, params, scores=scores,
                               progress=lambda done: ctx.report(done, len(part)), cancel=ctx.cancel)
        result.params = params.to_dict()
        return result


class DedupExact(_Dedup):
    name = "dedup-exact"
    Params = ExactDedupParams
    method = "exact"


class DedupMinHash(_Dedup):
    name = "dedup-minhash"
    Params = MinHashDedupParams
    method = "minhash"


class DedupEmbedding(_Dedup):
    name = "dedup-embedding"
    Params = EmbeddingDedupParams
    method = "embedding"
