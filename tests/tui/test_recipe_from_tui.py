"""A curation session driven in the TUI (filter, MinHash dedup, decontamination against a
file, two manual rejects) -> `workbench recipe` -> `workbench run` on another copy of the data
(other path, other row order) exports exactly the rows the session's own export has, on the
local engine and on Ray."""

from __future__ import annotations

import json

import pytest

from tests.recipes.test_recipe_cli import _batch, _exported, _shuffled_copy

pytestmark = pytest.mark.asyncio


async def _form(pilot, run_from_palette, name: str, values: dict) -> None:
    await run_from_palette(pilot, f"configure-{name}")
    for field, value in values.items():
        pilot.app.screen.query_one(f"#param-{field}").value = value
    await pilot.press("ctrl+r")
    await pilot.pause()


async def test_a_tui_session_replays_headless_to_the_same_export(tmp_path, run_from_palette, wait_for_operation,
                                                                workbench_cli, wait_until):
    from workbench.tui.app import WorkbenchApp

    rows, src, bench = _batch(tmp_path)
    ws = str(tmp_path / "ws1.sqlite")

    app = WorkbenchApp([str(src)], workspace_path=ws)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.model is not None, "the dataset to open")
        await run_from_palette(pilot, "run-filter")
        await wait_for_operation(pilot, "filter")
        await _form(pilot, run_from_palette, "dedup-minhash", {"threshold": "0.7"})
        await wait_for_operation(pilot, "dedup-minhash")
        await _form(pilot, run_from_palette, "decontam", {"against": f"{bench}:question", "ngram": "8"})
        await wait_for_operation(pilot, "decontam")
        assert [app.operation_state(n)[0] for n in ("filter", "dedup-minhash", "decontam")] == ["done"] * 3
        for row in (25, 30):  # two manual rejects
            app.goto_row(row)
            await pilot.press("r")
        await pilot.pause()
        assert app.session.rejected_by()["manual"] == 2
        await pilot.press("q")

    original, recipe = tmp_path / "orig.jsonl", tmp_path / "r.yaml"
    workbench_cli("export", str(src), "--workspace", ws, "--to", "alpaca", "-o", str(original))
    assert len(_exported(original)) == 40 - 1 - 5 - 1 - 2  # refusal, 3 copies and 2 near copies, contaminated, 2 manual
    copy = _shuffled_copy(rows, tmp_path / "batch2" / "copy.jsonl")

    workbench_cli("recipe", str(src), "--workspace", ws, "-o", str(recipe))
    text = recipe.read_text()
    assert [ln for ln in text.splitlines() if ln.startswith("- op:")] == [
        "- op: filter", "- op: dedup-minhash", "- op: decontam"]
    out = tmp_path / "out.jsonl"
    workbench_cli("run", str(recipe), "--input", str(copy), "--workspace", str(tmp_path / "ws2.sqlite"),
                  "-o", str(out), "--to", "alpaca")
    manual = [json.dumps(rows[25]), json.dumps(rows[30])]  # without the decisions, the manual rejects are back
    assert _exported(out) == sorted(_exported(original) + manual)

    workbench_cli("recipe", str(src), "--workspace", ws, "-o", str(recipe), "--with-decisions")
    out2 = tmp_path / "out2.jsonl"
    workbench_cli("run", str(recipe), "--input", str(copy), "--workspace", str(tmp_path / "ws3.sqlite"),
                  "-o", str(out2), "--to", "alpaca")
    assert _exported(out2) == _exported(original)

    # The same recipe on Ray Data (a local instance of 2 CPUs that the run starts and stops):
    # the same rows, byte for byte, as the local engine's replay.
    out3 = tmp_path / "out3.jsonl"
    workbench_cli("run", str(recipe), "--input", str(copy), "--workspace", str(tmp_path / "ws4.sqlite"),
                  "-o", str(out3), "--to", "alpaca", "--engine", "ray", "--num-cpus", "2")
    assert out3.read_bytes() == out2.read_bytes()
