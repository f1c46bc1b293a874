"""Issue 11 item 11: benchmark items shorter than the n-gram.

Family: an item of k < n words (a short question, a one-line answer, a title) inside a longer
row — with other words before and after, other case and punctuation, split over lines — is
found when the row holds its k words in order, and only then (a word missing, reordered or
inserted is no hit); each hit says which rule matched.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from workbench.ops.decontam import NgramIndex, decontaminate, parse_against

CASES = Path(__file__).parent / "cases" / "decontam_short_items"  # copied from the issue


def _index(tmp_path, items, n=13, field="question"):
    path = tmp_path / "bench.jsonl"
    path.write_text("".join(json.dumps({"id": f"q{i}", field: t}) + "\n" for i, t in enumerate(items)))
    return NgramIndex([parse_against(f"{path}:{field}")], n=n)


def _hits(index, texts):
    res = decontaminate(texts, [f"r{i}" for i in range(len(texts))], index)
    return {h["row"]: (h["item"], h["rule"]) for h in res.report["hits"]}, res


def test_short_item_found_inside_a_longer_row(tmp_path):
    index = _index(tmp_path, ["Which planet in our solar system has the most moons?",  # 10 words
                              "Name the largest ocean on Earth."])  # 6 words
    assert index.short_items == 2
    hits, res = _hits(index, [
        "Quiz time! Which planet in our solar system has the most moons? Answer briefly.",
        "WHICH PLANET, in our solar-system, has the most\nmoons",  # case, punctuation, a line break
        "Which planet in our solar system has the most rings?",  # one word differs
        "Which planet in our solar system has the moons?",  # a word missing
        "Which planet in our big solar system has the most moons?",  # a word inserted
        "In our solar system, which planet has the most moons?",  # reordered
        "Please name the largest ocean on Earth and explain.",
    ])
    assert hits == {"r0": ("q0", "short_item"), "r1": ("q0", "short_item"), "r6": ("q1", "short_item")}
    h = next(h for h in res.report["hits"] if h["row"] == "r6")
    assert h["ngram"] == "name the largest ocean on earth"
    assert "1 shorter" not in res.summary and "2 shorter item(s)" in res.summary


def test_long_and_short_items_together_report_their_rule(tmp_path):
    long_item = ("A farmer has 17 sheep and all but 9 run away. How many sheep does the farmer "
                 "have left now?")
    index = _index(tmp_path, [long_item, "What is two plus two?"], n=8)
    hits, res = _hits(index, [
        "Question: " + long_item + " Think first.",
        "Tell me: what is two plus two? Quickly.",
        "Sheep and all but 9 run away is a riddle.",  # 7 words of the long item: below n=8
    ])
    assert hits == {"r0": ("q0", "ngram"), "r1": ("q1", "short_item")}
    assert res.report["short_items"] == 1


def test_short_items_of_many_lengths_in_one_pass(tmp_path):
    items = [" ".join(f"w{k}x{j}" for j in range(k)) for k in range(1, 13)]  # 1 to 12 words
    index = _index(tmp_path, items)
    rows = [f"start {it} end" for it in items] + ["w5x0 w5x1 w5x2 w5x4 w5x3"]
    hits, _ = _hits(index, rows)
    # Row k holds item k whole; a longer item's first words never make a shorter item (different words).
    assert hits == {f"r{k}": (f"q{k}", "short_item") for k in range(12)}


def test_given_case_files_with_the_cli(tmp_path):
    env = dict(os.environ, WORKBENCH_HOME=str(tmp_path / "home"))
    shutil.copytree(CASES, tmp_path / "cases")
    report = tmp_path / "r.json"
    out = subprocess.run([sys.executable, "-m", "workbench", "decontam", str(tmp_path / "cases/train.jsonl"),
                          "--against", str(tmp_path / "cases/bench.jsonl") + ":question", "--dry-run",
                          "--report", str(report)], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    hits = {(h["row"], h["item"], h["rule"]) for h in json.loads(report.read_text())["hits"]}
    assert hits == {("train.jsonl:0", "q1", "short_item"), ("train.jsonl:1", "q1", "short_item"),
                    ("train.jsonl:2", "q2", "ngram")}
