"""The Arrow conversion's derived columns agree with the record helpers they stand in for."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.data.dataset import _batch, _text_length
from workbench.data.jsonio import loads
from workbench.data.record import JSON_FIELDS, full_text, preview

text = st.text(alphabet=st.sampled_from("ab \n\té"), max_size=6)
turn = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system", "tool"]), "content": st.one_of(st.none(), text)},
    optional={"reasoning": st.one_of(st.none(), text)},
)
turns = st.one_of(st.none(), st.lists(turn, max_size=4))
record = st.fixed_dictionaries({
    "id": st.text(max_size=4),
    "kind": st.sampled_from(["sft", "preference", "kto", "text"]),
    "system": st.one_of(st.none(), text),
    "text": st.one_of(st.none(), text),
    "messages": turns,
    "chosen": turns,
    "rejected": turns,
    "meta": st.dictionaries(st.text(max_size=3), st.one_of(st.integers(), text, st.none()), max_size=3),
})


@settings(deadline=None)  # 2 shared cores: a slow example is not a failure
@given(record)
def test_text_length_is_the_length_of_full_text(r):
    assert _text_length(r) == len(full_text(r))


@settings(deadline=None)
@given(st.lists(record, min_size=1, max_size=5))
def test_batch_columns(records):
    batch = _batch(records).to_pylist()
    for r, row in zip(records, batch):
        assert row["id"] == r["id"] and row["kind"] == r["kind"] and row["system"] == r["system"]
        for f in JSON_FIELDS:
            assert (None if row[f] is None else loads(row[f])) == r.get(f)
        assert row["length"] == len(full_text(r))
        assert row["n_turns"] == len(r["messages"] or ()) + len(r["chosen"] or ())
        assert row["preview"] == preview(r)


def test_non_ascii_is_stored_as_is():
    row = _batch([{"id": "x", "kind": "sft", "messages": [{"role": "user", "content": "héllo ✓"}]}]).to_pylist()[0]
    assert "héllo ✓" in row["messages"]
