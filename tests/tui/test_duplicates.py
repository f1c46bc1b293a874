"""Pilot test of the Duplicates pane over a real dedup run saved in a real workspace."""

from __future__ import annotations

import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.ops.dedup import dedup_dataset
from workbench.ops.minhash import MinHashParams
from workbench.ops.base import apply_result as save

pytestmark = pytest.mark.asyncio
SIZE = (100, 30)

BASE = ("The quick brown fox jumps over the lazy dog near the quiet river bank while the farmer "
        "watches from the old wooden gate and counts his sheep before the evening rain arrives")


def records():
    recs = [
        make_record(id="a", messages=[{"role": "user", "content": BASE}]),
        make_record(id="b", messages=[{"role": "user", "content": BASE.replace("lazy", "sleepy")}]),
        make_record(id="c", messages=[{"role": "user", "content": BASE.replace("sheep", "goats")}]),
        make_record(id="solo", messages=[{"role": "user", "content": "An unrelated question about tax law in Spain."}]),
    ]
    recs += [make_record(id=f"x{i}", messages=[{"role": "user", "content": f"Entirely different row number {i} about {w}."}])
             for i, w in enumerate(["cats", "trains", "bread", "stars"])]
    return recs


async def _ready(pilot):
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_duplicates_pane_diffs_members_and_keeps_one(ws, screen_text):
    from workbench.tui.app import WorkbenchApp

    ds = Dataset.from_records(records(), sources=["dups.jsonl"])
    save(ws, dedup_dataset(ds, "minhash", MinHashParams(keep="first")))
    assert ws.statuses() == {"b": "reject", "c": "reject"}  # proposals of the run
    app = WorkbenchApp(dataset=ds, workspace=ws)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("6")
        await _ready(pilot)
        pane = app.query_one("DuplicatesPane")
        text = screen_text(app)
        assert "3 members" in text and "representative" in text
        assert "#0 · a · representative" in text  # the row number Browse and the CLI use, then the id
        assert "✗ " in text  # the proposed rejection of the member on the right
        # The changed word is highlighted on each side.
        left, right = (str(app.query_one(f"#dup-{s}").render()) for s in ("left", "right"))
        assert "lazy" in left and ("sleepy" in right or "goats" in right)
        spans = [right[s.start:s.end] for s in app.query_one("#dup-right").render().spans if "green" in str(s.style)]
        assert spans and all(w.strip() in ("sleepy", "goats") for w in spans if w.strip())
        # Show member c on the left and keep it: a and b rejected by a person, c accepted.
        assert "dedup-minhash run " in text and "threshold 0.5" in text  # the method and run it shows
        await pilot.press("right_square_bracket")
        await pilot.press("o")
        await pilot.pause()
        kept = pane.cluster["members"][pane.left]
        await pilot.press("x")
        await pilot.pause()
        assert ws.decision(kept)["status"] == "accept"
        rejected = {m for m in ("a", "b", "c") if m != kept}
        assert all(ws.decision(m)["status"] == "reject" for m in rejected)
        assert ws.decision("solo") is None
        # One u undoes the whole keep: the run's proposals are back (it took two before).
        await pilot.press("u")
        await pilot.pause()
        assert ws.statuses() == {"b": "reject", "c": "reject"}
        assert app.session.counts()["reject"] == 2
        await pilot.press("U")
        await pilot.pause()
        assert ws.decision(kept)["status"] == "accept"
        # f filters the Browse list to the cluster.
        await pilot.press("f")
        await pilot.pause()
        assert sorted(app.session.view_ids()) == ["a", "b", "c"]
        assert app.session.filters.describe() == "cluster 1"  # as the pane's header numbers it


PAIR = "Explain why the sky looks blue on a clear afternoon and why sunsets look red or orange to us"


def pair_records():
    """Two clusters: near-copy preference pairs (labels), and near-copy tool-call rows."""
    def pref(i, word):
        return make_record(id=f"p{i}", kind="preference", messages=[{"role": "user", "content": PAIR + word}],
                           chosen=[{"role": "assistant", "content": "Rayleigh scattering of short wavelengths " + word}],
                           rejected=[{"role": "assistant", "content": "Because the ocean reflects onto it " + word}])

    def tool(i, city):
        return make_record(id=f"t{i}", messages=[
            {"role": "user", "content": "What is the weather like today in the capital city of France please tell me"},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "name": "get_weather",
                                                                 "arguments": f'{{"city": "{city}"}}'}]},
            {"role": "tool", "content": "sunny and warm with a light breeze from the west all afternoon"}])

    return [pref(0, " now"), pref(1, " today"), pref(2, " then"), tool(0, "Paris"), tool(1, "Lyon"),
            make_record(id="solo", messages=[{"role": "user", "content": "Unrelated question on tax law."}])]


async def test_duplicates_keys_labels_and_resolved_clusters(ws, screen_text):
    from workbench.tui.app import WorkbenchApp

    ds = Dataset.from_records(pair_records(), sources=["pairs.jsonl"])
    save(ws, dedup_dataset(ds, "minhash", MinHashParams(view="all", threshold=0.5)))
    app = WorkbenchApp(dataset=ds, workspace=ws)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot)
        await pilot.press("6")
        await _ready(pilot)
        pane = app.query_one("DuplicatesPane")
        assert [len(c["members"]) for c in pane.clusters] == [3, 2]
        left = str(app.query_one("#dup-left").render())
        assert "── chosen ──" in left and "── rejected ──" in left and "Rayleigh" in left
        assert "resolved" in screen_text(app) and "0 of 2 resolved" in screen_text(app)
        # j / k move through the clusters, as they move through a list everywhere else.
        await pilot.press("j")
        await pilot.pause()
        assert pane.cluster is pane.clusters[1]
        assert "get_weather" in str(app.query_one("#dup-left").render())  # tool calls shown
        await pilot.press("k")
        await pilot.pause()
        assert pane.cluster is pane.clusters[0]
        # r rejects the member on the left (a person's decision), a accepts it; u undoes.
        shown = pane.cluster["members"][pane.left]
        await pilot.press("r")
        await pilot.pause()
        assert ws.decision(shown)["status"] == "reject" and not ws.decision(shown)["by"].startswith("op:")
        await pilot.press("a")
        await pilot.pause()
        assert ws.decision(shown)["status"] == "accept"
        await pilot.press("u")
        await pilot.pause()
        assert ws.decision(shown)["status"] == "reject"
        # x keeps the left one, marks the cluster resolved and moves on to the next unresolved one.
        await pilot.press("x")
        await pilot.pause()
        assert app.session.resolved(pane.clusters) == [True, False]
        assert pane.cluster is pane.clusters[1]
        opts = app.query_one("#dup-clusters")
        assert str(opts.get_option_at_index(0).prompt).startswith("✓")
        assert "1 of 2 resolved" in screen_text(app)
        await pilot.press("x")
        await pilot.pause()
        assert app.session.resolved(pane.clusters) == [True, True]
        kept = pane.clusters[1]["members"][0]  # the representative: no proposal on it, yet accepted
        assert ws.decision(kept)["status"] == "accept" and ws.decision(kept)["by"] == app.session.user
        assert any("all clusters resolved" in n.message for n in app._notifications)


async def test_duplicates_pane_without_a_dedup_run(make_app, screen_text):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        await pilot.press("6")
        await _ready(pilot)
        assert "No duplicate clusters yet: press D" in screen_text(app)
