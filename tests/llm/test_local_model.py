"""The embedded local/smollm2 model, for real (slow: it loads in tens of seconds, once per process)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.llm.client import LLMClient
from workbench.llm.local import batcher

pytestmark = pytest.mark.slow
SEEDS = Path(__file__).resolve().parents[2] / "examples" / "seed_tasks.jsonl"


def test_local_model_answers_batches_and_caches(ws):
    client = LLMClient(temperature=0.0, max_tokens=24, cache=ws)
    assert client.model == "local/smollm2"
    prompts = [f"Name one {thing}." for thing in ("fruit", "colour", "planet", "animal")]
    outs: dict[str, dict] = {}

    def ask(p):
        outs[p] = client.complete([{"role": "user", "content": p}])

    threads = [threading.Thread(target=ask, args=(p,)) for p in prompts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(outs[p]["text"].strip() for p in prompts)
    assert max(batcher().batches) > 1  # concurrent requests shared a generate call
    assert client.usage["completion_tokens"] > 0 and client.usage["cost"] == 0.0
    again = client.complete([{"role": "user", "content": prompts[0]}])
    assert again["cached"] and again["text"] == outs[prompts[0]]["text"]
    three = client.complete([{"role": "user", "content": "Say hello."}], n=3, temperature=0.9)
    assert len(three["texts"]) == 3


def test_generate_evol_with_the_local_model(tmp_path, capsys):
    out = tmp_path / "evolved.jsonl"
    # Greedy and one request at a time: sampling (the CLI's default 0.7) and batch padding both change
    # what a 135M model writes, and whether an evolution survives elimination depends on it.
    rc = main(["generate", "evol", str(SEEDS), "--limit", "3", "--max-tokens", "48",
               "--temperature", "0", "--concurrency", "1", "--mutations", "constraints,concretise",
               "-o", str(out), "--workspace", str(tmp_path / "ws.sqlite")])
    err = capsys.readouterr().err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    failed = [line for line in err.splitlines() if line.startswith("failed ")]
    # every input row is accounted for: written with its provenance, or listed with its error
    assert len(rows) + len(failed) == 3 and rc == (1 if failed else 0)
    assert rows, err
    for r in rows:
        assert r["provenance"]["operation"] == "evol" and r["provenance"]["model"] == "local/smollm2"
        assert r["instruction"].strip() and r["output"].strip()
        assert r["instruction"] != r["provenance"]["original"]


def test_cancel_stops_a_local_generation_within_a_token_and_progress_counts_rows(ws):
    """A job on the real model cancelled mid-generation returns within a second or two (the
    batcher stops at the next token), and its events counted every row that had finished,
    a whole batch of them, before the cancel."""
    from workbench.llm.local import LocalModel
    from workbench.ops.oprun import Cancelled
    from workbench.store.jobs import run_job

    model = LocalModel.get()  # loaded before the clock starts
    cancel, events, finished = threading.Event(), [], []
    client = LLMClient(temperature=0.0, max_tokens=32, cache=None, cancel=cancel)

    def fn(topic: str) -> str:
        text = client.complete([{"role": "user", "content": f"Write a long essay about {topic}."}])["text"]
        finished.append(topic)
        return text

    topics = ["rivers", "bridges", "clocks", "bees", "salt", "glass"]
    out: dict = {}
    t = threading.Thread(target=lambda: out.update(res=run_job(
        ws, "essays", [(x, x) for x in topics], fn, concurrency=2, on_event=events.append, cancel=cancel)))
    t.start()
    deadline = time.monotonic() + 300  # a loaded 2-core machine: ~0.3 s a token
    while len(finished) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the second batch is generating now
    assert len(finished) == 2 and events[-1].done == 2  # the batch's rows both counted, not 1
    t0 = time.monotonic()
    cancel.set()
    t.join(30)
    took = time.monotonic() - t0
    res = out["res"]
    assert took < 2.0, f"cancel took {took:.2f} s"
    assert res.status == "cancelled" and res.ok == len(finished) == 2 and res.failed == 0
    assert events[-1].status == "cancelled" and events[-1].done == 2
    with pytest.raises(Cancelled):  # the judge's probabilities: no forward pass once cancelled
        model.choice_probabilities([{"role": "user", "content": "Rate it."}], "Rating: ", ["1", "2"], cancel=cancel)
