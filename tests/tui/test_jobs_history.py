"""Issue 15 (a curator's session): the Jobs pane of a later session lists the runs that failed,
were cancelled (by `c`, or by quitting while they ran) or whose process died, with why, read
from the workspace's run records; before, only finished runs were listed, and a failed step
left no record at all."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from tests.tui.conftest import ready
from workbench.engine.local import run_step
from workbench.ops import registry
from workbench.ops.base import Context
from workbench.store.jobs import run_job

pytestmark = pytest.mark.asyncio


def _elsewhere(ws_path, code: str) -> None:
    """Run `code` (with `ws`, the workspace, open) in another process, which then ends."""
    subprocess.run([sys.executable, "-c", "from workbench.store.workspace import Workspace\n"
                    f"ws = Workspace.open({str(ws_path)!r})\n{code}"], check=True)


async def _jobs_pane(pilot):
    """The Jobs pane (4) of the opened app, shown."""
    await ready(pilot)
    await pilot.press("4")
    await pilot.pause()
    return pilot.app.query_one("#jobs")


async def test_failed_cancelled_and_interrupted_runs_of_earlier_sessions_are_listed_with_why(
        make_app, ds, ws, tmp_path):
    bench = tmp_path / "bench.jsonl"
    bench.write_text("not json\n")
    decontam = registry.get("decontam")
    with pytest.raises(Exception, match="malformed JSON"):  # a step that raised
        run_step(decontam, ds, ws, decontam.params_from_dict({"against": [str(bench)]}))
    cancel = threading.Event()
    cancel.set()  # `c` in the Jobs pane sets it
    run_step(registry.get("filter"), ds, ws, registry.get("filter").default_params(), ctx=Context(cancel=cancel))

    def fails(_row):
        raise RuntimeError("the model is gone")

    run_job(ws, "judge", [("r1", 1), ("r2", 2)], fails, params={})  # a job whose every row failed
    _elsewhere(ws.path, "ws.start_run('map')")  # its process died while it ran
    _elsewhere(ws.path, "ws.start_run('embed'); ws.cancel_own_runs('cancelled by quitting while it ran')")

    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        jobs = await _jobs_pane(pilot)
        listed = {name: (status, detail) for name, status, detail in jobs.events.values()}
        assert listed["#1 decontam"][0] == "failed" and "DataError" in listed["#1 decontam"][1]
        assert "malformed JSON" in listed["#1 decontam"][1]
        assert listed["#2 filter"] == ("cancelled", listed["#2 filter"][1])
        assert "cancelled: nothing of it saved" in listed["#2 filter"][1]
        assert listed["#3 judge"][0] == "failed" and "first error: RuntimeError: the model is gone" in listed["#3 judge"][1]
        assert listed["#4 map"][0] == "interrupted" and "its process ended while it ran" in listed["#4 map"][1]
        assert listed["#5 embed"] == ("cancelled", listed["#5 embed"][1])
        assert "cancelled by quitting while it ran" in listed["#5 embed"][1]
        # the highlighted run's reason in full under the list
        jobs.query_one("#jobs-list").highlighted = list(jobs.events).index("run:1")
        await pilot.pause()
        assert "malformed JSON" in str(jobs.query_one("#jobs-errors").render())


async def test_a_quit_records_the_work_it_leaves_running(make_app, ws):
    """What `q` leaves running when the process ends without waiting: the runs it started are
    cancelled with the reason, and a step with no run of its own gets one (the real program in
    tmux: tests/tui/test_tmux_quit.py)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        job = ws.start_run("judge", job_key="k")  # a job this process runs
        app._record_quit(["judge", "map"])
    runs = {r["op"]: r for r in ws.runs()}
    assert runs["judge"]["id"] == job and runs["judge"]["status"] == "cancelled"
    assert runs["map"]["status"] == "cancelled"
    assert {r["counts"]["error"] for r in runs.values()} == {"cancelled by quitting while it ran"}


async def test_runs_of_another_process_show_while_open_with_the_counts_of_their_operation(
        make_app, ds, ws, wait_until):
    """Curator's session: the open TUI's Jobs history missed a CLI run and a judge interrupted
    in another process (the workspace reload picked up their signals only), and a judge's
    record read "2 new_rows" although a judge makes no rows."""
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        jobs = await _jobs_pane(pilot)
        _elsewhere(ws.path, "ws.start_run('judge')")  # its process died while it ran
        _elsewhere(ws.path, "ws.save_run('judge', {}, counts={'rows': 2, 'rejects': 0, 'errors': 0, 'judged': 2})")
        await wait_until(pilot, lambda: len([k for k in jobs.events if k.startswith("run:")]) == 2,
                         "the reload to list both runs")
        listed = {name: (status, detail) for name, status, detail in jobs.events.values()}
        assert listed["#1 judge"][0] == "interrupted"
        status, detail = listed["#2 judge"]
        assert status == "done" and "2 judged" in detail and "2 rows" in detail
        assert "new" not in detail and " 0 " not in detail  # no zeros of counts it does not have
