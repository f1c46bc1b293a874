"""Duplicate clusters from candidate pairs: components, a representative by keep policy, and
for every other member the row it matched and how similar they are. Shared by every dedup method."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from workbench.ops.base import Result
from workbench.ops.unionfind import components

KEEP_POLICIES = ("first", "longest", "score")


@dataclass
class Cluster:
    id: int
    members: list[int]  # dataset positions, ascending
    representative: int
    matched: dict[int, tuple[int, float]] = field(default_factory=dict)  # member -> (row it matched, similarity)


def build_clusters(
    n: int,
    a: np.ndarray,
    b: np.ndarray,
    sim: np.ndarray,
    *,
    keep: str = "first",
    lengths: Sequence[int] | None = None,
    scores: Sequence[float | None] | None = None,
    stable_keys: Callable[[list[int]], Sequence[str]] | None = None,
) -> list[Cluster]:
    """Clusters (size >= 2) of the graph with edges a[k]-b[k] of similarity sim[k], ids in order of
    their first member.

    keep: "longest" keeps the longest text (`lengths`), "score" the highest score (`scores`, None
    ranks last), "first" the earliest row. Ties go to the smallest stable key when
    `stable_keys` (positions -> one string each, e.g. content hashes) is given, else to the
    earliest row: with content keys, "longest" and "score" keep the same rows when the data is
    read in another order (a recipe replayed on a shuffled copy), which "first" cannot.
    """
    if keep not in KEEP_POLICIES:
        raise ValueError(f"unknown keep policy {keep!r}; expected one of {', '.join(KEEP_POLICIES)}")
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    sim = np.asarray(sim, dtype=np.float64)
    labels = components(n, a, b)
    roots, sizes = np.unique(labels, return_counts=True)
    in_cluster = np.isin(labels, roots[sizes > 1])
    nodes = np.flatnonzero(in_cluster)
    if not len(nodes):
        return []
    if keep == "first":
        rank = -nodes.astype(np.float64)
    elif keep == "longest":
        if lengths is None:
            raise ValueError("keep='longest' needs the texts' lengths")
        rank = np.asarray(lengths, dtype=np.float64)[nodes]
    else:
        if scores is None:
            raise ValueError("keep='score' needs a score per row")
        rank = np.array([-np.inf if scores[i] is None else float(scores[i]) for i in nodes])
    # Best rank first, then the stable key (or the earliest row): the first node of each label wins.
    tie = nodes
    if stable_keys is not None and keep != "first":
        tie = np.unique(np.asarray(stable_keys(nodes.tolist()), dtype=object), return_inverse=True)[1].ravel()
    order = np.lexsort((nodes, tie, -rank, labels[nodes]))
    sorted_nodes = nodes[order]
    sorted_labels = labels[sorted_nodes]
    heads = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    rep_of_label = dict(zip(sorted_labels[heads].tolist(), sorted_nodes[heads].tolist()))

    # For each member: the edge to the representative if there is one, else its most similar neighbour.
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    s2 = np.concatenate([sim, sim])
    rep_arr = np.array([rep_of_label.get(int(x), -1) for x in labels[src]], dtype=np.int64)
    to_rep = (dst == rep_arr).astype(np.int8)
    eorder = np.lexsort((dst, -s2, -to_rep, src))
    src, dst, s2 = src[eorder], dst[eorder], s2[eorder]
    first = np.flatnonzero(np.r_[True, src[1:] != src[:-1]])
    best = dict(zip(src[first].tolist(), zip(dst[first].tolist(), s2[first].tolist())))

    members_of: dict[int, list[int]] = {}
    for node in nodes.tolist():
        members_of.setdefault(int(labels[node]), []).append(node)
    clusters = []
    for cid, label in enumerate(sorted(members_of)):
        members = members_of[label]
        rep = rep_of_label[label]
        matched = {m: (best[m][0], round(best[m][1], 4)) for m in members if m != rep}
        clusters.append(Cluster(cid, members, rep, matched))
    return clusters


def dedup_result(op: str, params: dict, clusters: list[Cluster], ids: Sequence[str], n_rows: int, *,
                 compact: bool = False) -> Result:
    """Signals, proposed rejections and the report of a dedup run, in the dataset's row ids.
    `compact` (a cluster run's result, written from the driver): the signals are an iterator
    made as they are written (workbench.ops.base.apply_result reads it once) and the report
    counts the clusters instead of listing them, so no per-row list is built beside them."""
    method = op.removeprefix("dedup-")
    signals = dedup_signals(clusters, ids)
    rejects = {ids[m]: f"{method} duplicate: not its cluster's representative"
               for c in clusters for m in c.members if m in c.matched}
    if compact:
        return Result(op, params, signals, rejects, {"op": op, "params": params, "rows": n_rows,
                                                     "clusters": len(clusters), "duplicates": len(rejects)},
                      _dedup_summary(op, n_rows, len(clusters), len(rejects)))
    signals = list(signals)
    by_size = sorted(clusters, key=lambda c: (-len(c.members), c.id))
    report = {
        "op": op,
        "params": params,
        "rows": n_rows,
        "clusters": [
            {
                "id": c.id,
                "members": [ids[m] for m in c.members],
                "representative": ids[c.representative],
                "matched": {ids[m]: {"row": ids[o], "similarity": s} for m, (o, s) in c.matched.items()},
            }
            for c in by_size
        ],
        "duplicates": len(rejects),
    }
    return Result(op, params, signals, rejects, report, _dedup_summary(op, n_rows, len(clusters), len(rejects)))


def dedup_signals(clusters: list[Cluster], ids: Sequence[str]) -> Iterator[tuple[str, str, Any]]:
    """(row id, name, value) of every member of every cluster: its cluster, the cluster's size
    and representative, and for a duplicate the row it matched and their similarity."""
    for c in clusters:
        rep = ids[c.representative]
        for m in c.members:
            rid = ids[m]
            yield from ((rid, "cluster", c.id), (rid, "cluster_size", len(c.members)), (rid, "representative", rep))
            if m in c.matched:
                other, s = c.matched[m]
                yield from ((rid, "matched", ids[other]), (rid, "similarity", s))


def _dedup_summary(op: str, n_rows: int, clusters: int, duplicates: int) -> str:
    return (f"{op}: {n_rows} rows, {clusters} clusters, "
            f"{duplicates} duplicates proposed for rejection (one representative kept per cluster)")
