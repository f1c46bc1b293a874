"""Agreement between annotators (or judges) who labelled the same items.

- raw agreement of a pair: the share of the items both labelled on which they gave the same label,
- Cohen's kappa of a pair: (p_o - p_e) / (1 - p_e), chance agreement p_e from each one's own
  label frequencies (Cohen 1960; computed by scikit-learn's `cohen_kappa_score`),
- Fleiss' kappa over everyone (Fleiss 1971): with n_ij the number of raters who put item i in
  category j and n_i = sum_j n_ij, P_i = (sum_j n_ij^2 - n_i) / (n_i (n_i - 1)), P = mean P_i,
  p_j = sum_i n_ij / sum_i n_i, P_e = sum_j p_j^2, kappa = (P - P_e) / (1 - P_e). Items may have
  different numbers of raters (two or more); with the same number for all this is Fleiss' formula.

A kappa is None where it is undefined: every label the same (p_e = 1).
"""

from __future__ import annotations

from itertools import combinations
from typing import Hashable, Mapping, Sequence


def fleiss_kappa(counts: Sequence[Sequence[int]]) -> dict:
    """Fleiss' kappa of a table of counts, one row per item, one column per category (items
    with fewer than two raters are left out). Returns {"items", "observed" (P), "expected"
    (P_e), "kappa"}; ValueError on a negative count."""
    rows = [list(r) for r in counts if sum(r) >= 2]
    if any(c < 0 for r in rows for c in r):
        raise ValueError("counts must not be negative")
    if not rows:
        return {"items": 0, "observed": None, "expected": None, "kappa": None}
    per_item = [(sum(c * c for c in r) - sum(r)) / (sum(r) * (sum(r) - 1)) for r in rows]
    observed = sum(per_item) / len(rows)
    total = sum(map(sum, rows))
    expected = sum((sum(r[j] for r in rows) / total) ** 2 for j in range(len(rows[0])))
    kappa = None if expected >= 1 else (observed - expected) / (1 - expected)
    return {"items": len(rows), "observed": observed, "expected": expected, "kappa": kappa}


def agreement(labels: Mapping[Hashable, Mapping[str, Hashable]]) -> dict:
    """Agreement over items labelled by two or more raters: `labels` is item -> {rater: label}.

    Returns {"items": how many items two or more rated, "raters": sorted names,
    "labels": sorted labels seen, "pairs": [{"a", "b", "items", "agreement", "cohen_kappa"}]
    for each pair of raters with an item in common, "overall": {"agreement" (mean share of
    agreeing rater pairs per item, Fleiss' P), "fleiss_kappa"}}."""
    shared = {item: dict(by) for item, by in labels.items() if len(by) >= 2}
    raters = sorted({r for by in shared.values() for r in by})
    cats = sorted({lab for by in shared.values() for lab in by.values()}, key=str)
    pairs = []
    for a, b in combinations(raters, 2):
        both = [(by[a], by[b]) for by in shared.values() if a in by and b in by]
        if both:
            pairs.append({"a": a, "b": b, "items": len(both),
                          "agreement": sum(x == y for x, y in both) / len(both),
                          "cohen_kappa": cohen_kappa([x for x, _ in both], [y for _, y in both])})
    fleiss = fleiss_kappa([[list(by.values()).count(c) for c in cats] for by in shared.values()])
    return {"items": len(shared), "raters": raters, "labels": cats, "pairs": pairs,
            "overall": {"agreement": fleiss["observed"], "fleiss_kappa": fleiss["kappa"]}}


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two raters' labels on the same items (None when every label is the same)."""
    if len(set(a) | set(b)) < 2:
        return None
    from sklearn.metrics import cohen_kappa_score

    return float(cohen_kappa_score(list(a), list(b)))
