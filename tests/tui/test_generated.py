"""Generation from the palette against a real OpenAI-compatible server on 127.0.0.1, reviewed
in the Generated pane: the rewrite's diff shows, accepting it reaches the workspace, and the
accepted rows are written out."""

from __future__ import annotations

import json

import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from tests.support.loopback import LoopbackServer
from workbench.tui.config import save_config

REPLY = "Step one: count the legs carefully. Step two: the final answer is four."


def _three_rows():
    recs = [make_record(id=f"q{i}", messages=[
        {"role": "user", "content": f"How many legs does animal {i} have?"},
        {"role": "assistant", "content": f"It has {i + 2} legs, plainly."}]) for i in range(3)]
    return Dataset.from_records(recs, sources=["animals.jsonl"])


@pytest.mark.asyncio
async def test_cot_rewrite_from_palette_reviewed_accepted_and_written(make_app, ws, screen_text, tmp_path,
                                                                       run_from_palette, wait_for_operation):
    with LoopbackServer(lambda m: REPLY) as srv:
        save_config(llm={"model": "openai/x", "api_base": srv.api_base})
        app = make_app(dataset=_three_rows())
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await run_from_palette(pilot, "run-generate-cot")
            await wait_for_operation(pilot, "generate-cot")
            assert srv.total == 3  # one call per row, all to the loopback server
            name, status, detail = app.query_one("#jobs").events["op:generate-cot"]
            assert status == "done" and detail.startswith("3 rows to review")

            await pilot.press("8")
            await pilot.pause()
            text = screen_text(app)
            assert "cot:q0" in text and "rewrite of q0" in text
            assert "Step one: count the legs carefully" in text  # the new answer ...
            assert "It has 2 legs, plainly." in text  # ... next to the old one it replaces

            # the diff styles: old words struck through in red, new ones green
            diff = app.query_one("#gen-diff").render()
            struck = "".join(diff.plain[s.start:s.end] for s in diff.spans
                             if "red" in str(s.style) and "strike" in str(s.style))
            added = "".join(diff.plain[s.start:s.end] for s in diff.spans if "green" in str(s.style))
            assert struck == "It has 2 legs, plainly."
            assert added == REPLY

            await pilot.press("a")  # accept cot:q0, cursor moves to cot:q1
            await pilot.press("r")  # reject cot:q1
            await pilot.pause()
            assert ws.decision("cot:q0")["status"] == "accept"
            assert ws.decision("cot:q1")["status"] == "reject"
            assert ws.decision("q0") is None  # the original row is not decided by reviewing its rewrite
            assert "✓ cot" in screen_text(app)
            # reviewing generated rows decides none of the dataset's own rows
            assert app.session.counts() == {"accept": 0, "reject": 0, "pending": len(app.ds)}
            await pilot.press("u")  # undo reaches generated rows' decisions too
            await pilot.pause()
            assert (ws.decision("cot:q1") or {}).get("status", "pending") == "pending"

            out = tmp_path / "accepted.jsonl"
            await pilot.press("w")
            await pilot.pause()
            inp = app.screen.query_one("Input")
            inp.value = str(out)
            await pilot.press("enter")
            await pilot.pause()
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 1
    assert rows[0]["messages"][-1]["content"] == REPLY
    assert rows[0]["provenance"]["parent"] == "q0"


@pytest.mark.asyncio
async def test_self_instruct_rows_show_as_new_and_judge_uses_configured_model(make_app, ws, screen_text, tmp_path,
                                                                                run_from_palette, wait_for_operation):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps({"instruction": t, "input": "", "output": "ok"}) + "\n" for t in (
        "Write a haiku about autumn leaves falling.", "Explain why the sky looks blue at noon.",
        "List three uses for a paper clip.")))
    tasks = iter(range(1000))

    def reply(messages):
        prompt = messages[-1]["content"]
        if "Rating" in prompt or "rating" in prompt:
            return "Rating: 4\nRationale: clear and correct."
        return f"Describe the history of invented city number {next(tasks)} in five sentences."

    with LoopbackServer(reply) as srv:
        save_config(llm={"model": "openai/x", "api_base": srv.api_base, "seed_file": str(seeds)})
        app = make_app(dataset=_three_rows())
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await run_from_palette(pilot, "run-generate-self-instruct")
            await wait_for_operation(pilot, "generate-self-instruct")
            assert srv.total > 0
            gen = ws.signal_values("generated")
            assert gen and all(v["op"] == "self-instruct" and v["parent"] is None for v in gen.values())
            await pilot.press("8")
            await pilot.pause()
            assert "new row" in screen_text(app) and "invented city number" in screen_text(app)

            before = srv.total
            await run_from_palette(pilot, "run-judge")
            await wait_for_operation(pilot, "judge")
            assert srv.total > before  # the judge asked the configured server, not the local model
            assert ws.signal_values("judge.score")


def test_llm_settings_default_and_unknown_key():
    from workbench.tui.config import llm_settings

    assert llm_settings()["model"] == "local/smollm2"
    save_config(llm={"model": "openai/x", "apikey": "nope"})
    with pytest.raises(ValueError, match="unknown llm setting.*apikey"):
        llm_settings()


@pytest.mark.asyncio
async def test_cancel_on_an_inner_jobs_own_line_stops_its_operation(make_app, screen_text, run_from_palette,
                                                                      wait_until, wait_for_operation):
    import threading

    asked, gate = threading.Event(), threading.Event()

    def reply(messages):
        asked.set()
        gate.wait(30)  # hold every request until the cancel is pressed
        return REPLY

    recs = [make_record(id=f"q{i}", messages=[{"role": "user", "content": f"Question {i}?"},
                                              {"role": "assistant", "content": f"Answer {i}."}]) for i in range(40)]
    with LoopbackServer(reply) as srv:
        save_config(llm={"model": "openai/x", "api_base": srv.api_base})
        app = make_app(dataset=Dataset.from_records(recs, sources=["qa.jsonl"]))
        async with app.run_test(size=(120, 36)) as pilot:
            try:
                await pilot.pause()
                await app.workers.wait_for_complete()
                await run_from_palette(pilot, "run-generate-cot")  # its inner job is called "cot"
                await pilot.press("4")
                jobs = app.query_one("#jobs")
                await wait_until(pilot, lambda: asked.is_set() and any(k.startswith("job:") for k in jobs.events),
                                 "the inner job on screen")
                ol = jobs.query_one("#jobs-list")
                ol.highlighted = list(jobs.events).index(next(k for k in jobs.events if k.startswith("job:")))
                await pilot.press("c")
            finally:
                gate.set()  # a failure above must not leave the server holding requests
            await wait_for_operation(pilot, "generate-cot")
            assert jobs.events["op:generate-cot"][1] == "cancelled"
            assert srv.total < len(recs)  # the rows after the cancel were never asked


@pytest.mark.asyncio
async def test_pairs_from_documents_show_their_chunk_in_gen_and_sample_panes(make_app, tmp_path, screen_text):
    from tests.llm.test_from_docs import TIDES, reply
    from workbench.cli import main
    from workbench.store.workspace import Workspace

    doc = tmp_path / "tides.md"
    doc.write_text(TIDES)
    out, wsp = tmp_path / "qa.jsonl", tmp_path / "ws.sqlite"
    with LoopbackServer(reply) as srv:
        assert main(["generate", "from-docs", str(doc), "--model", "openai/loopback", "--api-base", srv.api_base,
                     "--types", "factual", "--limit", "1", "-o", str(out), "--workspace", str(wsp)]) == 0
    ws = Workspace(str(wsp))
    app = make_app(dataset=Dataset.open(str(out)), workspace=ws)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.press("2")  # Sample: the chunk beside the pair, and where it comes from
        await pilot.pause()
        text = screen_text(app)
        assert "source chunk" in text and "generated pair" in text
        assert "Tides are caused mainly by the gravity of the Moon." in text and "The Sun adds a smaller pull" in text
        assert "provenance: from-docs · openai/loopback" in text and "chars 0–" in text
        assert "grounding: supported" in text
        await pilot.press("8")  # Gen: the stored row shows its provenance and chunk too
        await pilot.pause()
        text = screen_text(app)
        assert "provenance: from-docs" in text and "source chunk" in text
