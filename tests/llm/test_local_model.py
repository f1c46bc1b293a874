"""The embedded local/smollm2 model, for real (slow: it loads in tens of seconds, once per process)."""

from __future__ import annotations

import json
import threading
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
