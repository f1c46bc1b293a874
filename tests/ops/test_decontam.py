import json
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.data.errors import DataError
from workbench.ops.decontam import NgramIndex, decontaminate, parse_against
from workbench.ops.hashing import words
from tests.support.synthetic import document


@pytest.fixture(scope="module")
def bench_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bench")
    rng = random.Random(3)
    qa = [{"task_id": f"q{i}", "question": document(rng, 40), "answer": document(rng, 8)} for i in range(200)]
    (d / "mathqa.jsonl").write_text("\n".join(json.dumps(r) for r in qa) + "\n")
    essays = [{"prompt": document(rng, 60)} for _ in range(100)]
    pq.write_table(pa.Table.from_pylist(essays), d / "essays.parquet")
    (d / "tiny.json").write_text(json.dumps([{"text": "What is the capital of France?"}]))
    return d, qa, essays


def test_planted_items_are_found_with_benchmark_item_and_ngram(bench_files):
    d, qa, essays = bench_files
    rng = random.Random(11)
    texts = [document(rng, rng.randint(50, 200)) for _ in range(1000)]
    planted = {}
    for row in rng.sample(range(1000), 30):
        if len(planted) % 2:
            src = essays[rng.randrange(100)]
            item, name = None, "essays"
            piece = " ".join(src["prompt"].split()[5:25])
        else:
            k = rng.randrange(200)
            item, name = qa[k]["task_id"], "mathqa"
            piece = qa[k]["question"].upper()  # case and punctuation do not hide a copy
        texts[row] = texts[row][:300] + " " + piece + " " + texts[row][300:]
        planted[row] = (name, item)
    index = NgramIndex([parse_against(f"{d}/mathqa.jsonl:question"), parse_against(str(d / "essays.parquet"))])
    ids = [f"row{i}" for i in range(len(texts))]
    res = decontaminate(texts, ids, index, chunk=128)
    found = {h["row"] for h in res.report["hits"]}
    assert found == {f"row{r}" for r in planted}
    for h in res.report["hits"]:
        name, item = planted[int(h["row"][3:])]
        assert h["benchmark"] == name
        if item:
            assert h["item"] == item
        assert len(h["ngram"].split()) == 13
        assert h["ngram"] in " ".join(words(texts[int(h["row"][3:])]))
    assert set(res.rejects) == found
    assert res.report["contaminated_rows"] == len(planted)


def test_answer_field_is_not_read_unless_named(bench_files):
    d, qa, _ = bench_files
    only_q = NgramIndex([parse_against(f"{d}/mathqa.jsonl:question")], n=8)
    both = NgramIndex([parse_against(f"{d}/mathqa.jsonl:question,answer")], n=8)
    assert len(both) > len(only_q)
    text = ["Our answer: " + qa[1]["answer"] + " That is all."]
    assert decontaminate(text, ["r"], only_q).rejects == {}
    hit, = decontaminate(text, ["r"], both).report["hits"]
    assert hit["item"] == "q1" and hit["benchmark"] == "mathqa"


def test_short_items_match_an_equal_row(bench_files):
    d, _, _ = bench_files
    index = NgramIndex([parse_against(str(d / "tiny.json"))])
    res = decontaminate(["what is the capital of France", "The capital of France is Paris."], ["a", "b"], index)
    assert [h["row"] for h in res.report["hits"]] == ["a"]


def test_bad_benchmark_specs(bench_files, tmp_path):
    d, _, _ = bench_files
    with pytest.raises(DataError, match="no field 'questions'"):
        NgramIndex([parse_against(f"{d}/mathqa.jsonl:questions")])
    with pytest.raises(FileNotFoundError):
        parse_against(str(tmp_path / "nope.jsonl:question"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "fine"}\n{"question": oops}\n')
    with pytest.raises(DataError, match=r"bad.jsonl:2"):
        NgramIndex([parse_against(str(bad))])
