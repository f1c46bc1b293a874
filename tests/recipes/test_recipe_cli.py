"""A curation session on the command line -> `workbench recipe` -> `workbench run` on another
copy of the data (other path, other row order) gives the same exported rows; a second replay
skips every step; a bad recipe is refused, naming the step and line, before anything runs."""

from __future__ import annotations

import json
import random

import pytest

from workbench.cli import main
from workbench.store.workspace import Workspace


def _rows():
    rng = random.Random(7)
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho".split()
    rows = []
    for i in range(40):
        q = " ".join(rng.choice(words) for _ in range(12)) + f" question {i}?"
        a = " ".join(rng.choice(words) for _ in range(25)) + f" answer {i}."
        rows.append({"instruction": q, "input": "", "output": a})
    rows[3]["output"] = "As an AI language model, I cannot help with that."  # filter
    rows[10] = dict(rows[4])  # exact copies: MinHash dedup keeps one (the same text whichever)
    rows[11] = dict(rows[4])
    rows[20] = dict(rows[6])
    # Near-duplicates whose members differ: one longer, one of equal length that the shuffled
    # copy reads first. The kept row must not depend on the order (keep=longest, ties by content).
    rows[12] = dict(rows[5], output=rows[5]["output"].replace(" answer", " longer answer"))
    first, rest = rows[7]["output"].split(" ", 1)
    rows[13] = dict(rows[7], output="x" * len(first) + " " + rest)
    return rows


def _batch(tmp_path):
    """The rows, written as batch1/data.jsonl, and a benchmark file holding row 15's text."""
    rows = _rows()
    src = tmp_path / "batch1" / "data.jsonl"
    src.parent.mkdir()
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    bench = tmp_path / "bench.jsonl"
    bench.write_text(json.dumps({"question": rows[15]["instruction"] + " " + rows[15]["output"]}) + "\n")
    return rows, src, bench


@pytest.fixture
def session(tmp_path, capsys):
    """The original data, a benchmark file, and a session run on them with the CLI."""
    rows, src, bench = _batch(tmp_path)
    ws = tmp_path / "ws1.sqlite"
    common = [str(src), "--workspace", str(ws)]
    assert main(["filter", *common]) == 0
    assert main(["dedup", *common, "--method", "minhash", "--threshold", "0.7"]) == 0
    assert main(["decontam", *common, "--against", f"{bench}:question", "--ngram", "8"]) == 0
    # two manual rejects, by id (rows 25 and 30)
    assert main(["decide", *common, "--row", "data.jsonl:25", "--reject", "--note", "off topic"]) == 0
    assert main(["decide", *common, "--row", "data.jsonl:30", "--reject"]) == 0
    capsys.readouterr()
    return rows, src, bench, ws


def _shuffled_copy(rows, path):
    order = list(range(len(rows)))
    random.Random(1).shuffle(order)
    path.parent.mkdir(exist_ok=True)
    path.write_text("".join(json.dumps(rows[i]) + "\n" for i in order))
    return path


def _exported(path):
    return sorted(path.read_text().splitlines())


def test_recipe_replays_a_session_on_another_copy(session, tmp_path, capsys):
    rows, src, bench, ws = session
    original = tmp_path / "orig.jsonl"
    assert main(["export", str(src), "--workspace", str(ws), "--to", "alpaca", "-o", str(original)]) == 0
    recipe = tmp_path / "r.yaml"
    assert main(["recipe", str(src), "--workspace", str(ws), "-o", str(recipe)]) == 0
    text = recipe.read_text()
    assert [ln for ln in text.splitlines() if ln.startswith("- op:")] == [
        "- op: filter", "- op: dedup-minhash", "- op: decontam"]
    assert "threshold: 0.7" in text and "decisions" not in text
    copy = _shuffled_copy(rows, tmp_path / "batch2" / "copy.jsonl")
    out = tmp_path / "out.jsonl"
    capsys.readouterr()
    assert main(["run", str(recipe), "--input", str(copy), "--workspace", str(tmp_path / "ws2.sqlite"),
                 "-o", str(out), "--to", "alpaca"]) == 0
    # without the decisions, the two manual rejects are back; everything else is the same
    manual = {json.dumps(rows[25]), json.dumps(rows[30])}
    assert _exported(out) == sorted(_exported(original) + [json.dumps(json.loads(m)) for m in manual])
    assert len(_exported(original)) == 40 - 1 - 5 - 1 - 2  # refusal, 3 copies and 2 near copies, contaminated, 2 manual

    # with --with-decisions the manual rejects apply too: exactly the same rows
    assert main(["recipe", str(src), "--workspace", str(ws), "-o", str(recipe), "--with-decisions"]) == 0
    assert "status: reject" in recipe.read_text() and "note: off topic" in recipe.read_text()
    out3 = tmp_path / "out3.jsonl"
    assert main(["run", str(recipe), "--input", str(copy), "--workspace", str(tmp_path / "ws3.sqlite"),
                 "-o", str(out3), "--to", "alpaca"]) == 0
    assert _exported(out3) == _exported(original)


def test_second_replay_skips_every_step(session, tmp_path, capsys):
    rows, src, bench, ws = session
    recipe = tmp_path / "r.yaml"
    assert main(["recipe", str(src), "--workspace", str(ws), "-o", str(recipe), "--with-decisions"]) == 0
    copy = _shuffled_copy(rows, tmp_path / "batch2" / "copy.jsonl")
    ws2 = tmp_path / "ws2.sqlite"
    args = ["run", str(recipe), "--input", str(copy), "--workspace", str(ws2), "--to", "alpaca"]
    assert main([*args, "-o", str(tmp_path / "a.jsonl")]) == 0
    first = capsys.readouterr().err
    assert "skipped" not in first and "step 3/3 decontam: decontam:" in first
    with Workspace.open(ws2) as w:
        runs_before = len(w.runs(limit=1000))
    assert main([*args, "-o", str(tmp_path / "b.jsonl")]) == 0
    second = capsys.readouterr().err
    assert second.count("skipped: unchanged since run") == 3
    with Workspace.open(ws2) as w:
        assert len(w.runs(limit=1000)) == runs_before  # nothing ran
    assert _exported(tmp_path / "a.jsonl") == _exported(tmp_path / "b.jsonl")
    # a changed parameter runs that step again (and only that one)
    recipe.write_text(recipe.read_text().replace("threshold: 0.7", "threshold: 0.8"))
    assert main([*args, "-o", str(tmp_path / "c.jsonl")]) == 0
    assert capsys.readouterr().err.count("skipped: unchanged") == 2


@pytest.mark.parametrize("edit,message", [
    (lambda t: t.replace("op: dedup-minhash", "op: dedup-fancy"), r"r.yaml:\d+: step 2 \(dedup-fancy\): unknown operation"),
    (lambda t: t.replace("threshold: 0.7", "threshold: 7"), r"r.yaml:\d+: step 2 \(dedup-minhash\): threshold must be"),
    (lambda t: t.replace("ngram: 8", "ngram: eight"), r"r.yaml:\d+: step 3 \(decontam\): ngram must be a whole number"),
    (lambda t: t.replace("bench.jsonl", "gone.jsonl"), r"r.yaml:\d+: step 3 \(decontam\): benchmark file not found"),
])
def test_bad_recipe_is_refused_before_anything_runs(session, tmp_path, capsys, edit, message):
    rows, src, bench, ws = session
    recipe = tmp_path / "r.yaml"
    assert main(["recipe", str(src), "--workspace", str(ws), "-o", str(recipe)]) == 0
    recipe.write_text(edit(recipe.read_text()))
    ws2 = tmp_path / "ws2.sqlite"
    capsys.readouterr()
    assert main(["run", str(recipe), "--input", str(src), "--workspace", str(ws2), "-o", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err
    import re

    assert re.search(message, err), err
    line = int(re.search(r"r.yaml:(\d+):", err).group(1))
    step = int(re.search(r"step (\d)", err).group(1))
    assert recipe.read_text().splitlines()[line - 1] == f"- op: {['filter', 'dedup-minhash', 'decontam'][step - 1]}" \
        or "dedup-fancy" in recipe.read_text().splitlines()[line - 1]
    assert not ws2.exists() and not (tmp_path / "o.jsonl").exists()


def test_a_filter_selection_is_recorded_and_replayed(session, tmp_path, capsys):
    rows, src, bench, ws = session
    # a second filter pass, on the rows still pending only: a stricter length rule
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"min_chars": 200}))
    assert main(["filter", str(src), "--workspace", str(ws), "--rules", str(rules), "--where", "status=pending"]) == 0
    recipe = tmp_path / "r.yaml"
    assert main(["recipe", str(src), "--workspace", str(ws), "-o", str(recipe), "--with-decisions"]) == 0
    assert "filter: status=pending" in recipe.read_text()
    original = tmp_path / "orig.jsonl"
    assert main(["export", str(src), "--workspace", str(ws), "--to", "alpaca", "-o", str(original)]) == 0
    copy = _shuffled_copy(rows, tmp_path / "batch2" / "copy.jsonl")
    out = tmp_path / "out.jsonl"
    assert main(["run", str(recipe), "--input", str(copy), "--workspace", str(tmp_path / "ws2.sqlite"),
                 "-o", str(out), "--to", "alpaca"]) == 0
    assert _exported(out) == _exported(original)
    recipe.write_text(recipe.read_text().replace("filter: status=pending", "filter: status=maybe"))
    capsys.readouterr()
    assert main(["run", str(recipe), "--input", str(copy), "-o", str(out)]) == 2
    assert "step 4 (filter): select filter: status must be one of" in capsys.readouterr().err


def test_replayed_llm_step_is_skipped_without_calling_the_model(tmp_path, capsys):
    from tests.support.loopback import LoopbackServer

    src = tmp_path / "d.jsonl"
    src.write_text("".join(json.dumps({"instruction": f"Question {i}?", "input": "", "output": f"Answer {i}."}) + "\n"
                           for i in range(5)))
    with LoopbackServer(lambda m: "Rating: 4\nRationale: fine") as srv:
        common = ["--model", "openai/loopback", "--api-base", srv.api_base, "--aspects", "helpfulness"]
        assert main(["judge", str(src), "--workspace", str(tmp_path / "ws1.sqlite"), *common]) == 0
        recipe = tmp_path / "r.yaml"
        assert main(["recipe", str(src), "--workspace", str(tmp_path / "ws1.sqlite"), "-o", str(recipe)]) == 0
        assert "op: judge" in recipe.read_text()
        args = ["run", str(recipe), "--input", str(src), "--workspace", str(tmp_path / "ws2.sqlite"),
                "-o", str(tmp_path / "o.jsonl")]
        before = srv.total
        assert main(args) == 0
        asked = srv.total
        assert asked == before + 5  # a fresh workspace (its own cache): the judge asked about every row
        capsys.readouterr()
        assert main(args) == 0
        assert srv.total == asked  # replayed on unchanged inputs: skipped, no model call
        assert "step 1/1 judge: skipped: unchanged" in capsys.readouterr().err


def test_copies_a_person_told_apart_replay_apart(tmp_path, capsys):
    """Two identical rows, one kept (accepted) and one rejected by a person: the recipe's
    decisions keep one copy on replay (both were rejected: the second decision on the same
    content overwrote the first on every copy)."""
    rows = _rows()[:8]
    rows[5] = dict(rows[2])
    src = tmp_path / "data.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ws, recipe = tmp_path / "ws.sqlite", tmp_path / "r.yaml"
    common = [str(src), "--workspace", str(ws)]
    assert main(["decide", *common, "--row", "data.jsonl:5", "--accept"]) == 0
    assert main(["decide", *common, "--row", "data.jsonl:2", "--reject", "--note", "the copy"]) == 0
    assert main(["recipe", *common, "-o", str(recipe), "--with-decisions"]) == 0
    original, out = tmp_path / "orig.jsonl", tmp_path / "out.jsonl"
    assert main(["export", *common, "--to", "alpaca", "-o", str(original)]) == 0
    copy = _shuffled_copy(rows, tmp_path / "batch2" / "copy.jsonl")
    assert main(["run", str(recipe), "--input", str(copy), "--workspace", str(tmp_path / "ws2.sqlite"),
                 "-o", str(out), "--to", "alpaca"]) == 0
    capsys.readouterr()
    assert len(_exported(original)) == 7
    assert _exported(out) == _exported(original)
    with Workspace.open(tmp_path / "ws2.sqlite") as w:
        assert sorted(w.statuses().values()) == ["accept", "reject"]
