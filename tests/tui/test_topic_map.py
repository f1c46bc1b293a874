"""The Topic map pane: a saved map is read back, drawn, navigated, and filters Browse."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.explore.topicmap import TopicMap, load_map, save_map
from workbench.tui.config import save_config

TOPICS = [("bread", "How long do I bake sourdough bread?"), ("python", "How do I sort a list in Python?"),
          ("space", "How far away is the Andromeda galaxy?")]


def _dataset_and_map():
    rng = np.random.default_rng(0)
    recs, xy, cluster = [], [], []
    for c, (name, q) in enumerate(TOPICS):
        n = 20 - 4 * c  # sizes 20, 16, 12: the legend lists the biggest first
        for i in range(n):
            recs.append(make_record(id=f"{name}-{i}", messages=[{"role": "user", "content": f"{q} ({i})"},
                                                                 {"role": "assistant", "content": "..."}]))
            xy.append(np.array([[0, 0], [10, 0], [5, 8]][c]) + rng.normal(scale=0.6, size=2))
            cluster.append(c)
    recs += [make_record(id=f"odd-{i}", messages=[{"role": "user", "content": f"odd one {i}"}]) for i in range(2)]
    xy += [np.array([10.0, 8.0]), np.array([0.0, 8.0])]
    cluster += [-1, -1]
    ds = Dataset.from_records(recs, sources=["topics.jsonl"])
    tm = TopicMap(ds.ids, np.array(xy, dtype=np.float32), np.array(cluster))
    tm.clusters = [{"id": c, "label": f"{name}, words", "keywords": [name], "size": 20 - 4 * c}
                   for c, (name, _) in enumerate(TOPICS)] + [{"id": -1, "label": "(unclustered)", "keywords": [], "size": 2}]
    return ds, tm


@pytest.fixture
def mapped(ws):
    save_config(token_counts=False)
    ds, tm = _dataset_and_map()
    save_map(ws, tm)
    return ds


async def _open_map(pilot):
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.press("7")
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.asyncio
async def test_pane_draws_the_saved_map_and_filters_browse_by_a_cluster(make_app, mapped, screen_text):
    app = make_app(dataset=mapped)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_map(pilot)
        text = screen_text(app)
        assert "3 topics · 50 rows" in text
        for name, _ in TOPICS:
            assert f"{name}, words" in text
        assert any(0x2800 < ord(ch) <= 0x28FF for ch in text)  # braille dots were drawn

        canvas = app.query_one("#map-canvas")
        await pilot.press("n")  # selects the biggest topic and puts the cursor on it
        assert canvas.selected == 0
        await pilot.pause()
        assert canvas.cluster_at_cursor() == 0
        assert "bread, words" in screen_text(app).splitlines()[-3] or "rows here" in screen_text(app)
        await pilot.press("n", "N", "N")
        assert canvas.selected == 2
        await pilot.press("n")
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_pane == "browse"
        assert len(app.model) == 20
        assert all(app.model.row(p)["id"].startswith("bread-") for p in range(len(app.model)))


@pytest.mark.asyncio
async def test_zoom_and_move_keep_the_cursor_on_the_map(make_app, mapped):
    app = make_app(dataset=mapped)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_map(pilot)
        canvas = app.query_one("#map-canvas")
        full = canvas.bounds
        await pilot.press("plus")
        zoomed = canvas.bounds
        assert (zoomed[1] - zoomed[0]) == pytest.approx((full[1] - full[0]) / 2)
        for _ in range(60):  # past the right edge: the view pans, the cursor stays inside
            await pilot.press("right")
        assert canvas.cursor[0] == canvas.size.width - 1 and canvas.bounds[0] > zoomed[0]
        await pilot.press("0")
        assert canvas.bounds == full


@pytest.mark.asyncio
async def test_status_colouring_shows_decisions(make_app, mapped, screen_text):
    app = make_app(dataset=mapped)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        app.decide_rows(["bread-0", "bread-1"], "reject")
        app.decide_rows(["python-3"], "accept")
        await _open_map(pilot)
        await pilot.press("v")
        await pilot.pause()
        text = screen_text(app)
        assert "reject          2" in text and "accept          1" in text
        canvas = app.query_one("#map-canvas")
        assert canvas.colour_by == "status" and int((canvas.status == 2).sum()) == 2


@pytest.mark.asyncio
async def test_without_a_map_the_pane_says_how_to_build_one(make_app, ws, screen_text):
    save_config(token_counts=False)
    ds, _ = _dataset_and_map()
    app = make_app(dataset=ds)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_map(pilot)
        assert "No topic map yet: press m to build one." in screen_text(app)
        assert load_map(ws, ds.ids) is None


def test_topic_map_80x24(snap_compare, make_app, mapped):
    async def run_before(pilot):
        await _open_map(pilot)
        await pilot.press("n")
        await pilot.pause()

    assert snap_compare(make_app(dataset=mapped), terminal_size=(80, 24), run_before=run_before)


@pytest.mark.slow
@pytest.mark.asyncio
async def test_m_builds_the_map_with_the_real_model(make_app, ws, screen_text, wait_until):
    save_config(token_counts=False)
    ds, _ = _dataset_and_map()
    app = make_app(dataset=ds)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_map(pilot)
        await pilot.press("m")  # the map operation, in the step runner like any other
        await wait_until(pilot, lambda: (app.operation_state("map") or ("running",))[0] != "running",
                         "the map to be built", limit=900)  # the model loads: minutes when the machine is loaded
        assert app.operation_state("map")[0] == "done", app.operation_state("map")
        await pilot.press("7")  # the pane reads the map the run saved
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        pane = app.query_one("#topics")
        assert pane.tm is not None and pane.tm.method == "kmeans"
        assert load_map(ws, ds.ids) is not None  # saved for the next session and the CLI
        assert "topics ·" in screen_text(app)


@pytest.mark.asyncio
async def test_a_topic_chosen_on_the_map_is_a_filter_the_prompt_shows_and_edits(make_app, mapped, screen_text):
    """Issue 15 (a curator's session): enter on a topic filtered Browse with a filter the `f`
    prompt did not show, so it could be neither edited nor cleared there. It is `topic=N` of the
    filter language now: one filter, shown and edited in one place."""
    from textual.widgets import Input

    app = make_app(dataset=mapped)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_map(pilot)
        await pilot.press("n", "enter")  # the biggest topic: bread (0)
        await pilot.pause()
        assert app.current_pane == "browse" and len(app.model) == 20
        status = lambda: str(app.query_one("#status").render())  # noqa: E731
        assert "filter topic=0 (bread, words)" in status()
        await pilot.press("f")
        await pilot.pause()
        prompt = app.screen.query_one(Input)
        assert prompt.value == "topic=0"
        await pilot.press("ctrl+a", "ctrl+k", *"topic=2 status=pending", "enter")  # edited: another topic
        await pilot.pause()
        assert len(app.model) == 12 and all(app.model.row(p)["id"].startswith("space-") for p in range(12))
        assert "filter status=pending topic=2 (space, words)" in status()
        await pilot.press("f", "ctrl+a", "ctrl+k", *"topic=-1", "enter")  # the unclustered rows
        await pilot.pause()
        assert app.session.view_ids() == ["odd-0", "odd-1"]
        await pilot.press("f", "ctrl+a", "ctrl+k", *"topic=7", "enter")  # no such topic: said, not an empty list
        await pilot.pause()
        assert any("no topic 7 in the map; its topics are -1, 0, 1, 2" in n.message for n in app._notifications)
        assert app.session.view_ids() == ["odd-0", "odd-1"]
        await pilot.press("f", "ctrl+a", "ctrl+k", "enter")  # cleared in the prompt
        await pilot.pause()
        assert len(app.model) == len(mapped) and not app.session.filters.active()
        assert app.session.select("topic=1") == [f"python-{i}" for i in range(16)]  # what a recipe or --where reads
