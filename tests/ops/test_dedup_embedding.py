import numpy as np
import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.ops.dedup import dedup_dataset
from workbench.ops.dedup_embedding import EmbeddingParams, embedding_dedup, similar_pairs


def unit(v):
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_pairs_match_the_full_matrix_across_blocks():
    rng = np.random.default_rng(0)
    base = unit(rng.normal(size=(300, 16)).astype(np.float32))
    emb = np.concatenate([base, unit(base[:40] + 0.05 * rng.normal(size=(40, 16)))])
    full = emb @ emb.T
    want = {(i, j) for i, j in zip(*np.nonzero(full >= 0.9)) if i < j}
    a, b, s = similar_pairs(emb, 0.9, block=64)
    assert set(zip(a.tolist(), b.tolist())) == want
    assert np.allclose(s, full[a, b], atol=1e-5)
    clusters = embedding_dedup(emb, EmbeddingParams(threshold=0.9, block=64, keep="first"))
    assert {frozenset(c.members) for c in clusters} >= {frozenset((i, 300 + i)) for i in range(40)}


@pytest.mark.slow
def test_bundled_model_finds_paraphrases():
    texts = [
        "How do I reverse a list in Python?",
        "What is the way to reverse a Python list?",
        "Give me a recipe for banana bread.",
        "Explain the causes of the French Revolution.",
        "How can I reverse a list using Python?",
    ]
    ds = Dataset.from_records(
        make_record(id=f"r{i}", messages=[{"role": "user", "content": t}]) for i, t in enumerate(texts))
    res = dedup_dataset(ds, "embedding", EmbeddingParams(threshold=0.8, view="prompt"))
    clusters = res.report["clusters"]
    assert len(clusters) == 1
    assert set(clusters[0]["members"]) >= {"r0", "r4"} and "r2" not in clusters[0]["members"]
    # keep="longest" (the default for near-duplicates): the most complete wording stays
    longest = max(clusters[0]["members"], key=lambda rid: len(texts[int(rid[1:])]))
    assert clusters[0]["representative"] == longest
    assert res.rejects.keys() == set(clusters[0]["members"]) - {longest}


def test_rows_with_empty_text_are_no_duplicates():
    # Every empty text embeds to the same vector: text rows under --view prompt must not cluster.
    emb = unit(np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1]], dtype=np.float32))
    empty = np.array([True, True, True, False, False])
    clusters = embedding_dedup(emb, EmbeddingParams(threshold=0.9, keep="first"), empty=empty)
    assert [sorted(c.members) for c in clusters] == [[3, 4]]
    with pytest.raises(ValueError, match="threshold"):
        embedding_dedup(emb, EmbeddingParams(threshold=0))
