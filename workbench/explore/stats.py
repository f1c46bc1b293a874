"""Distributions of a dataset as plain data (bins and counts) for the Stats pane and the CLI.

Token lengths come from a real LLM tokenizer (the bundled SmolLM2 one by default), counted on a
sample of rows for big datasets; kinds and turns are exact (read from the Arrow columns).
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Iterable

import numpy as np

SAMPLE_ROWS = 20000
OWN_SIGNALS = ("map_x", "map_y", "cluster", "topic")  # the topic map's, shown as clusters instead


def histogram(values: Iterable[float], bins: int = 20, integer: bool = False) -> dict:
    """{"bins": edges (len counts + 1), "counts", "over" (rows above the last edge), n, min, max, mean,
    median, p95}. The range stops at the 99th percentile so one outlier does not squash the rest."""
    v = np.asarray(list(values), dtype=np.float64)
    if not len(v):
        return {"bins": [], "counts": [], "over": 0, "n": 0}
    lo, hi = float(v.min()), float(np.percentile(v, 99))
    if integer and np.ceil(hi) - lo <= bins * 2:  # one bin [k, k+1) per whole value up to the tail
        hi = float(np.ceil(hi))
        edges = np.arange(lo, hi + 2)
        counts = np.bincount((v[v <= hi] - lo).astype(np.int64), minlength=len(edges) - 1)
        over = int((v > hi).sum())
    else:
        edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
        if integer:  # whole-number edges for counts (tokens, turns)
            edges = np.unique(np.round(edges))
        counts, _ = np.histogram(np.clip(v, lo, edges[-1]), bins=edges)
        over = int((v > edges[-1]).sum())
        counts[-1] -= over  # np.clip folded the tail into the last bin: report it separately
    return {
        "bins": [round(float(e), 4) for e in edges], "counts": counts.tolist(), "over": over, "n": int(len(v)),
        "min": float(v.min()), "max": float(v.max()), "mean": round(float(v.mean()), 4),
        "median": float(np.median(v)), "p95": float(np.percentile(v, 95)),
    }


def _turn_texts(rec: dict) -> Iterable[tuple[str, str]]:
    """(role, text) of every part of a record that a tokenizer would see."""
    if rec.get("kind") == "text":
        yield "text", rec.get("text") or ""
        return
    if rec.get("system"):
        yield "system", rec["system"]
    for t in rec.get("messages") or ():
        yield t.get("role") or "user", (t.get("reasoning") or "") + (t.get("content") or "")
    for side in ("chosen", "rejected"):
        for t in rec.get(side) or ():
            yield side, (t.get("reasoning") or "") + (t.get("content") or "")


def _count(tok, recs: list[dict]) -> tuple[list[tuple[int, str, str]], list[int], list[int]]:
    """(parts (row, role, text), tokens of each part, tokens of each row) of a batch of records."""
    parts = [(i, role, text) for i, r in enumerate(recs) for role, text in _turn_texts(r)]
    counts = [len(ids) for ids, _ in tok.encode_batch([p[2] for p in parts])] if parts else []
    row_total = [0] * len(recs)
    for (i, _, _), c in zip(parts, counts):
        row_total[i] += c
    return parts, counts, row_total


def row_tokens(ds, tokenizer: str | None = None) -> np.ndarray:
    """Tokens of every row, in dataset order (all its turns, counted as `token_lengths` counts
    them; the bundled SmolLM2 tokenizer by default): what sorting by tokens orders by."""
    from workbench.templates import load_tokenizer

    tok = load_tokenizer(tokenizer)
    out: list[int] = []
    for recs in ds.iter_batches(1024):
        out += _count(tok, recs)[2]
    return np.asarray(out, dtype=np.int64)


def token_lengths(ds, tokenizer: str | None = None, sample: int = SAMPLE_ROWS, seed: int = 0) -> dict:
    """Token counts per turn by role (user, assistant, system, tool, chosen, rejected, text) and
    per row, over all rows or a seeded sample of `sample` rows."""
    from workbench.templates import load_tokenizer

    tok = load_tokenizer(tokenizer)
    n = len(ds)
    if n > sample:
        rows = sorted(random.Random(seed).sample(range(n), sample))
        batches: Iterable[list[dict]] = ([ds.record(i) for i in rows[s : s + 1024]] for s in range(0, sample, 1024))
    else:
        batches = ds.iter_batches(1024)
    per_role: dict[str, list[int]] = {}
    per_row: list[int] = []
    per_source: Counter = Counter()  # tokens of the counted rows of each source
    rows_of: Counter = Counter()
    for recs in batches:
        parts, counts, row_total = _count(tok, recs)
        for (i, role, _), c in zip(parts, counts):
            per_role.setdefault(role, []).append(c)
        per_row += row_total
        for r, total in zip(recs, row_total):
            per_source[r.get("source") or ""] += total
            rows_of[r.get("source") or ""] += 1
    return {
        "tokenizer": tok.name,
        "sampled": min(n, sample),
        "roles": {role: histogram(v, integer=True) for role, v in sorted(per_role.items())},
        "row": histogram(per_row, integer=True),
        "sources": {src: {"rows": rows_of[src], "tokens": per_source[src]} for src in rows_of},
    }


def score_distributions(ws, ids: list[str]) -> dict:
    """Histograms of numeric workspace signals (and counts of boolean or text ones) over `ids`."""
    wanted = set(ids)
    out = {}
    for name in ws.signal_names():
        if name in OWN_SIGNALS:
            continue
        vals = [v for rid, v in ws.signal_values(name).items() if rid in wanted]
        nums = [v for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if nums and len(nums) >= len(vals) / 2:  # whole-number scores (a judge's 1-5) get a bin per value
            out[name] = histogram(nums, integer=all(float(v).is_integer() for v in nums))
        elif vals and all(isinstance(v, (bool, str)) for v in vals):
            top = Counter(str(v) for v in vals).most_common(20)
            out[name] = {"values": dict(top), "n": len(vals)}
    return out


def composition(ds, ws=None) -> dict | None:
    """What the rows are made of, or None for one file and no mixture. After a `mix` run
    (workbench.ops.mix) that still holds: {"run", "by", "total", "repeated", "groups": the run's
    composition {group: {"rows", "available", "share", "tokens"?}}, "topics": rows of the mixture
    per topic (repeats counted) when a topic map exists}. Else, for several files: {"by":
    "source", "total", "groups": {source: {"rows", "available", "share"}}, "topics"}."""
    from workbench.store.export import mix_copies

    sources = ds.column("source")
    copies = mix_copies(ws) if ws is not None else {}
    run = next((r for r in ws.runs(limit=100_000) if r["op"] == "mix" and r["status"] == "done"), None) if copies else None
    mixture = (run or {}).get("counts", {}).get("mixture")
    if mixture is None and len(set(sources)) < 2:
        return None
    weight = [copies.get(rid, 0) for rid in ds.ids] if mixture is not None else [1] * len(ds)
    total = sum(weight)
    if mixture is not None:
        out = {"run": run["id"], "by": mixture["by"], "total": mixture["total"], "repeated": mixture["repeated"],
               "groups": mixture["composition"]}
    else:
        rows = Counter(sources)
        out = {"by": "source", "total": total, "repeated": {},
               "groups": {s: {"rows": n, "available": n, "share": round(n / total, 4)} for s, n in rows.items()}}
    topics = ws.signal_values("topic") if ws is not None else {}
    if topics:
        per: Counter = Counter()
        for rid, w in zip(ds.ids, weight):
            if w:
                per[str(topics.get(rid, "unlabelled"))] += w
        out["topics"] = dict(per.most_common())
    return out


def dataset_stats(ds, ws=None, *, tokenizer: str | None = None, sample: int = SAMPLE_ROWS, tokens: bool = True) -> dict:
    """Everything the Stats pane shows but the decisions (the Session counts those): kinds, turns,
    token lengths, scores, clusters."""
    n = len(ds)
    out: dict = {
        "rows": n,
        "kinds": dict(Counter(ds.column("kind")).most_common()),
        "turns": histogram(ds.column("n_turns"), integer=True),
        "chars": histogram(ds.column("length")),
    }
    if tokens:
        out["tokens"] = token_lengths(ds, tokenizer, sample)
    if ws is not None:
        from workbench.explore.topicmap import load_map

        out["scores"] = score_distributions(ws, ds.ids)
        out["composition"] = composition(ds, ws)
        tm = load_map(ws, ds.ids)
        if tm is not None:
            out["clusters"] = [{"id": c["id"], "label": c["label"], "size": c["size"]} for c in tm.clusters]
            out["cluster_sizes"] = histogram([c["size"] for c in tm.clusters if c["id"] >= 0])
    return out
