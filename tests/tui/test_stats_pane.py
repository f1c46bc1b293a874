"""The Stats pane: kinds, decisions, turns, characters, token lengths per role (the real SmolLM2
tokenizer), score signals from a real workspace, cluster sizes, and redraws when a job ends."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.explore.stats import histogram
from workbench.explore.topicmap import TopicMap, save_map
from workbench.tui.config import save_config
from workbench.tui.widgets.stats_view import bar_histogram

TALL = (120, 100)  # everything on one screen, so the assertions read what a user would see


async def _open_stats(pilot):
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.press("5")
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _judge(ws, scores: dict[str, int]) -> None:
    run = ws.start_run("judge", {})
    ws.add_signals(run, [(rid, "judge.score", s) for rid, s in scores.items()])
    ws.finish_run(run, "done", {})


def test_zero_turn_rows_get_their_own_column():
    # Text rows have 0 turns: they must not be counted as 1-turn rows.
    lines = bar_histogram("turns", histogram([0, 0, 0, 1, 2, 2, 8], integer=True)).plain.splitlines()
    axis, bottom, top = lines[-1], lines[-2], lines[2]
    assert axis.split() == [str(v) for v in range(9)]  # one column per whole value 0..8
    assert top.startswith("██") and top.rstrip().endswith("3")  # 0 holds the peak: 3 rows
    one = axis.index("1")
    assert top[one] == " " and bottom[one] != " "  # 1 turn: a shorter bar


def test_tail_past_the_99th_percentile_is_counted():
    h = histogram(list(range(100)) + [10_000])
    text = bar_histogram("lengths", h).plain
    assert "+1 more" in text and "max 10k" in text


@pytest.mark.asyncio
async def test_tokens_per_role_and_scores(make_app, ws, screen_text):
    save_config(token_counts=True)
    _judge(ws, {f"r{i}": i % 5 + 1 for i in range(30)})  # 1..5, six rows each
    app = make_app()
    async with app.run_test(size=TALL) as pilot:
        await _open_stats(pilot)
        text = screen_text(app)
        assert "32 rows" in text and "sft 31" in text and "preference 1" in text
        assert "token lengths · smollm2 tokenizer · 32 rows" in text
        for title in ("tokens per row · 32", "user turns · 32", "assistant turns · 31", "system turns · 6",
                      "tool turns · 1", "chosen turns · 1", "rejected turns · 1"):
            assert title in text
        lines = text.splitlines()
        at = next(i for i, line in enumerate(lines) if "judge.score · 30" in line)
        col = lines[at].index("judge.score")
        block = [line[col : col + 36] for line in lines[at : at + 6]]
        assert "median 3 · p95 5 · max 5" in block[1]
        assert block[2].rstrip().endswith("6")  # peak count: six rows per score
        assert block[5].split() == ["1", "2", "3", "4", "5"]  # one column per whole score
        assert block[4].count("██") == 5


@pytest.mark.asyncio
async def test_redraws_when_a_job_ends_and_on_decisions(make_app, ws, screen_text, wait_until):
    save_config(token_counts=False)
    app = make_app()
    async with app.run_test(size=TALL) as pilot:
        await _open_stats(pilot)
        text = screen_text(app)
        assert "no scores yet" in text and "off in tui.json" in text and "no topic map yet" in text
        # decide in Browse (row keys act where the row is shown), back to Stats: counted at once
        await pilot.press("1", "a", "5")
        await pilot.pause()
        assert "✓ 1 accept" in screen_text(app)
        _judge(ws, {"r0": 2, "r1": 4})  # a judge wrote scores; the pane learns of it when a job ends
        job = app.run_job("demo", [("r0", 0)], lambda x: x)
        job.wait(30)
        # the job's last event reaches the app as a message; the pane then recomputes in a worker
        await wait_until(pilot, lambda: "judge.score · 2" in screen_text(app), "the new scores on screen")
        assert "no scores yet" not in screen_text(app)


@pytest.mark.asyncio
async def test_cluster_sizes(make_app, ds, ws, screen_text):
    save_config(token_counts=False)
    sizes = {0: 20, 1: 8, -1: 4}
    cluster = np.array([c for c, n in sizes.items() for _ in range(n)])
    tm = TopicMap(ds.ids, np.zeros((len(ds), 2), dtype=np.float32), cluster)
    tm.clusters = [{"id": 0, "label": "sleeping dogs", "keywords": [], "size": 20},
                   {"id": 1, "label": "cats at night", "keywords": [], "size": 8},
                   {"id": -1, "label": "(unclustered)", "keywords": [], "size": 4}]
    save_map(ws, tm)
    app = make_app()
    async with app.run_test(size=TALL) as pilot:
        await _open_stats(pilot)
        lines = screen_text(app).splitlines()
        assert any("2 topics · 4 rows unclustered" in line for line in lines)
        dogs = next(line for line in lines if "sleeping dogs" in line)
        cats = next(line for line in lines if "cats at night" in line)
        assert dogs.split()[0] == "20" and cats.split()[0] == "8"
        assert dogs.count("█") > cats.count("█")


@pytest.mark.asyncio
async def test_composition_of_the_open_files_then_of_a_mixture(tmp_path, two_files, screen_text):
    from workbench.cli import main
    from workbench.data.dataset import Dataset
    from workbench.explore.stats import token_lengths
    from workbench.store.workspace import Workspace
    from workbench.tui.app import WorkbenchApp

    save_config(token_counts=True)
    a, b = two_files
    ws_path = tmp_path / "ws.sqlite"
    ds = Dataset.open([str(a), str(b)])
    counted = token_lengths(ds)["sources"]  # every row counted: exact tokens per file
    ws = Workspace.open(ws_path)
    app = WorkbenchApp(dataset=ds, workspace=ws)
    async with app.run_test(size=TALL) as pilot:
        await _open_stats(pilot)
        text = screen_text(app)
        assert "sources · 7 rows by source" in text
        assert f"4 rows · 57.1% · {counted[str(a)]['tokens']} tokens" in text
        assert f"3 rows · 42.9% · {counted[str(b)]['tokens']} tokens" in text
    ws.close()

    # a mixture of 12 rows, half from each file: both are repeated to reach it
    assert main(["mix", f"{a}:1", f"{b}:1", "--total", "12", "--workspace", str(ws_path)]) == 0
    ws = Workspace.open(ws_path)
    run = next(r for r in ws.runs() if r["op"] == "mix")
    recorded = run["counts"]["mixture"]["composition"]
    app = WorkbenchApp(dataset=Dataset.open([str(a), str(b)]), workspace=ws)
    async with app.run_test(size=TALL) as pilot:
        await _open_stats(pilot)
        text = screen_text(app)
        assert f"mixture · run #{run['id']} · 12 rows by source · 5 repeated" in text
        assert f"6 of 4 rows · 50.0% · {recorded[str(a)]['tokens']} tokens" in text
        assert f"6 of 3 rows · 50.0% · {recorded[str(b)]['tokens']} tokens" in text
    ws.close()
