"""Undo/redo against a model: any sequence of decisions, undos and redos ends in the model's state."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.store.workspace import Workspace

ROWS = ["a", "b", "c", "d"]
action = st.one_of(
    st.tuples(st.just("decide"), st.lists(st.sampled_from(ROWS), min_size=1, max_size=3),
              st.sampled_from(["accept", "reject", "pending"])),
    st.tuples(st.just("undo")),
    st.tuples(st.just("redo")),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(action, max_size=25))
def test_undo_redo_matches_a_model(actions):
    states: list[dict[str, str]] = [{}]  # snapshots after each step; states[pos] is current
    pos = 0
    with tempfile.TemporaryDirectory() as d:
        with Workspace.open(Path(d) / "ws.sqlite") as ws:
            for act in actions:
                if act[0] == "decide":
                    _, rows, status = act
                    ws.decide_many(rows, status)
                    new = dict(states[pos]) | {r: status for r in rows}
                    states = states[: pos + 1] + [new]
                    pos += 1
                elif act[0] == "undo":
                    touched = ws.undo()
                    if pos > 0:
                        changed = {r for r in ROWS if states[pos].get(r) != states[pos - 1].get(r)}
                        assert changed <= set(touched)  # every row the step changed is reported
                        pos -= 1
                    else:
                        assert touched == []
                else:
                    touched = ws.redo()
                    if pos + 1 < len(states):
                        pos += 1
                    else:
                        assert touched == []
                assert ws.statuses() == states[pos]
            assert ws.can_undo() == (pos > 0) and ws.can_redo() == (pos + 1 < len(states))
