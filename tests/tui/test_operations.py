"""Operations started from the command palette run off the UI thread and land in the workspace."""

from __future__ import annotations

import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record

pytestmark = pytest.mark.asyncio


def _dup_dataset():
    recs = [make_record(id=f"d{i}", messages=[
        {"role": "user", "content": f"Explain topic number {i % 4} in two sentences please."},
        {"role": "assistant", "content": f"Topic {i % 4} is explained here in a reasonably complete answer."}])
        for i in range(8)]
    return Dataset.from_records(recs, sources=["dups.jsonl"])


async def test_run_dedup_exact_from_palette_proposes_rejects(make_app, ws, screen_text, run_from_palette,
                                                              wait_for_operation):
    app = make_app(dataset=_dup_dataset())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.press("a")  # a person's accept is never overridden by the operation
        await run_from_palette(pilot, "run-dedup-exact")
        await wait_for_operation(pilot, "dedup-exact")
        runs = [r for r in ws.runs() if r["op"].startswith("dedup")]
        assert runs and runs[0]["status"] == "done"
        st = ws.statuses()
        assert st["d0"] == "accept"
        assert sum(1 for s in st.values() if s == "reject") == 4  # d4..d7 duplicate d0..d3
        assert app.model.status("d5") == "reject"  # the list re-read the workspace
        await pilot.press("4")
        await pilot.pause()
        assert "dedup-exact" in screen_text(app) and "done" in screen_text(app)


async def test_run_filter_on_the_whole_dataset(make_app, ws, wait_for_operation):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        app.action_run_operation("filter")
        await wait_for_operation(pilot, "filter")
        assert [r["op"] for r in ws.runs()][:1] == ["filter"]
        name, status, detail = app.query_one("#jobs").events["op:filter"]
        assert status == "done" and "run" in detail


async def test_palette_filter_repeats_the_tuned_cli_run(make_app, ws, wait_for_operation):
    # issue 12: a palette run used the built-in defaults and silently replaced a tuned run
    from workbench.engine.local import run_step
    from workbench.ops import registry

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        op = registry.get("filter")
        tuned = op.params_from_dict({"min_chars": 100_000})  # flags every row of the sample
        cli = run_step(op, app.ds, ws, tuned)
        flagged = set(cli.result.rejects)
        app.action_run_operation("filter")
        await wait_for_operation(pilot, "filter")
        assert {r for r, s in ws.statuses().items() if s == "reject"} == flagged
        assert ws.runs()[0]["log"]["params"]["min_chars"] == 100_000
