"""Rows, file names, signals and model replies that hold terminal control sequences: every pane
draws them as visible characters (␛…), never as the bytes a terminal would obey.

The check reads every segment the screen would send to the terminal (Textual is pinned, so the
compositor's render_strips is stable) and fails on any C0/C1 control, ESC or bidi override."""

from __future__ import annotations

import re

import numpy as np
import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record

pytestmark = pytest.mark.asyncio

# Window title, clear screen, clipboard write (OSC 52), a CSI in its 8-bit form, a bidi override.
EVIL = "\x1b]0;PWNED\x07\x1b[2J\x1b]52;c;UFdORUQ=\x07\x9b31m\u202eevil\r"
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def hostile_records() -> list[dict]:
    turn = lambda role, text, **kw: {"role": role, "content": text, **kw}  # noqa: E731
    recs = [
        make_record(id=f"id{EVIL}{i}", system=f"sys {EVIL}", meta={f"field{EVIL}": EVIL},
                    tools=f'[{{"name": "{EVIL!r}"}}]', images=[f"img{EVIL}.png"],
                    messages=[turn("user", f"question {EVIL} number {i} about the same thing again"),
                              turn("assistant", f"answer {EVIL}", reasoning=f"think {EVIL}", name=f"bot{EVIL}",
                                   tool_calls=[{"id": f"c{EVIL}", "name": f"fn{EVIL}", "arguments": f"{{{EVIL}"}]),
                              turn("tool", f"result {EVIL}", tool_call_id=f"c{EVIL}")])
        for i in range(3)
    ]
    recs.append(make_record(id=f"pref{EVIL}", kind="preference", messages=[turn("user", f"which {EVIL}")],
                            chosen=[turn("assistant", f"good {EVIL}")], rejected=[turn("assistant", f"bad {EVIL}")]))
    recs.append(make_record(id=f"text{EVIL}", kind="text", text=f"plain {EVIL}"))
    return recs


def hostile_workspace(ws, ids: list[str]) -> None:
    """Signals, a dedup run, a topic map, generated rows and a failed job, all quoting EVIL."""
    from workbench.explore.topicmap import TopicMap, save_map

    run = ws.start_run(f"judge{EVIL}", {})
    ws.add_signals(run, [(rid, f"verdict{EVIL}", f"v{EVIL}") for rid in ids] + [(rid, "score", 3.0) for rid in ids])
    ws.checkpoint(run, ids[0], error=f"failed {EVIL}")
    ws.finish_run(run, "done", {"rows": len(ids)})
    run = ws.start_run("dedup-minhash", {"view": "all"})
    ws.add_signals(run, [(ids[0], "cluster", 0), (ids[1], "cluster", 0), (ids[0], "representative", ids[0]),
                         (ids[1], "representative", ids[0]), (ids[1], "similarity", 0.9)])
    ws.finish_run(run, "done", {})
    tm = TopicMap(list(ids), np.array([[i, i % 2] for i in range(len(ids))], dtype=np.float32),
                  np.zeros(len(ids), dtype=np.int64),
                  [{"id": 0, "label": f"topic {EVIL}", "keywords": [EVIL], "size": len(ids)}])
    save_map(ws, tm)
    run = ws.start_run("generate-rewrite", {})
    ws.add_signals(run, [(f"gen{EVIL}", "generated", {"op": f"op{EVIL}", "parent": ids[0], "record": {},
                                                      "before": f"old {EVIL}", "after": f"new {EVIL}"})])
    ws.finish_run(run, "done", {})


def leaks(app) -> list[str]:
    """Text segments on screen holding a character a terminal would act on."""
    out = []
    for strip in app.screen._compositor.render_strips():
        out += [seg.text for seg in strip if not seg.control and UNSAFE.search(seg.text)]
    return out


async def test_every_pane_shows_control_characters_visibly(ws):
    from workbench.tui.app import WorkbenchApp

    ds = Dataset.from_records(hostile_records(), sources=[f"file{EVIL}.jsonl"])
    hostile_workspace(ws, ds.ids)
    app = WorkbenchApp(dataset=ds, workspace=ws)
    async with app.run_test(size=(100, 40)) as pilot:
        async def settle():
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()

        await settle()
        app.template_name = "chatml"
        seen = []
        for key in "12345678":
            await pilot.press(key)
            await settle()
            for _ in range(len(ds)):  # every row of the pane
                assert not leaks(app), (app.current_pane, leaks(app))
                await pilot.press("j")
                await settle()
            seen.append(app.current_pane)
        assert seen == ["browse", "sample", "template", "jobs", "stats", "duplicates", "topics", "generated"]
        await pilot.press("1")
        app.notify(f"note {EVIL}", title=f"title {EVIL}")
        app.filter_rows([0], f"label {EVIL}")
        await settle()
        assert not leaks(app), leaks(app)
        text = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "␛]0;PWNED␇" in text and "\\u202e" in text  # shown, not dropped


async def test_a_row_with_deeply_nested_extra_fields_opens_in_the_sample_pane(ws):
    import json

    from workbench.tui.app import WorkbenchApp

    deep = json.loads("[" * 900 + "]" * 900)  # readable (under Python's ~1000), not shown: meta
    ds = Dataset.from_records([make_record(id="d", messages=[{"role": "user", "content": "q"}], meta={"x": deep})],
                              sources=["d.jsonl"])
    app = WorkbenchApp(dataset=ds, workspace=ws)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert app.current_pane == "sample" and "user" in screen
