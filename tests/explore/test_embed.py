"""Embeddings from the bundled MiniLM and their content-addressed cache (real model, no mocks)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.explore import embed
from workbench.explore.embed import cache_for, embed_dataset, embed_texts

pytestmark = pytest.mark.slow


def _count_encoded(monkeypatch) -> list[int]:
    """Record how many texts reach the model (the real model still runs)."""
    seen: list[int] = []
    real = embed.embed_texts

    def counting(texts, model=None, batch_size=64):
        seen.append(len(texts))
        return real(texts, model, batch_size)

    monkeypatch.setattr(embed, "embed_texts", counting)
    return seen


def test_embed_texts_normalised_and_meaningful():
    v = embed_texts(["How do I bake sourdough bread?", "Baking bread at home", "The black hole at the galaxy centre"])
    assert v.dtype == np.float32 and v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    sims = v @ v.T
    assert sims[0, 1] > sims[0, 2] + 0.2


def test_embed_texts_from_threads_agree():
    texts = [f"sentence number {i} about cooking pasta" for i in range(40)]
    ref = embed_texts(texts)
    out: list[np.ndarray] = [None] * 4  # type: ignore[list-item]

    def work(j):
        out[j] = embed_texts(texts)

    threads = [threading.Thread(target=work, args=(j,)) for j in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for o in out:
        assert np.allclose(o, ref, atol=1e-5)


def test_unknown_model_path_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="not a local model directory"):
        embed_texts(["x"], model=str(tmp_path / "nope"))


def test_dataset_cache_hit_embeds_nothing_and_changed_rows_only(planted, monkeypatch):
    recs, _ = planted
    ds = Dataset.from_records(recs[:60])
    seen = _count_encoded(monkeypatch)
    first = embed_dataset(ds)
    distinct = len({r["messages"][0]["content"] + r["messages"][1]["content"] for r in recs[:60]})
    assert sum(seen) == distinct  # each distinct text once
    assert first.shape == (60, 384)

    seen.clear()
    again = embed_dataset(Dataset.from_records(recs[:60]))
    assert seen == [] and np.array_equal(first, again)

    edited = [dict(r) for r in recs[:60]]
    edited[5] = make_record(id=edited[5]["id"], messages=[{"role": "user", "content": "A brand new question about violins"}])
    seen.clear()
    third = embed_dataset(Dataset.from_records(edited))
    assert seen == [1]
    assert np.array_equal(np.delete(third, 5, axis=0), np.delete(first, 5, axis=0))
    assert np.allclose(third[5], embed_texts(["A brand new question about violins"])[0], atol=1e-5)


def test_views_embed_different_text(planted):
    recs, _ = planted
    ds = Dataset.from_records(recs[:5])
    p = embed_dataset(ds, view="prompt")
    a = embed_dataset(ds, view="answer")
    assert np.allclose(p[0], embed_texts([recs[0]["messages"][0]["content"]])[0], atol=1e-5)
    assert np.allclose(a[0], embed_texts([recs[0]["messages"][1]["content"]])[0], atol=1e-5)


def test_shards_merge_and_keep_every_vector(monkeypatch):
    monkeypatch.setattr(embed, "SHARD_ROWS", 3)
    monkeypatch.setattr(embed, "MAX_SHARDS", 2)
    texts = [f"row {i} talks about topic {i % 4}" for i in range(20)]
    ds = Dataset.from_records(make_record(id=str(i), kind="text", text=t) for i, t in enumerate(texts))
    vecs = embed_dataset(ds)
    files = list(cache_for(None).root.glob("*.keys.npy"))
    assert len(files) <= 3
    assert np.allclose(vecs, embed_texts(texts), atol=1e-5)


def test_progress_every_step_and_a_stop_keeps_what_was_embedded(monkeypatch):
    # A long embedding reports as it goes (the Jobs pane's rate and ETA, the cancel checks);
    # a stop mid-way keeps the vectors already computed, so the next run embeds only the rest.
    monkeypatch.setattr(embed, "STEP_ROWS", 4)
    texts = [f"note {i} on the history of glassblowing in Venice" for i in range(10)]
    ds = Dataset.from_records(make_record(id=str(i), kind="text", text=t) for i, t in enumerate(texts))
    reports, stages = [], []

    def stop_after_eight(done, total):
        reports.append((done, total))
        if done >= 8:
            raise KeyboardInterrupt("stop")

    with pytest.raises(KeyboardInterrupt):
        embed_dataset(ds, progress=stop_after_eight, on_stage=stages.append)
    assert reports == [(0, 10), (4, 10), (8, 10)]
    assert stages[-1] == "embedding"
    seen = _count_encoded(monkeypatch)
    vecs = embed_dataset(ds)
    assert sum(seen) == 2  # the two rows not embedded before the stop
    assert np.allclose(vecs, embed_texts(texts), atol=1e-5)


def test_a_cancel_is_recorded_as_cancelled_and_an_error_as_failed(ws):
    from workbench.ops.oprun import Cancelled

    ds = Dataset.from_records(make_record(id=str(i), kind="text", text=f"row {i} about tides") for i in range(3))

    def stop(error):
        def progress(done, total):
            raise error
        return progress

    for error, status in ((Cancelled("cancel"), "cancelled"), (RuntimeError("disk full"), "failed")):
        with pytest.raises(type(error)):
            embed_dataset(ds, ws, progress=stop(error))
        assert [(r["op"], r["status"]) for r in ws.runs(1)] == [("embed", status)]
