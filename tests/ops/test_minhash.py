import numpy as np
import pytest

from workbench.ops.hashing import ngram_hashes, shingle, words
from workbench.ops.minhash import (MinHashParams, all_signatures, estimated_jaccard, minhash_dedup,
                                   optimal_banding)
from tests.support.synthetic import pair_scores, planted_corpus, true_clusters


@pytest.fixture(scope="module")
def corpus():
    texts, pairs = planted_corpus(3000, dup_fraction=0.1, change=0.1, seed=7)
    return texts, pairs, true_clusters(len(texts), pairs)


def test_defaults_find_planted_near_duplicates(corpus):
    texts, pairs, truth = corpus
    assert len(pairs) > 200
    clusters, stats = minhash_dedup(texts)
    precision, recall = pair_scores([c.members for c in clusters], truth)
    assert precision >= 0.95 and recall >= 0.95, (precision, recall, stats)


def test_char_shingles_and_verification_also_work(corpus):
    texts, pairs, truth = corpus
    texts, truth = texts[:1500], true_clusters(1500, [p for p in pairs if p[1] < 1500])
    for p in (MinHashParams(unit="char", ngram=5), MinHashParams(verify="jaccard"), MinHashParams(verify="rapidfuzz", verify_threshold=0.8)):
        clusters, _ = minhash_dedup(texts, p)
        precision, recall = pair_scores([c.members for c in clusters], truth)
        assert precision >= 0.95 and recall >= 0.9, (p, precision, recall)


def test_members_report_the_row_they_matched(corpus):
    texts, pairs, _ = corpus
    clusters, _ = minhash_dedup(texts)
    planted = {frozenset(p) for p in pairs}
    for c in clusters:
        # keep="longest" (the default): the longest member, the earliest of equally long ones
        longest = max(len(texts[m]) for m in c.members)
        assert c.representative == min(m for m in c.members if len(texts[m]) == longest)
        for m, (other, sim) in c.matched.items():
            assert other in c.members and other != m
            assert 0.5 <= sim <= 1
    direct = [(m, o) for c in clusters for m, (o, _) in c.matched.items()]
    assert sum(frozenset(x) in planted for x in direct) / len(direct) > 0.9


def test_estimate_tracks_true_jaccard(corpus):
    texts, pairs, _ = corpus
    p = MinHashParams()
    sig, has = all_signatures(texts, p)
    a = np.array([x for x, _ in pairs])
    b = np.array([y for _, y in pairs])
    h, doc = shingle(texts, p.ngram, p.unit)
    bounds = np.searchsorted(doc, np.arange(len(texts) + 1))
    sets = lambda i: set(h[bounds[i]:bounds[i + 1]].tolist())
    true = np.array([len(sets(x) & sets(y)) / len(sets(x) | sets(y)) for x, y in pairs])
    err = estimated_jaccard(sig, a, b) - true
    assert abs(err.mean()) < 0.01 and err.std() < 0.06
    # Unrelated texts estimate near zero.
    assert estimated_jaccard(sig, np.arange(0, 100), np.arange(100, 200)).mean() < 0.1


def test_identical_short_and_empty_texts():
    texts = ["Same words here.", "same WORDS, here", "", "   ", "x", "x", "a different text entirely"]
    clusters, stats = minhash_dedup(texts)
    assert sorted(sorted(c.members) for c in clusters) == [[0, 1], [4, 5]]
    assert stats.empty == 2  # texts without words are left to exact dedup


def test_results_are_deterministic_and_chunking_does_not_matter(corpus):
    texts = corpus[0][:800]
    one, _ = minhash_dedup(texts, MinHashParams(chunk_size=1000, workers=1))
    many, _ = minhash_dedup(texts, MinHashParams(chunk_size=37, workers=2))
    assert [(c.members, c.matched) for c in one] == [(c.members, c.matched) for c in many]


def test_ngrams_never_span_two_texts():
    h, doc = shingle(["a b c", "d e"], 2, "word")
    h2, _ = shingle(["c d"], 2, "word")
    assert doc.tolist() == [0, 0, 1] and h2[0] not in h.tolist()
    # Shorter than n: one shingle of the whole text.
    hs, ds = ngram_hashes(np.array([5, 6], dtype=np.uint64), np.array([0, 2]), 3)
    assert len(hs) == 1 and ds.tolist() == [0]
    assert words("Don't STOP—now_3.5") == ["don", "t", "stop", "now_3", "5"]


def test_word_hashes_tell_words_apart_at_any_length():
    from workbench.ops.hashing import word_tokens

    vocab = []
    for n in range(1, 41):
        base = "".join("abcdefghijklmnopqrstuvwxyz"[(i * 7) % 26] for i in range(n))
        vocab.append(base)
        for pos in {0, n // 2 if n <= 16 else 0, 7, 8, 15, n - 1} - {p for p in range(16, n - 8)}:
            if pos < n:
                vocab.append(base[:pos] + ("z" if base[pos] != "z" else "y") + base[pos + 1:])
    vocab = sorted(set(vocab)) + ["café", "cafe", "naïve", "über"]
    h, off = word_tokens([" ".join(vocab), " ".join(reversed(vocab))])
    assert len(set(h[: len(vocab)].tolist())) == len(vocab)
    assert h[: len(vocab)].tolist() == h[len(vocab):].tolist()[::-1]  # same word, same hash


def test_banding_and_parameter_checks():
    b, r = optimal_banding(0.5, 128)
    assert b * r <= 128 and 1 - (1 - 0.65**r) ** b > 0.99 and 1 - (1 - 0.1**r) ** b < 0.01
    assert MinHashParams(bands=16, rows=8).banding() == (16, 8)
    with pytest.raises(ValueError, match="exceeds num_perm"):
        MinHashParams(bands=20, rows=8).validate()
    with pytest.raises(ValueError, match="both bands and rows"):
        MinHashParams(bands=20).validate()
    with pytest.raises(ValueError, match="unit"):
        MinHashParams(unit="byte").validate()


def test_a_set_cancel_event_stops_dedup(corpus):
    import threading

    from workbench.ops.dedup_exact import exact_dedup
    from workbench.ops.oprun import Cancelled

    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        minhash_dedup(corpus[0], cancel=stop)
    with pytest.raises(Cancelled):
        exact_dedup(corpus[0], cancel=stop)
