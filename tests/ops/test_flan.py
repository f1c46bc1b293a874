"""FLAN-style prompt mixing: forms at the asked ratios, few-shot exemplars from the same task,
chain-of-thought only where the row holds reasoning, provenance kept, rows go to review."""

from __future__ import annotations

import json

import pytest

from workbench.data.dataset import Dataset
from workbench.ops import registry
from workbench.ops.base import Context, ParamError, apply_result
from workbench.store.workspace import Workspace


@pytest.fixture
def ds(tmp_path):
    rows = []
    for i in range(40):
        task = "math" if i % 2 else "geo"
        answer = {"role": "assistant", "content": f"{task} answer {i}"}
        if i % 4 == 1:
            answer["reasoning"] = f"first, think about {task} {i}"
        rows.append({"messages": [{"role": "user", "content": f"{task} question {i}"}, answer], "category": task})
    rows.append({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                              {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}]})
    src = tmp_path / "tasks.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return Dataset.open([str(src)])


def _run(ds, **params):
    op = registry.get("flan")
    return op.run(ds, op.params_from_dict(params), Context())


def test_forms_exemplars_and_reasoning(ds):
    result = _run(ds, zero_shot=0.4, few_shot=0.3, cot=0.3, shots=2, task="category", seed=1)
    assert result.report["rendered"] == 40 and result.report["skipped_not_single_turn"] == 1
    forms = result.report["forms"]
    assert sum(forms.values()) == 40 and set(forms) == {"zero-shot", "few-shot", "cot"}
    by_id = {r["id"]: r for r in ds.records()}
    for row in result.rows:
        prov = row["meta"]["provenance"]
        parent = by_id[prov["parent"]]
        question = parent["messages"][0]["content"]
        prompt, answer = row["messages"][0]["content"], row["messages"][1]
        assert question in prompt
        if prov["form"] == "few-shot":
            assert len(prov["exemplars"]) == 2 and prov["parent"] not in prov["exemplars"]
            for ex in prov["exemplars"]:
                assert by_id[ex]["meta"]["category"] == parent["meta"]["category"]  # the same task
                # the exemplar with its answer comes before the row's own question
                assert prompt.index(by_id[ex]["messages"][1]["content"]) < prompt.rindex(question)
        elif prov["form"] == "cot":
            reasoning = parent["messages"][1]["reasoning"]
            assert answer["content"].startswith(reasoning) and "step by step" in prompt
            assert answer["content"].endswith(parent["messages"][1]["content"])
        else:
            assert prompt.count("question") == 1
    # Only 10 rows hold reasoning: the others drawn for chain-of-thought fall back, counted.
    assert forms["cot"] <= 10 and result.report["cot_without_reasoning"] > 0


def test_reproducible_and_reviewable(ds, tmp_path):
    a, b = _run(ds, seed=5), _run(ds, seed=5)
    assert [r["messages"] for r in a.rows] == [r["messages"] for r in b.rows]
    assert [r["messages"] for r in _run(ds, seed=6).rows] != [r["messages"] for r in a.rows]
    with Workspace.for_dataset(ds, tmp_path / "ws.sqlite") as ws:
        apply_result(ws, a, review=True, ds=ds)
        generated = ws.signal_values("generated")
        assert len(generated) == 40 and all(v["op"] == "flan" for v in generated.values())


def test_templates_file_and_bad_shares(ds, tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(["QUESTION >> {instruction}"]))
    result = _run(ds, templates=str(path), few_shot=0, cot=0)
    assert all(r["messages"][0]["content"].startswith("QUESTION >> ") for r in result.rows)
    path.write_text(json.dumps(["no placeholder"]))
    with pytest.raises(ParamError, match="template 0"):
        _run(ds, templates=str(path))
    with pytest.raises(ParamError, match="shares"):
        registry.get("flan").params_from_dict({"zero_shot": 0, "few_shot": 0, "cot": 0})


def test_reasoning_written_inside_the_answer_serves_chain_of_thought(tmp_path):
    rows = [{"messages": [{"role": "user", "content": f"What is {i} + {i}?"},
                          {"role": "assistant", "content": f"<think>\n{i} doubled is {2 * i}.\n</think>\n\n{2 * i}"}]}
            for i in range(6)]
    src = tmp_path / "inline.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = _run(Dataset.open([str(src)]), zero_shot=0, few_shot=0, cot=1, seed=1)
    assert result.report["cot_without_reasoning"] == 0 and result.report["forms"] == {"cot": 6}
    answers = sorted(row["messages"][1]["content"] for row in result.rows)
    assert answers == sorted(f"{i} doubled is {2 * i}.\n\n{2 * i}" for i in range(6))
