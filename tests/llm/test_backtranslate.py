"""`generate backtranslate`: instruction backtranslation with self-curation, scripted replies."""

from __future__ import annotations

import json

from tests.support.loopback import LoopbackServer
from workbench.cli import main
from workbench.data.record import make_record
from workbench.ops.base import apply_result
from workbench.ops.generation.backtranslate import backtranslate

TEXTS = {
    "t0": "To boil an egg, cover it with cold water, bring it to the boil and simmer for nine minutes.",
    "t1": "Buy now!!! Best prices on watches, click here.",  # spam: rated low
    "t2": "Paris is the capital of France and its largest city.",  # the model refuses to write an instruction
    "t3": "",  # nothing to backtranslate
    "t4": "Eggs boil in about nine minutes when simmered gently after the water boils.",  # same instruction again
    "t5": "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen.",  # judge reply unusable
}


def reply(messages):
    p = messages[-1]["content"]
    if p.startswith("Below is a text"):
        if "Paris" in p:
            return "I'm sorry, I cannot help with that."
        if "egg" in p.lower():
            return "Instruction: How do I boil an egg?"
        if "watches" in p:
            return "Write an advert for watches."
        return "Explain photosynthesis in one sentence."
    if "photosynthesis" in p.lower():
        return "It is a fine answer."  # no Rating: line
    return "Rating: 2\nRationale: spam, not an answer" if "watches" in p else "Rating: 5\nRationale: direct answer"


def test_backtranslate_keeps_high_rated_pairs(make_client, ws):
    rows = [make_record(id=k, kind="text", text=v) for k, v in TEXTS.items()]
    with LoopbackServer(reply) as srv:
        res = backtranslate(rows, make_client(srv, concurrency=1), ws, concurrency=1)
    apply_result(ws, res)
    assert [r["id"] for r in res.rows] == ["t0"]
    kept = res.rows[0]
    assert kept["messages"] == [{"role": "user", "content": "How do I boil an egg?"},
                                {"role": "assistant", "content": TEXTS["t0"]}]
    assert kept["meta"]["provenance"]["rating"] == 5.0 and kept["meta"]["provenance"]["parent"] == "t0"
    assert res.dropped["t1"].startswith("rated 2 < 4 (spam, not an answer)")
    assert "near-copy (ROUGE-L 1.00 >= 0.7) of an instruction seen before" in res.dropped["t4"]
    assert "refused" in res.errors["t2"] and "no text to backtranslate" in res.errors["t3"]
    assert "no rating in the judge's reply" in res.errors["t5"]
    assert len(res.rows) + len(res.dropped) + len(res.errors) == len(TEXTS)
    assert ws.signal_values("backtranslate.rating") == {"t0": 5.0, "t1": 2.0, "t4": 5.0}


def test_backtranslate_command_on_answers_with_a_lower_threshold(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": TEXTS[k]}) + "\n" for k in ("t0", "t1")))
    out = tmp_path / "out.jsonl"
    with LoopbackServer(reply) as srv:
        rc = main(["generate", "backtranslate", str(src), "--model", "openai/loopback", "--api-base", srv.api_base,
                   "--threshold", "2", "-o", str(out), "--to", "alpaca", "--workspace", str(tmp_path / "ws.sqlite")])
    err = capsys.readouterr().err
    assert rc == 0, err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["instruction"], r["provenance"]["rating"]) for r in rows] == [
        ("How do I boil an egg?", 5.0), ("Write an advert for watches.", 2.0)]
