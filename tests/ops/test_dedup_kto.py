"""KTO rows: a desirable and an undesirable answer to one prompt are a pair, never duplicates."""

import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.ops.dedup import dedup_dataset

PROMPT = "Which planet in our solar system has the shortest year, and how long is that year in Earth days?"


def _kto(i: int, answer: str, label: bool | None):
    return make_record(id=f"r{i}", label=label, kind="sft" if label is None else "kto", messages=[
        {"role": "user", "content": PROMPT}, {"role": "assistant", "content": answer}])


@pytest.mark.parametrize("method", ["exact", "minhash", "embedding"])
def test_opposite_labels_never_cluster_but_same_label_copies_do(method):
    good = "Mercury: it goes around the Sun once every 88 Earth days."
    bad = "Venus, whose year lasts about 225 Earth days."
    ds = Dataset.from_records([
        _kto(0, good, True),   # first, so it would be every bucket's head without the label rule
        _kto(1, bad, False),
        _kto(2, bad, False),   # a copy of the undesirable row: a real duplicate
        _kto(3, good, None),   # an unlabelled SFT copy of the good answer
    ])
    res = dedup_dataset(ds, method, view="prompt")  # identical prompts: only the labels tell them apart
    clusters = [sorted(c["members"]) for c in res.report["clusters"]]
    assert ["r1", "r2"] in clusters
    assert not any("r0" in c and ("r1" in c or "r2" in c) for c in clusters)
    assert not any("r3" in c and ("r1" in c or "r2" in c) for c in clusters)
