"""Issue 11 item 13: boilerplate shared by rows, and degenerate preference pairs.

Family: rows that share a long system prompt (a persona, tool descriptions) or tool schemas but
ask and answer different things are not duplicates under the default view; rows that repeat the
same conversation under different system prompts are. Preference pairs whose chosen side equals
the rejected one, or is a prefix of it (or the reverse) — by whole turns or a cut-off last
answer, in any format that reads as a preference pair — are flagged by `filter` and `template lint`.
"""

import json
import random
from pathlib import Path

import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import degenerate_pair, make_record, view_text
from workbench.ops.dedup import dedup_dataset
from workbench.ops.filters import Checker
from tests.support.synthetic import document, perturb
from workbench.templates.lint import lint_dataset

CASES = Path(__file__).parent / "cases"  # copied from the issue
TOOLS = json.dumps([{"type": "function", "function": {"name": f"tool_{i}", "description": "Looks things up " * 20,
                                                      "parameters": {"type": "object"}}} for i in range(8)])


def _rows(tmp_path, system_of, n=60, seed=1):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        msgs = [{"role": "user", "content": document(rng, 12)}, {"role": "assistant", "content": document(rng, 25)}]
        sys_prompt = system_of(i, rng)
        if sys_prompt:
            msgs.insert(0, {"role": "system", "content": sys_prompt})
        rows.append({"id": f"r{i}", "messages": msgs, "tools": TOOLS})
    return rows


def _write(tmp_path, rows):
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return Dataset.open(path)


@pytest.mark.parametrize("method", ["minhash", "exact"])
def test_rows_sharing_only_a_long_system_prompt_are_not_one_cluster(tmp_path, method):
    persona = document(random.Random(9), 400)  # far longer than any question and answer
    ds = _write(tmp_path, _rows(tmp_path, lambda i, rng: persona))
    assert dedup_dataset(ds, method).rejects == {}
    if method == "minhash":  # the full text, system prompt included, is the option that clusters them
        from workbench.ops.minhash import MinHashParams

        full = dedup_dataset(ds, method, MinHashParams(view="all"))
        assert len(full.rejects) >= 50


def test_same_conversation_under_other_system_prompts_is_a_duplicate(tmp_path):
    rows = _rows(tmp_path, lambda i, rng: document(rng, 60))  # every row its own system prompt
    rng = random.Random(3)
    rows[7]["messages"][1:] = [dict(m) for m in rows[2]["messages"][1:]]
    rows[9]["messages"][1:] = [dict(m) for m in rows[4]["messages"][1:]]
    rows[9]["messages"][2]["content"] = perturb(rng, rows[9]["messages"][2]["content"], 0.05)
    ds = _write(tmp_path, rows)
    assert set(dedup_dataset(ds, "exact").rejects) == {"r7"}
    assert set(dedup_dataset(ds, "minhash").rejects) == {"r7", "r9"}
    assert dedup_dataset(ds, "minhash").report["params"]["view"] == "conversation"


def test_conversation_view_leaves_out_system_turns_and_tools():
    rec = make_record(id="a", system="You are X.", tools=TOOLS, messages=[
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello", "reasoning": "greet"}])
    assert view_text(rec, "conversation") == "Hi\ngreet\nHello"
    assert "You are X." in view_text(rec, "all")
    assert view_text(make_record(id="t", kind="text", text="plain"), "conversation") == "plain"


def test_dataset_texts_equal_the_record_views(tmp_path):
    sample = Path(__file__).resolve().parents[2] / "sample_data"
    for f in sorted(sample.iterdir()):
        ds = Dataset.open(f)
        for view in ("prompt", "answer", "all", "conversation"):
            assert ds.texts(view) == [view_text(r, view) for r in ds], (f.name, view)
        assert ds.texts("all", 1, 2) == [view_text(ds.record(1), "all")]
    with pytest.raises(ValueError, match="unknown text view"):
        ds.texts("everything")


def _pair(chosen, rejected, prompt="Q?"):
    turns = lambda xs: [{"role": r, "content": c} for r, c in xs]
    return make_record(id="p", kind="preference", messages=turns([("user", prompt)]),
                       chosen=turns(chosen), rejected=turns(rejected))


def test_degenerate_pair_family():
    A = ("assistant", "Blue.")
    assert degenerate_pair(_pair([A], [A])) == "chosen identical to rejected"
    assert degenerate_pair(_pair([A], [("assistant", "  Blue.\n")])) == "chosen identical to rejected"
    assert degenerate_pair(_pair([A], [A, ("user", "More?"), ("assistant", "Red.")])) == "chosen is a prefix of rejected"
    assert degenerate_pair(_pair([A, ("user", "More?"), ("assistant", "Red.")], [A])) == "rejected is a prefix of chosen"
    assert degenerate_pair(_pair([("assistant", "The answer is 4")], [("assistant", "The answer is 4, because 2+2=4.")])) \
        == "chosen is a prefix of rejected"
    # Not degenerate: they differ somewhere, even if the last turns agree; roles count.
    assert degenerate_pair(_pair([("assistant", "Apples."), ("user", "Else?"), A],
                                 [("assistant", "Chips."), ("user", "Else?"), A])) is None
    assert degenerate_pair(_pair([A], [("user", "Blue.")])) is None
    assert degenerate_pair(make_record(id="s", messages=[{"role": "user", "content": "x"}])) is None


def test_filter_and_lint_flag_the_given_case_file(tmp_path):
    ds = Dataset.open(CASES / "degenerate_pairs.jsonl")
    checker = Checker()
    reasons = [[r for r in checker.reasons(rec) if r.startswith("degenerate_pair")] for rec in ds]
    assert reasons == [[], ["degenerate_pair: chosen identical to rejected"],
                       ["degenerate_pair: chosen is a prefix of rejected"]]
    report = lint_dataset(ds, "chatml")
    flagged = [(i.row, i.message) for i in report.issues if i.code == "degenerate_pair"]
    assert flagged == [(1, "chosen identical to rejected"), (2, "chosen is a prefix of rejected")]
    assert report.counts["degenerate_pair"] == 2


def test_degenerate_pairs_in_other_preference_formats(tmp_path):
    trl = tmp_path / "trl.jsonl"
    trl.write_text(json.dumps({"prompt": "Say hi", "chosen": "Hi there", "rejected": "Hi there"}) + "\n"
                   + json.dumps({"prompt": "Say hi", "chosen": "Hi", "rejected": "Hi there, friend"}) + "\n"
                   + json.dumps({"prompt": "Say hi", "chosen": "Hello!", "rejected": "Go away."}) + "\n")
    ds = Dataset.open(trl)
    assert [degenerate_pair(r) for r in ds] == ["chosen identical to rejected", "chosen is a prefix of rejected", None]


def test_cli_default_view_and_the_full_text_option(tmp_path):
    import os
    import subprocess
    import sys

    persona = document(random.Random(9), 400)
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _rows(tmp_path, lambda i, rng: persona, n=30)))
    env = dict(os.environ)

    def dedup(*extra):
        out = subprocess.run([sys.executable, "-m", "workbench", "dedup", str(path), "--dry-run", *extra],
                             capture_output=True, text=True, env=env, timeout=300)
        assert out.returncode == 0, out.stderr
        return out.stdout

    assert "0 clusters" in dedup()
    assert "1 clusters, 29 duplicates" in dedup("--view", "all")
