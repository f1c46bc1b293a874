"""The Arrow cache's JSON text reads back exactly, also where orjson alone would not; the
conversion leaves the cycle collector as it found it."""

from __future__ import annotations

import gc
import math

import pytest

from workbench.data.dataset import Dataset
from workbench.data.errors import DataError
from workbench.data.formats.base import same
from workbench.data.jsonio import dumps, loads
from workbench.data.record import make_record


def test_values_orjson_cannot_hold_read_back_exactly():
    big = 2**70  # orjson cannot write it, and would read it back as a float
    value = {"big": big, "neg": -(2**64), "nan": float("nan"), "inf": float("-inf"), "none": None, "t": "é ✓"}
    back = loads(dumps(value))
    assert back["big"] == big and type(back["big"]) is int and back["neg"] == -(2**64)
    assert math.isnan(back["nan"]) and back["inf"] == float("-inf") and back["none"] is None
    assert back["t"] == "é ✓" and list(back) == list(value)


def test_plain_values_are_compact_json():
    value = {"b": [1, 1.0, True], "a": "x"}
    text = dumps(value)
    assert text == '{"b":[1,1.0,true],"a":"x"}'
    assert same(loads(text), value)


def test_a_reopened_dataset_keeps_odd_meta_values_and_fresh_dicts():
    recs = [make_record(id=f"r{i}", messages=[{"role": "user", "content": "hi"}], meta={"n": 2**70 + i} if i else {})
            for i in range(3)]
    ds = Dataset.from_records(recs)
    out = ds.records()
    assert [r["meta"] for r in out] == [{}, {"n": 2**70 + 1}, {"n": 2**70 + 2}]
    out[0]["meta"]["x"] = 1  # each record's dicts are its own
    assert out[1]["meta"] == {"n": 2**70 + 1} and out[0]["origin"] is not out[1]["origin"]


def test_same_tells_types_and_key_order_apart():
    assert same({"a": 1, "b": [2.5, "x"]}, {"a": 1, "b": [2.5, "x"]})
    assert not same({"a": 1}, {"a": 1.0}) and not same({"a": 1}, {"a": True})
    assert not same({"a": 1, "b": 2}, {"b": 2, "a": 1})
    assert same({"n": 2**70}, {"n": 2**70}) and not same({"n": 2**70}, {"n": float(2**70)})


def test_conversion_leaves_the_cycle_collector_as_it_found_it(tmp_path):
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_text('{"text": "one"}\n' * 10)
    bad.write_text('{"text": "one"}\n{oops\n')
    try:
        assert len(Dataset.open(good)) == 10 and gc.isenabled()
        with pytest.raises(DataError, match="bad.jsonl"):
            Dataset.open(bad)
        assert gc.isenabled()  # also when the conversion fails halfway
        gc.disable()
        Dataset.open(good, use_cache=False)
        assert not gc.isenabled()  # someone else's choice stands
    finally:
        gc.enable()
