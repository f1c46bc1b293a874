"""Before a run on the embedded local model, the TUI says what it will cost (rows x the
seconds per row measured on this machine) and runs nothing unless the user goes on."""

from __future__ import annotations

import pytest

@pytest.mark.asyncio
async def test_a_local_model_run_says_its_cost_first_and_stop_runs_nothing(make_app, ws, wait_until, _workbench_home):
    from workbench.engine.cost import record
    from workbench.tui.screens.confirm import ConfirmScreen

    record("generate-cot", rows=2, seconds=80.0)  # an earlier run here took 40 s a row
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.model is not None, "the list")
        await pilot.press("space", "space", "space")  # three rows marked: the run's rows
        app.action_run_operation("generate-cot")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        assert app.screen.question == ("generate-cot on 3 rows with the local model: about 3 × 40.0 s = 2m00s "
                                       "on this machine (measured here before). Go on?")
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert "generate-cot" not in app.running_work()
        assert not [r for r in ws.runs(50) if r["op"] == "generate-cot"]
        assert any(n.message == "generate-cot not run" for n in app._notifications)


def test_rates_are_kept_per_operation_and_a_remote_model_is_not_estimated(_workbench_home):
    from workbench.engine.cost import estimate, record, seconds_per_row, uses_local_model
    from workbench.ops import registry

    assert seconds_per_row("judge") is None
    record("judge", rows=4, seconds=10.0)
    record("judge", rows=0, seconds=3.0)  # a run of no rows says nothing
    assert seconds_per_row("judge") == 2.5 and seconds_per_row("generate-cot") is None
    assert estimate(100, 2.5) == 250.0
    judge = registry.get("judge")
    assert uses_local_model(judge.Params())  # the embedded default
    assert not uses_local_model(judge.params_from_dict({"model": "openai/gpt-4o-mini"}))
    assert not uses_local_model(registry.get("map").Params())  # an embedding model is not the LLM
