"""A dataset with splits (a save_to_disk DatasetDict) names them in the TUI: the Stats pane's
title line and, per row, the Sample pane's source; with --split the TUI opens that split only."""

from __future__ import annotations

from pathlib import Path

import pytest

CASE = Path(__file__).resolve().parents[1] / "data" / "cases" / "datasetdict_splits"


@pytest.mark.asyncio
@pytest.mark.parametrize("split, title, rows", [(None, "datasetdict_splits (train, test)", 7),
                                                 ("test", "datasetdict_splits (test)", 2)])
async def test_the_tui_names_the_splits(tmp_path, screen_text, split, title, rows):
    from workbench.tui.app import WorkbenchApp

    app = WorkbenchApp([str(CASE)], workspace_path=str(tmp_path / "ws.sqlite"),
                       options={"format": None, "mapping": {}, "split": split})
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("5")
        await pilot.pause()
        assert f"{rows} rows · {title}" in screen_text(app)
        await pilot.press("2")
        await pilot.pause()
        assert f"#0  {split or 'train'}:0" in screen_text(app)  # the row's number, its id
        assert f"datasetdict_splits/{split or 'train'}" in screen_text(app)  # and the split it comes from
