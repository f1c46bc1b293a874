"""What the Browse list draws over a Session, without Textual; and the app's close."""

from __future__ import annotations

import os

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.session import INLINE_HASH_ROWS, Session
from workbench.tui.browse_model import BLOCK, BrowseModel
from workbench.views import parse_filter


def test_rows_are_read_in_blocks_across_boundaries(ws):
    n = BLOCK * 3 + 5
    ds = Dataset.from_records(make_record(id=f"x{i}", messages=[{"role": "user", "content": f"q{i}"}]) for i in range(n))
    m = BrowseModel(Session(ds, ws))
    assert len(m) == n
    assert [m.row_id(p) for p in (0, BLOCK - 1, BLOCK, n - 1)] == ["x0", f"x{BLOCK - 1}", f"x{BLOCK}", f"x{n - 1}"]
    assert m.row(BLOCK + 1)["preview"] == f"q{BLOCK + 1}"


def test_blocks_follow_the_sessions_view(ds, ws):
    s = Session(ds, ws)
    m = BrowseModel(s)
    assert m.row_id(0) == "r0"
    s.set_filters(parse_filter("kind=preference"))
    assert len(m) == 1 and m.row_id(0) == "pref1"  # not the block read before the filter
    m.toggle_mark(0)
    assert m.marked == {"pref1"}


def test_quitting_the_app_writes_the_bulk_hashes_before_closing_the_workspace(tmp_path, monkeypatch, slow_first_hashing):
    from types import SimpleNamespace

    from workbench.store.workspace import Workspace
    from workbench.tui import app as app_module

    real = slow_first_hashing
    ds = Dataset.from_records(make_record(id=f"x{i}", messages=[{"role": "user", "content": f"q{i}"}])
                              for i in range(INLINE_HASH_ROWS + 1))

    def session(self, **_):  # the user rejects every row and quits at once
        self.ws = Workspace.open(tmp_path / "ws.sqlite")
        self.session = Session(ds, self.ws)
        self.session.decide(ds.ids, "reject")

    monkeypatch.setattr(app_module.WorkbenchApp, "run", session)
    # run() ends the process with os._exit when torch is loaded (an earlier test may have): not pytest's
    exits: list[int] = []
    monkeypatch.setattr(os, "_exit", exits.append)
    args = SimpleNamespace(paths=[], workspace=None, options=None)
    assert app_module.run(args) == 0 and exits in ([], [0])
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        assert ws.decision_hashes() == real(ds, ds.ids)
