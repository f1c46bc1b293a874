"""The filter / dedup / decontam commands, run as a user would, on generated files."""

import json
import os
import random
import subprocess
import sys

import pytest

from tests.support.synthetic import document, pair_scores, perturb, planted_corpus, true_clusters
from workbench.store.workspace import Workspace


def run(*args, home):
    env = dict(os.environ, WORKBENCH_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture
def sft_file(tmp_path):
    texts, pairs = planted_corpus(1200, seed=5)
    rng = random.Random(5)
    rows = [{"id": f"ex-{i}", "instruction": document(rng, 12), "output": t} for i, t in enumerate(texts)]
    for src, copy in pairs:  # a planted copy rewords the instruction too
        rows[copy]["instruction"] = perturb(rng, rows[src]["instruction"], 0.1)
    planted = {i for pair in pairs for i in pair}
    free = [i for i in range(len(rows)) if i not in planted]  # rows the dedup test does not count on
    rows[free[0]]["output"] = "As an AI language model, I cannot help with that."
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path, rows, pairs, free


def test_dedup_minhash_defaults_find_planted_duplicates(sft_file, tmp_path):
    path, rows, pairs, _ = sft_file
    report = tmp_path / "r.json"
    ws_path = tmp_path / "ws.sqlite"
    out = run("dedup", str(path), "--method", "minhash", "--report", str(report), "--workspace", str(ws_path), home=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "clusters" in out.stdout
    rep = json.loads(report.read_text())
    index = {r["id"]: i for i, r in enumerate(rows)}
    found = [[index[m] for m in c["members"]] for c in rep["clusters"]]
    precision, recall = pair_scores(found, true_clusters(len(rows), pairs))
    assert precision >= 0.95 and recall >= 0.95
    c = rep["clusters"][0]
    assert c["representative"] in c["members"] and set(c["matched"]) == set(c["members"]) - {c["representative"]}
    with Workspace.open(ws_path) as ws:
        statuses = ws.statuses()
        dup = next(m for m in c["members"] if m != c["representative"])
        assert statuses[dup] == "reject" and c["representative"] not in statuses
        assert ws.signal_values("representative", op="dedup-minhash")[dup] == c["representative"]
    assert path.read_text().count("\n") == len(rows)  # the source is untouched


def test_dedup_exact_on_the_prompt(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"instruction": q, "output": f"answer {i}"}) + "\n"
                            for i, q in enumerate(["Hello there!", "Hello   there!", "Something else", "HELLO THERE!"])))
    report = tmp_path / "r.json"
    out = run("dedup", str(path), "--method", "exact", "--view", "prompt", "--report", str(report), home=tmp_path)
    assert out.returncode == 0, out.stderr
    clusters = json.loads(report.read_text())["clusters"]
    assert [len(c["members"]) for c in clusters] == [3]
    out = run("dedup", str(path), "--method", "exact", "--view", "prompt", "--keep-case", "--report", str(report), home=tmp_path)
    assert [len(c["members"]) for c in json.loads(report.read_text())["clusters"]] == [2]


def test_filter_with_rules_file(sft_file, tmp_path):
    path, rows, _, free = sft_file
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"unwanted_words": ["spam"], "disable": ["unfinished"]}))
    report = tmp_path / "f.json"
    out = run("filter", str(path), "--rules", str(rules), "--report", str(report), home=tmp_path)
    assert out.returncode == 0, out.stderr
    rep = json.loads(report.read_text())
    flagged = {r["row"]: r["reasons"] for r in rep["rows_flagged"]}
    assert any(x.startswith("refusal") for x in flagged[f"ex-{free[0]}"])
    bad = tmp_path / "bad.json"
    bad.write_text('{"max_chars": }')
    out = run("filter", str(path), "--rules", str(bad), home=tmp_path)
    assert out.returncode != 0 and "bad.json:1" in out.stderr


def test_decontam_names_benchmark_item_and_ngram(sft_file, tmp_path):
    path, rows, _, free = sft_file
    target = f"ex-{free[1]}"
    bench = tmp_path / "testset.jsonl"
    items = [{"id": "t7", "question": rows[free[1]]["output"][:400]}, {"id": "t8", "question": document(random.Random(1), 50)}]
    bench.write_text("".join(json.dumps(r) + "\n" for r in items))
    report = tmp_path / "c.json"
    out = run("decontam", str(path), "--against", f"{bench}:question", "--report", str(report), home=tmp_path)
    assert out.returncode == 0, out.stderr
    hits = json.loads(report.read_text())["hits"]
    assert {"row": target, "benchmark": "testset", "item": "t7"}.items() <= hits[0].items()
    assert [h["row"] for h in hits] == [target] and len(hits[0]["ngram"].split()) == 13
    out = run("decontam", str(path), "--against", f"{bench}:nofield", home=tmp_path)
    assert out.returncode == 1 and "nofield" in out.stderr
