"""The Browse list's model over a real dataset and workspace, without Textual."""

from __future__ import annotations

import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.tui.browse_model import BLOCK, BrowseModel, Filters, parse_filter
from workbench.tui.search import fuzzy_search


def test_parse_filter_parts_and_errors():
    f = parse_filter("status=pending kind=sft judge.score>=4")
    assert (f.status, f.kind, f.signal) == ("pending", "sft", "judge.score>=4")
    assert f.describe() == "status=pending kind=sft judge.score>=4"
    with pytest.raises(ValueError, match="status must be one of"):
        parse_filter("status=maybe")
    with pytest.raises(ValueError, match="cannot read"):
        parse_filter("lonely")


def test_kind_filter_takes_the_listed_short_name_and_refuses_unknown_kinds():
    # The list shows "pref": typing it must not silently match nothing.
    assert parse_filter("kind=pref").kind == "preference"
    with pytest.raises(ValueError, match="kind must be one of"):
        parse_filter("kind=chat")


def test_a_second_signal_condition_is_an_error_not_silently_dropped():
    with pytest.raises(ValueError, match="one signal condition at a time"):
        parse_filter("judge.score>=4 cluster=2")


def test_filter_on_a_name_that_is_no_signal_says_so(ds, ws):
    # `len<300` reads like the list's column; it used to show an empty list without a word.
    run = ws.start_run("judge", {})
    ws.add_signals(run, [("r3", "judge.score", 2)])
    ws.finish_run(run, "done", {})
    m = BrowseModel(ds, ws)
    with pytest.raises(ValueError, match=r"no signal named 'len'.*judge\.score"):
        m.set_filters(parse_filter("len<300"))
    assert not m.filters.active() and len(m) == len(ds)


def test_rows_are_read_in_blocks_across_boundaries(ws):
    n = BLOCK * 3 + 5
    ds = Dataset.from_records(make_record(id=f"x{i}", messages=[{"role": "user", "content": f"q{i}"}]) for i in range(n))
    m = BrowseModel(ds, ws)
    assert len(m) == n
    assert [m.row_id(p) for p in (0, BLOCK - 1, BLOCK, n - 1)] == ["x0", f"x{BLOCK - 1}", f"x{BLOCK}", f"x{n - 1}"]
    assert m.row(BLOCK + 1)["preview"] == f"q{BLOCK + 1}"


def test_filters_combine_and_sort_puts_missing_last(ds, ws):
    run = ws.start_run("judge", {})
    ws.add_signals(run, [("r3", "judge.score", 2), ("r8", "judge.score", 5), ("pref1", "judge.score", 4)])
    ws.finish_run(run, "done", {})
    ws.decide("r8", "reject")
    m = BrowseModel(ds, ws)
    m.set_filters(parse_filter("judge.score>=4"))
    assert m.view_ids() == ["r8", "pref1"]
    assert m.signal_column == "judge.score" and m.signal("r8") == 5
    m.set_filters(parse_filter("judge.score>=4 status=pending"))
    assert m.view_ids() == ["pref1"]
    m.set_filters(parse_filter("kind=preference"))
    assert m.view_ids() == ["pref1"]
    m.set_filters(Filters())
    m.set_sort("judge.score")
    ids = m.view_ids()
    assert ids[:3] == ["r8", "pref1", "r3"] and len(ids) == len(ds)
    assert m.position_of(ds.index_of("r8")) == 0
    m.set_sort("judge.score", descending=False)
    assert m.view_ids()[:3] == ["r3", "pref1", "r8"]


def test_decide_writes_first_then_counts(ds, ws):
    m = BrowseModel(ds, ws)
    m.decide(["r0"], "accept")
    m.decide(["r1", "r2"], "reject")
    assert ws.statuses() == {"r0": "accept", "r1": "reject", "r2": "reject"}
    assert m.counts() == {"accept": 1, "reject": 2, "pending": len(ds) - 3}
    assert sorted(m.undo()) == ["r1", "r2"]
    assert m.status("r1") == "pending"
    with pytest.raises(ValueError):
        m.decide(["r0"], "maybe")


def test_counts_follow_changed_decisions_and_undo(ds, ws):
    m = BrowseModel(ds, ws)
    m.decide(["r0", "r1"], "accept")
    m.decide(["r0"], "reject")  # a changed mind moves the row, it does not add one
    m.decide(["r1"], "pending")
    assert m.counts() == {"accept": 0, "reject": 1, "pending": len(ds) - 1}
    m.undo()
    assert m.counts() == {"accept": 1, "reject": 1, "pending": len(ds) - 2}
    assert BrowseModel(ds, ws).counts() == m.counts()  # the same as counted afresh


def test_fuzzy_search_finds_approximate_words_in_file_order(ds):
    rows = fuzzy_search(ds, "zebr answer")
    assert [ds.ids[i] for i in rows] == ["pref1"]
    rows = fuzzy_search(ds, "WEATHER in paris")
    assert [ds.ids[i] for i in rows] == ["tool1"]
    assert len(fuzzy_search(ds, "   ")) == 0


def test_fuzzy_search_needs_every_word_but_forgives_typos(ds):
    assert [ds.ids[i] for i in fuzzy_search(ds, "zebra striped")] == ["pref1"]
    assert [ds.ids[i] for i in fuzzy_search(ds, "zebar")] == ["pref1"]  # a typo
    assert len(fuzzy_search(ds, "zebra weather")) == 0  # no row has both


def test_a_bulk_decision_is_written_at_once_and_its_rows_hashed_after(ws):
    from workbench.store.reconcile import content_hashes
    from workbench.tui.browse_model import INLINE_HASH_ROWS

    n = INLINE_HASH_ROWS + 10
    ds = Dataset.from_records(make_record(id=f"x{i}", messages=[{"role": "user", "content": f"q{i}"}]) for i in range(n))
    m = BrowseModel(ds, ws)
    m.decide(ds.ids, "reject")
    assert ws.counts()["reject"] == n  # committed before decide returned
    m.hashing.join(60)
    assert ws.decision_hashes() == content_hashes(ds, ds.ids)
    m.decide(["x0", "x1"], "accept")  # a small decision hashes its rows at once
    assert m.hashing is not None and ws.decision_hashes()["x0"] == content_hashes(ds, ["x0"])["x0"]


def _slow_first_hashing(monkeypatch):
    """content_hashes whose first call (the first bulk decision's thread) lags behind."""
    import time

    from workbench.store import reconcile

    real, calls = reconcile.content_hashes, []

    def lagging(ds, row_ids):
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.5)  # widens the window in which a second thread, or a close, overtakes it
        return real(ds, row_ids)

    monkeypatch.setattr(reconcile, "content_hashes", lagging)
    return real


def test_joining_the_latest_bulk_hashing_waits_for_the_earlier_ones(ws, monkeypatch):
    from workbench.tui.browse_model import INLINE_HASH_ROWS

    real = _slow_first_hashing(monkeypatch)
    n = INLINE_HASH_ROWS + 10
    ds = Dataset.from_records(make_record(id=f"x{i}", messages=[{"role": "user", "content": f"q{i}"}]) for i in range(2 * n))
    m = BrowseModel(ds, ws)
    m.decide(ds.ids[:n], "reject")
    m.decide(ds.ids[n:], "accept")
    m.hashing.join(60)  # what the app waits for before it closes the workspace
    assert ws.decision_hashes() == real(ds, ds.ids)


def test_quitting_the_app_writes_the_bulk_hashes_before_closing_the_workspace(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from workbench.store.workspace import Workspace
    from workbench.tui import app as app_module
    from workbench.tui.browse_model import INLINE_HASH_ROWS

    real = _slow_first_hashing(monkeypatch)
    ds = Dataset.from_records(make_record(id=f"x{i}", messages=[{"role": "user", "content": f"q{i}"}])
                              for i in range(INLINE_HASH_ROWS + 1))

    def session(self):  # the user rejects every row and quits at once
        self.ws = Workspace.open(tmp_path / "ws.sqlite")
        self.model = BrowseModel(ds, self.ws)
        self.model.decide(ds.ids, "reject")

    monkeypatch.setattr(app_module.WorkbenchApp, "run", session)
    args = SimpleNamespace(paths=[], workspace=None, format=None, map=None)
    assert app_module.run(args) == 0
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        assert ws.decision_hashes() == real(ds, ds.ids)


def test_a_bulk_decision_undone_and_redone_keeps_its_content_hashes(ws):
    from workbench.store.reconcile import content_hashes
    from workbench.tui.browse_model import INLINE_HASH_ROWS

    ds = Dataset.from_records(make_record(id=f"x{i}", messages=[{"role": "user", "content": f"q{i}"}])
                              for i in range(INLINE_HASH_ROWS + 1))
    m = BrowseModel(ds, ws)
    m.decide(ds.ids, "reject")
    m.hashing.join(60)
    assert m.undo() and m.redo()  # the history replays the decisions as written, before hashing
    m.hashing.join(60)
    assert ws.decision_hashes() == content_hashes(ds, ds.ids)
