"""The topic map of a dataset: embeddings -> a 50-d PCA -> k-means topics with k read from a
Ward tree (see cluster.py for how and why) -> a 2-D layout that keeps topics apart for the picture
(project.topic_layout), with c-TF-IDF or LLM labels.

`build_map` is the one pipeline behind `workbench map` and the TUI's Topic map pane. Its result
is saved to the workspace as per-row signals of an operation run named "map" (`cluster`,
`topic`, `map_x`, `map_y`), which `load_map` reads back without recomputing anything.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from workbench.explore.cluster import NOISE
from workbench.explore.topics import ctfidf_keywords, keyword_label, llm_label, representatives

OP = "map"
METHOD = "kmeans"  # what a built map's `method` says; "pca" is the unclustered preview
NOISE_LABEL = "(unclustered)"

# Topic colours, shared by the TUI's map and the HTML page (12 distinct hues; topic 12 reuses 0's).
PALETTE = ("#4e9af1", "#f28e2b", "#59c45a", "#e15759", "#b07aa1", "#edc948", "#76b7b2", "#ff9da7",
           "#9c755f", "#a0cbe8", "#8cd17d", "#d4a6c8")
NOISE_COLOUR = "#6b6b6b"

Stage = Callable[[str], None]  # told what the pipeline is doing now, for progress displays


@dataclass
class TopicMap:
    ids: list[str]
    xy: np.ndarray  # (n, 2) float32 map coordinates
    cluster: np.ndarray  # (n,) cluster id per row, NOISE (-1) for none
    clusters: list[dict] = field(default_factory=list)  # {id, label, keywords, size}, biggest first
    method: str = METHOD

    def members(self, cluster_id: int) -> list[str]:
        return [self.ids[i] for i in np.flatnonzero(self.cluster == cluster_id)]

    def label_of(self, cluster_id: int) -> str:
        return next((c["label"] for c in self.clusters if c["id"] == cluster_id), NOISE_LABEL)

    def report(self) -> dict:
        """Plain JSON: {rows, method, clusters: [{id, label, keywords, size, members: [row ids]}]}."""
        return {
            "rows": len(self.ids),
            "method": self.method,
            "clusters": [{**c, "members": self.members(c["id"])} for c in self.clusters],
        }


def cluster_colour(cluster_id: int) -> str:
    return NOISE_COLOUR if cluster_id < 0 else PALETTE[cluster_id % len(PALETTE)]


def preview_map(ids: list[str], vectors: np.ndarray) -> TopicMap:
    """An instant PCA layout with no clusters, shown while the map is built."""
    from workbench.explore.project import pca

    return TopicMap(list(ids), pca(vectors), np.full(len(ids), NOISE, dtype=np.int64), [], method="pca")


def build_map(
    ds,
    ws=None,
    *,
    view: str = "all",
    model: str | None = None,
    vectors: np.ndarray | None = None,
    topics: int | None = None,
    labels: str = "keywords",
    llm_model: str | None = None,
    llm_api_base: str | None = None,
    seed: int = 0,
    on_stage: Stage | None = None,
    save: bool = True,
) -> TopicMap:
    """Cluster, project and label `ds`; with a workspace (LLM label cache) and `save`, save
    the result there as signals (the map operation saves through apply_result instead).

    `topics` fixes the number of topics (default: chosen by cluster.topics).
    `labels="llm"` names each cluster with `llm_model` (default: the client's local model) from
    five representative rows (`llm_api_base` for an OpenAI-compatible server); a cluster whose
    call fails keeps its keyword label and says why in `label_error`.
    """
    from workbench.explore.cluster import reduce
    from workbench.explore.cluster import topics as find_topics
    from workbench.explore.embed import embed_dataset
    from workbench.explore.project import topic_layout

    if labels not in ("keywords", "llm"):
        raise ValueError(f"labels must be 'keywords' or 'llm', not {labels!r}")
    stage = on_stage or (lambda s: None)
    if vectors is None:
        stage("embedding")
        vectors = embed_dataset(ds, ws, view=view, model=model)
    stage("clustering (k-means)")
    r = reduce(vectors)
    cluster = find_topics(r, topics, seed=seed)
    stage("projecting")
    xy = topic_layout(r, cluster)
    stage("labelling")
    tm = TopicMap(list(ds.ids), xy, cluster)
    tm.clusters = _keyword_clusters(ds, view, cluster)
    if labels == "llm":
        stage("naming clusters with an LLM")
        _llm_names(ds, view, vectors, tm, ws, llm_model, llm_api_base)
    if ws is not None and save:
        save_map(ws, tm, {"view": view, "model": model, "topics": topics, "labels": labels,
                          "llm_model": llm_model if labels == "llm" else None})
    return tm


def _keyword_clusters(ds, view: str, cluster: np.ndarray) -> list[dict]:
    from workbench.data.record import view_text

    docs: dict[int, list[str]] = {}
    i = 0
    for batch in ds.iter_batches(4096):
        for rec in batch:
            if cluster[i] != NOISE:
                docs.setdefault(int(cluster[i]), []).append(view_text(rec, view))
            i += 1
    kw = ctfidf_keywords(docs)
    sizes = np.bincount(cluster[cluster != NOISE], minlength=len(docs)) if len(docs) else []
    out = [
        {"id": c, "label": keyword_label(kw[c]), "keywords": [t for t, _ in kw[c]], "size": int(sizes[c])}
        for c in sorted(docs)
    ]
    n_noise = int((cluster == NOISE).sum())
    if n_noise:
        out.append({"id": NOISE, "label": NOISE_LABEL, "keywords": [], "size": n_noise})
    return out


def _llm_names(ds, view: str, vectors: np.ndarray, tm: TopicMap, ws, llm_model: str | None,
               api_base: str | None) -> None:
    from workbench.data.record import view_text
    from workbench.llm.client import LLMClient

    client = LLMClient(model=llm_model, api_base=api_base, cache=ws, temperature=0.0, max_tokens=24, concurrency=4)

    def name(c: dict) -> None:
        rows = representatives(vectors, np.flatnonzero(tm.cluster == c["id"]))
        samples = [view_text(ds.record(i), view) for i in rows]
        try:
            label = llm_label(client, c["keywords"], samples)
        except Exception as e:  # one cluster's failure must not lose the others' names
            c["label_error"] = f"{type(e).__name__}: {e}"
            return
        if label:
            c["label"] = label

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(name, [c for c in tm.clusters if c["id"] != NOISE]))


def map_signals(tm: TopicMap) -> list[tuple[str, str, object]]:
    """The map as signals: cluster, topic label and 2-D position of every row."""
    labels = {c["id"]: c["label"] for c in tm.clusters}
    rows = []
    for rid, (x, y), c in zip(tm.ids, tm.xy.tolist(), tm.cluster.tolist()):
        rows += [(rid, "cluster", c), (rid, "topic", labels.get(c, NOISE_LABEL)),
                 (rid, "map_x", round(x, 4)), (rid, "map_y", round(y, 4))]
    return rows


def map_counts(tm: TopicMap) -> dict:
    """What a map run records; the topics' labels and keywords, so a reopened map needs no recount."""
    return {"rows": len(tm.ids), "method": tm.method, "clusters": sum(1 for c in tm.clusters if c["id"] != NOISE),
            "unclustered": int((tm.cluster == NOISE).sum()), "topics": tm.clusters}


def save_map(ws, tm: TopicMap, params: dict | None = None) -> int:
    """Store the map as signals of a new "map" run, in one transaction; returns the run id."""
    return ws.save_run(OP, params or {}, signals=map_signals(tm), counts=map_counts(tm))


def load_map(ws, ids: list[str]) -> TopicMap | None:
    """The latest saved map for rows `ids`, or None when the workspace has none covering them."""
    run = next((r for r in ws.runs(limit=200) if r["op"] == OP and r["status"] == "done"), None)
    if run is None:
        return None
    xs, ys = ws.signal_values("map_x", op=OP), ws.signal_values("map_y", op=OP)
    if any(rid not in xs for rid in ids):
        return None
    return _assemble(ids, xs, ys, ws.signal_values("cluster", op=OP), run["counts"])


def map_from_signals(signals: list[tuple[str, str, object]], counts: dict) -> TopicMap:
    """The map a run's result holds (its `map_signals` and `map_counts`), rows in signal order."""
    by_name: dict[str, dict] = {"map_x": {}, "map_y": {}, "cluster": {}}
    for rid, name, value in signals:
        if name in by_name:
            by_name[name][rid] = value
    return _assemble(list(by_name["map_x"]), by_name["map_x"], by_name["map_y"], by_name["cluster"], counts)


def _assemble(ids: list[str], xs: dict, ys: dict, cl: dict, counts: dict) -> TopicMap:
    xy = np.array([[xs[r], ys[r]] for r in ids], dtype=np.float32).reshape(-1, 2)
    cluster = np.array([cl.get(r, NOISE) for r in ids], dtype=np.int64)
    tm = TopicMap(list(ids), xy, cluster, method=counts.get("method", "umap"))
    sizes = dict(zip(*(a.tolist() for a in np.unique(cluster, return_counts=True))))
    # Sizes are recounted over `ids`: the dataset may have gained or lost rows since.
    tm.clusters = [{**c, "size": sizes[c["id"]]} for c in counts.get("topics", []) if c["id"] in sizes]
    return tm
