"""The exploration pieces that need no model: projections, clustering, c-TF-IDF, neighbours, stats."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.explore.cluster import candidate_ks, max_topics, reduce, renumber_by_size, silhouette, topics
from workbench.explore.project import pca, topic_layout
from workbench.explore.similar import nearest
from workbench.explore.stats import dataset_stats, histogram
from workbench.explore.topics import clean_label, ctfidf_keywords, keyword_label, representatives, tokenize


def _blobs(n_per=60, dim=32, k=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim)) * 6
    x = np.concatenate([c + rng.normal(size=(n_per, dim)) for c in centres]).astype(np.float32)
    return x, np.repeat(np.arange(k), n_per)


def test_pca_keeps_the_widest_direction_first():
    rng = np.random.default_rng(1)
    x = np.c_[rng.normal(size=500) * 10, rng.normal(size=500), rng.normal(size=500) * 0.1].astype(np.float32)
    y = pca(x, 2)
    assert y.shape == (500, 2) and y.dtype == np.float32
    assert y[:, 0].std() > 5 * y[:, 1].std()
    assert np.corrcoef(np.abs(y[:, 0]), np.abs(x[:, 0]))[0, 1] > 0.99
    assert pca(np.zeros((0, 3)), 2).shape == (0, 2)


def test_topics_finds_planted_blobs_biggest_first_with_k_chosen_by_silhouette():
    x, truth = _blobs(k=4)
    x = np.concatenate([x, x[:30] + 0.01])  # make blob 0 the biggest
    truth = np.concatenate([truth, truth[:30]])
    labels = topics(reduce(x))
    assert labels.max() + 1 == 4 and (labels >= 0).all()  # every row gets a topic
    assert adjusted_rand_score(truth, labels) > 0.95
    assert np.bincount(labels).argmax() == 0
    assert topics(reduce(x), k=6).max() + 1 == 6  # a chosen count is kept
    assert topics(reduce(x), seed=3).tolist() == topics(reduce(x), seed=3).tolist()


def test_many_topics_of_equal_standing_are_all_found():
    """A varied set (no coarse grouping, as in 1k alpaca rows) gets its many topics, not two."""
    x, truth = _blobs(n_per=50, k=20, dim=64)
    labels = topics(reduce(x))
    assert labels.max() + 1 >= 12
    assert adjusted_rand_score(truth, labels) > 0.9


def test_silhouette_equals_scikit_learns():
    from scipy.spatial.distance import pdist, squareform
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(0)
    x, labels = rng.normal(size=(300, 5)), rng.integers(0, 7, 300)
    labels[0] = 7  # a cluster of one row scores 0
    d = squareform(pdist(x))
    assert silhouette(d.astype(np.float32), labels) == pytest.approx(silhouette_score(d, labels, metric="precomputed"), abs=1e-6)


def test_topic_counts_tried_grow_with_the_rows():
    assert max_topics(480) == 15 and max_topics(1000) == 22 and max_topics(10**6) == 60
    ks = candidate_ks(60)
    assert ks[:11] == list(range(2, 13)) and ks[-1] <= 60 and len(ks) < 25
    assert topics(reduce(np.eye(3, 8))).tolist() == [0, 0, 0]  # too few rows to split


def test_topic_layout_keeps_topics_apart_and_rows_in_their_topics_order():
    x, truth = _blobs(n_per=40, k=8, dim=64)
    xy = topic_layout(x, truth)
    assert xy.shape == (len(x), 2) and xy.dtype == np.float32
    centres = np.stack([np.median(xy[truth == c], axis=0) for c in range(8)])
    reach = [np.percentile(np.linalg.norm(xy[truth == c] - centres[c], axis=1), 90) for c in range(8)]
    for a in range(8):
        for b in range(a + 1, 8):  # most of each topic's rows lie in a disc no other topic's disc touches
            assert np.linalg.norm(centres[a] - centres[b]) > reach[a] + reach[b]
    # Inside a topic, a row's place follows the topic's own main direction.
    m = truth == 3
    assert abs(np.corrcoef(xy[m, 0], pca(x[m], 1)[:, 0])[0, 1]) > 0.99
    assert topic_layout(x[:10], truth[:10] * 0).shape == (10, 2)  # one topic: PCA


def test_renumber_by_size():
    assert renumber_by_size(np.array([5, 5, 2, -1, 2, 2, 7])).tolist() == [1, 1, 0, -1, 0, 0, 2]


def test_tokenize_drops_stop_words_and_keeps_code_words():
    assert tokenize("How do I sort a list in C++ and C#?") == [None, None, None, "sort", None, "list", None, "c++", None, "c#"]


def test_ctfidf_prefers_words_distinct_to_a_cluster():
    docs = {
        0: ["bake the sourdough bread in the oven", "sourdough bread needs a hot oven", "oven temperature for bread"],
        1: ["the black hole at the galaxy centre", "a black hole swallows light", "galaxy mergers and black hole growth"],
    }
    kw = ctfidf_keywords(docs, top_n=3)
    assert kw[0][0][0] in ("bread", "oven", "sourdough bread")
    assert kw[1][0][0] == "black hole"
    # "black" and "hole" alone would repeat the bigram, so they are not picked after it.
    assert not {"black", "hole"} & {t for t, _ in kw[1]}
    assert keyword_label(kw[1]).startswith("black hole, ")


def test_representatives_are_closest_to_the_centre():
    v = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.95, 0.05]], dtype=np.float32)
    assert sorted(representatives(v, np.array([0, 1, 2, 3]), k=2)) == [0, 3]


@pytest.mark.parametrize("raw,want", [
    ('"Baking Bread at Home."', "Baking Bread at Home"),
    ("Topic: Space and black holes\nBecause the samples...", "Space and black holes"),
    ("a label that is far too long for us", "a label that is far"),
])
def test_clean_label(raw, want):
    assert clean_label(raw) == want


def test_nearest_is_exact_and_chunked():
    rng = np.random.default_rng(2)
    v = rng.normal(size=(1000, 16)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    want = np.argsort(-(v @ v[17]))[1:6]
    got = nearest(v, 17, k=5, chunk=64)
    assert [i for i, _ in got] == want.tolist()
    assert 17 not in [i for i, _ in got]
    assert got[0][1] >= got[-1][1]
    by_vec = nearest(v, v[17] * 3, k=1)  # an unnormalised query vector: itself is the best
    assert by_vec[0][0] == 17 and by_vec[0][1] == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(IndexError):
        nearest(v, 1000)


def test_histogram_separates_the_tail():
    h = histogram(list(range(100)) + [10_000], bins=10)
    assert sum(h["counts"]) + h["over"] == 101 and h["over"] >= 1
    assert h["max"] == 10_000 and h["bins"][-1] < 10_000
    ints = histogram([1, 2, 2, 3, 3, 3], integer=True)
    assert ints["counts"] == [1, 2, 3] and ints["bins"] == [1, 2, 3, 4]


def test_dataset_stats_counts_kinds_turns_and_tokens():
    recs = [make_record(id=f"s{i}", messages=[{"role": "user", "content": "hello " * (i + 1)},
                                              {"role": "assistant", "content": "fine"}]) for i in range(6)]
    recs.append(make_record(id="p", kind="preference", messages=[{"role": "user", "content": "pick"}],
                            chosen=[{"role": "assistant", "content": "yes"}], rejected=[{"role": "assistant", "content": "no"}]))
    st = dataset_stats(Dataset.from_records(recs))
    assert st["kinds"] == {"sft": 6, "preference": 1}
    assert st["turns"]["n"] == 7 and st["turns"]["max"] == 2
    roles = st["tokens"]["roles"]
    assert roles["user"]["n"] == 7 and roles["chosen"]["n"] == 1 and roles["rejected"]["n"] == 1
    assert roles["user"]["max"] > roles["user"]["min"]  # "hello " x7 has more tokens than "pick"
