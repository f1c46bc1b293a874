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


@pytest.mark.asyncio
async def test_the_estimate_scales_by_length_and_an_unmeasured_small_run_still_asks(
        make_app, ws, wait_until, _workbench_home):
    """Curator's session: a local judge on 2 marked rows ran without a question (no rate yet,
    fewer rows than a measure takes), and 60 long rows were estimated at the seconds per row
    measured on short ones."""
    from workbench.engine.cost import mean_length, record
    from workbench.tui.screens.confirm import ConfirmScreen

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.model is not None, "the list")
        await pilot.press("space", "space")
        app.action_run_operation("judge")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        assert app.screen.question.startswith("judge on 2 rows with the local model: its time per row is "
                                              "not measured on this machine yet")
        await pilot.press("n")
        await pilot.pause()
        assert not [r for r in ws.runs(50) if r["op"] == "judge"]
        rows = list(app.ds.ids[:2])
        chars = mean_length(app.ds, rows)
        record("judge", rows=2, seconds=8.0, chars=chars / 10)  # measured on rows 10x shorter: 4 s each
        app.action_run_operation("judge")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        question = app.screen.question
        assert question.startswith("judge on 2 rows with the local model: about 2 × 40.0 s = 1m20s"), question
        assert f"4.0 s a row of {chars / 10:,.0f} characters, these average {chars:,.0f}" in question
        await pilot.press("n")


def test_a_rate_recorded_without_lengths_is_not_scaled(_workbench_home):
    from workbench.engine.cost import _path, measured, scaled

    _path().parent.mkdir(parents=True, exist_ok=True)
    _path().write_text('{"judge": 2.5}')  # the format before lengths were kept
    assert measured("judge") == (2.5, None) and scaled(2.5, None, 4000.0) == 2.5
    assert scaled(2.0, 100.0, 1000.0) == 20.0
