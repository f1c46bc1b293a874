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


def _lengths_file(tmp_path):
    import json

    path = tmp_path / "lengths.jsonl"
    rows = [{"id": f"L{i}", "messages": [{"role": "user", "content": "Say something about the sea."},
                                          {"role": "assistant", "content": " ".join(f"w{i}x{k}" for k in range(4 * (1 + i % 9))) + "."}]}
            for i in range(40)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _latest(ws, op: str) -> dict:
    return next(r for r in ws.runs(100) if r["op"] == op)


async def test_palette_runs_the_tuned_cli_filter_again_not_the_defaults(tmp_path, run_from_palette, wait_for_operation,
                                                                        workbench_cli):
    """issue 12: a palette filter silently replaced a tuned `workbench filter --rules` run
    with built-in defaults (110 rows flagged by the CLI, 2 after the palette run)."""
    import json

    from workbench.store.workspace import Workspace
    from workbench.tui.app import WorkbenchApp

    data, wsp, rules = _lengths_file(tmp_path), str(tmp_path / "ws.sqlite"), tmp_path / "rules.json"
    rules.write_text(json.dumps({"max_chars": 120}))
    workbench_cli("filter", str(data), "--workspace", wsp, "--rules", str(rules))
    with Workspace.open(wsp) as ws:
        cli_run, cli_flags, cli_status = _latest(ws, "filter"), ws.signal_values("filter_reasons"), ws.statuses()
    assert cli_run["params"]["max_chars"] == 120 and len(cli_flags) > 5  # the tuned rule flags the long rows

    app = WorkbenchApp([str(data)], workspace_path=wsp)
    async with app.run_test(size=(100, 30)) as pilot:
        while app.model is None:
            await pilot.pause(0.05)
        await run_from_palette(pilot, "run-filter")
        await wait_for_operation(pilot, "filter")
        run = _latest(app.ws, "filter")
        assert run["id"] != cli_run["id"] and run["params"] == cli_run["params"]
        assert app.ws.signal_values("filter_reasons") == cli_flags and app.ws.statuses() == cli_status
        assert app.query_one("#jobs").events["op:filter"][1] == "done"

        # configure-filter: a form over the same parameters; the changed one is used and logged.
        await run_from_palette(pilot, "configure-filter")
        assert type(app.screen).__name__ == "ParamsScreen"
        field = app.screen.query_one("#param-max_chars")
        assert field.value == "120"
        field.value = "100000"
        await pilot.press("ctrl+r")
        await pilot.pause()
        await wait_for_operation(pilot, "filter")
        assert _latest(app.ws, "filter")["params"]["max_chars"] == 100000
        assert len([s for s in app.ws.statuses().values() if s == "reject"]) < len(cli_flags)  # fewer proposals


async def test_parameters_form_says_what_is_wrong_and_runs_nothing(make_app, ws, run_from_palette):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await run_from_palette(pilot, "configure-filter")
        app.screen.query_one("#param-max_chars").value = "lots"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "max_chars" in str(app.screen.query_one("#params-error").render())
        await pilot.press("escape")
        await pilot.pause()
        assert not [r for r in ws.runs() if r["op"] == "filter"]


def _many_rows(n: int):
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma".split()
    recs = [make_record(id=f"m{i}", messages=[
        {"role": "user", "content": " ".join(words[(i * 7 + k) % len(words)] for k in range(40)) + f" {i}"},
        {"role": "assistant", "content": " ".join(words[(i * 3 + k) % len(words)] for k in range(60))}])
        for i in range(n)]
    return Dataset.from_records(recs, sources=["many.jsonl"])


@pytest.mark.parametrize("name", ["dedup-minhash", "filter"])
async def test_c_in_the_jobs_pane_cancels_saves_nothing_and_says_cancelled(make_app, ws, name, wait_for_operation,
                                                                          monkeypatch):
    """issue 12: `c` on a running dedup still saved its proposals; a cancelled filter said "failed"."""
    import threading

    from workbench.ops import registry

    # The real operation, held at its start until `c` is pressed: on a quiet machine it would
    # otherwise finish 20,000 rows before the key arrives.
    op, gate = registry.get(name), threading.Event()
    real = op.run
    monkeypatch.setattr(op, "run", lambda *a, **kw: (gate.wait(60), real(*a, **kw))[1])
    app = make_app(dataset=_many_rows(20_000))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        app.action_run_operation(name)
        await pilot.press("4")
        jobs = app.query_one("#jobs")
        while f"op:{name}" not in jobs.events:
            await pilot.pause(0.01)
        jobs.query_one("#jobs-list").highlighted = list(jobs.events).index(f"op:{name}")
        await pilot.press("c")  # long before 20,000 rows are done
        assert jobs.events[f"op:{name}"][1] in ("running", "cancelled"), "it ended before it could be cancelled"
        gate.set()
        await wait_for_operation(pilot, name)
        assert jobs.events[f"op:{name}"][:2] == (name, "cancelled")
        assert [(h.name, h.status) for h in app.session.runner.handles] == [(name, "cancelled")]  # what the pane lists
        assert "cancelled" in str(jobs.query_one("#jobs-list").get_option_at_index(
            list(jobs.events).index(f"op:{name}")).prompt)
        assert [r for r in ws.runs(100) if r["status"] == "done"] == []  # no run saved
        assert ws.statuses() == {} and ws.signal_names() == []
