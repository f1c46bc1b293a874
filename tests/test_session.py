"""The Session over a real dataset and a real SQLite workspace: the filter language, views,
decisions, counts, undo, background hashing."""

from __future__ import annotations

import os

import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.session import INLINE_HASH_ROWS, Session
from workbench.views import Filters, fuzzy_search, parse_filter


def test_parse_filter_parts_and_errors():
    f = parse_filter("status=pending kind=sft judge.score>=4 tag=math cluster=3")
    assert (f.status, f.kind, f.tag, f.signals) == ("pending", "sft", "math", ("judge.score>=4", "cluster=3"))
    assert f.describe() == "status=pending kind=sft tag=math judge.score>=4 cluster=3"
    assert parse_filter(f.expression()) == f  # what the prompt shows reads back the same
    with pytest.raises(ValueError, match="status must be one of"):
        parse_filter("status=maybe")
    with pytest.raises(ValueError, match="cannot read"):
        parse_filter("lonely")


def test_topic_filter_reads_the_latest_map_and_says_when_there_is_none(ds, ws):
    import numpy as np

    from workbench.explore.topicmap import TopicMap, save_map

    f = parse_filter("topic=2 status=pending")
    assert f.topic == 2 and f.expression() == "status=pending topic=2" and parse_filter(f.expression()) == f
    with pytest.raises(ValueError, match="topic takes a topic number"):
        parse_filter("topic=math")
    s = Session(ds, ws)
    with pytest.raises(ValueError, match="no topic map here yet"):
        s.set_filters(parse_filter("topic=0"))
    dedup = ws.start_run("dedup-exact", {})  # another operation's `cluster` signal is no topic
    ws.add_signals(dedup, [(rid, "cluster", 0) for rid in ds.ids])
    ws.finish_run(dedup, "done", {})
    tm = TopicMap(ds.ids, np.zeros((len(ds), 2), dtype=np.float32), np.array([i % 2 for i in range(len(ds))]))
    tm.clusters = [{"id": 0, "label": "even rows"}, {"id": 1, "label": "odd rows"}]
    save_map(ws, tm)
    s.reload()
    s.set_filters(parse_filter("topic=1"))
    assert s.view_ids() == ds.ids[1::2] and s.filters.describe() == "topic=1 (odd rows)"
    assert s.select("topic=0") == ds.ids[::2]


def test_kind_filter_takes_the_listed_short_name_and_refuses_unknown_kinds():
    # The list shows "pref": typing it must not silently match nothing.
    assert parse_filter("kind=pref").kind == "preference"
    with pytest.raises(ValueError, match="kind must be one of"):
        parse_filter("kind=chat")


def test_signal_conditions_all_hold(ds, ws):
    run = ws.start_run("judge", {})
    ws.add_signals(run, [("r3", "judge.score", 5), ("r4", "judge.score", 5), ("r5", "judge.score", 1),
                         ("r3", "cluster", 2), ("r4", "cluster", 3), ("r5", "cluster", 3)])
    ws.finish_run(run, "done", {})
    s = Session(ds, ws)
    s.set_filters(parse_filter("judge.score>=4 cluster=3"))
    assert s.view_ids() == ["r4"]
    assert s.select("cluster=3") == ["r4", "r5"]  # a selection leaves the view as it is
    assert s.view_ids() == ["r4"]
    with pytest.raises(ValueError, match="status takes = only"):
        parse_filter("status>=accept")


def test_tag_filter_reads_the_tags_people_put_on_rows(ds, ws):
    s = Session(ds, ws)
    s.decide(["r2", "r7"], "accept", tags=["math"])
    s.decide(["r9"], "accept", note="fine")
    s.set_filters(parse_filter("tag=math"))
    assert s.view_ids() == ["r2", "r7"]
    assert ws.decision("r9")["note"] == "fine"


def test_filter_on_a_name_that_is_no_signal_says_so(ds, ws):
    # `len<300` reads like the list's column; it used to show an empty list without a word.
    run = ws.start_run("judge", {})
    ws.add_signals(run, [("r3", "judge.score", 2)])
    ws.finish_run(run, "done", {})
    m = Session(ds, ws)
    with pytest.raises(ValueError, match=r"no signal named 'len'.*judge\.score"):
        m.set_filters(parse_filter("len<300"))
    assert not m.filters.active() and len(m) == len(ds)


def test_filters_combine_and_sort_puts_missing_last(ds, ws):
    run = ws.start_run("judge", {})
    ws.add_signals(run, [("r3", "judge.score", 2), ("r8", "judge.score", 5), ("pref1", "judge.score", 4)])
    ws.finish_run(run, "done", {})
    ws.decide("r8", "reject")
    m = Session(ds, ws)
    m.set_filters(parse_filter("judge.score>=4"))
    assert m.view_ids() == ["r8", "pref1"]
    assert m.signal_values("judge.score")["r8"] == 5
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


def test_sort_by_length_and_turns_both_ways_file_order_among_equals(ds, ws):
    m = Session(ds, ws)
    lengths, turns = ds.column("length"), ds.column("n_turns")
    m.set_sort("length")
    shown = [lengths[m.index(p)] for p in range(len(m))]
    assert shown == sorted(lengths, reverse=True)
    m.set_sort("turns", descending=False)
    order = [m.index(p) for p in range(len(m))]
    assert [turns[i] for i in order] == sorted(turns)
    assert order == sorted(range(len(ds)), key=lambda i: turns[i])  # stable: file order among equals
    m.set_filters(parse_filter("kind=sft"))  # a sort orders the filtered rows
    assert m.view_ids()[0] != "pref1" and len(m) == len(ds) - 1


def test_sort_by_tokens_counts_every_turn_with_the_tokenizer(ds, ws):
    from workbench.templates import load_tokenizer

    tok = load_tokenizer()
    m = Session(ds, ws)
    m.set_sort("tokens", descending=False)
    want = []
    for i in range(len(ds)):  # every turn's text (and the system prompt), counted one by one
        rec = ds.record(i)
        texts = ([rec["system"]] if rec.get("system") else []) + [
            (t.get("reasoning") or "") + (t.get("content") or "")
            for side in ("messages", "chosen", "rejected") for t in rec.get(side) or ()]
        want.append(sum(tok.count(t) for t in texts))
    assert m.tokens.tolist() == want
    assert [want[m.index(p)] for p in range(len(m))] == sorted(want)


def test_source_filter_names_a_file_by_path_name_or_stem(tmp_path, ws):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path, n in ((a, 3), (b, 2)):
        path.write_text("".join(f'{{"instruction": "q{path.stem}{i}", "output": "x"}}\n' for i in range(n)))
    ds = Dataset.open([str(a), str(b)])
    m = Session(ds, ws)
    assert [os.path.basename(s) for s in m.sources()] == ["a.jsonl", "b.jsonl"]
    for name in ("b.jsonl", "b", m.sources()[1]):
        m.set_filters(parse_filter(f"source={name}"))
        assert [m.index(p) for p in range(len(m))] == [3, 4]
    assert parse_filter("source=b kind=sft").expression() == "kind=sft source=b"
    m.set_filters(parse_filter("source=b.j"))  # the start of a file name
    assert [m.index(p) for p in range(len(m))] == [3, 4]
    with pytest.raises(ValueError, match="no source called 'c'.*a.jsonl, b.jsonl"):
        m.set_filters(parse_filter("source=c"))
    assert [m.index(p) for p in range(len(m))] == [3, 4]  # a bad filter leaves the view as it was


def test_rows_below_is_what_reject_below_rejects_in_one_undo_step(ds, ws):
    run = ws.start_run("judge", {})
    ws.add_signals(run, [(f"r{i}", "judge.score", i % 5 + 1) for i in range(10)] + [("r10", "judge.score", "n/a")])
    ws.finish_run(run, "done", {})
    ws.decide("r0", "accept")  # a person's decision stays
    m = Session(ds, ws)
    assert m.numeric_signals() == ["judge.score"]
    below = m.rows_below("judge.score", 3)
    assert sorted(below) == ["r1", "r5", "r6"]  # scores 1, 2 of rows not decided by a person
    assert sorted(m.reject_below("judge.score", 3)) == sorted(below)
    assert m.counts()["reject"] == 3
    assert sorted(m.undo()) == sorted(below) and m.counts()["reject"] == 0


def test_decide_writes_first_then_counts(ds, ws):
    m = Session(ds, ws)
    m.decide(["r0"], "accept")
    m.decide(["r1", "r2"], "reject")
    assert ws.statuses() == {"r0": "accept", "r1": "reject", "r2": "reject"}
    assert m.counts() == {"accept": 1, "reject": 2, "pending": len(ds) - 3}
    assert sorted(m.undo()) == ["r1", "r2"]
    assert m.status("r1") == "pending"
    with pytest.raises(ValueError):
        m.decide(["r0"], "maybe")


def test_counts_follow_changed_decisions_and_undo(ds, ws):
    m = Session(ds, ws)
    m.decide(["r0", "r1"], "accept")
    m.decide(["r0"], "reject")  # a changed mind moves the row, it does not add one
    m.decide(["r1"], "pending")
    assert m.counts() == {"accept": 0, "reject": 1, "pending": len(ds) - 1}
    m.undo()
    assert m.counts() == {"accept": 1, "reject": 1, "pending": len(ds) - 2}
    assert Session(ds, ws).counts() == m.counts()  # the same as counted afresh


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

    n = INLINE_HASH_ROWS + 10
    ds = Dataset.from_records(make_record(id=f"x{i}", messages=[{"role": "user", "content": f"q{i}"}]) for i in range(n))
    m = Session(ds, ws)
    m.decide(ds.ids, "reject")
    assert list(ws.statuses().values()).count("reject") == n  # committed before decide returned
    m.hashing.join(60)
    assert ws.decision_hashes() == content_hashes(ds, ds.ids)
    m.decide(["x0", "x1"], "accept")  # a small decision hashes its rows at once
    assert m.hashing is not None and ws.decision_hashes()["x0"] == content_hashes(ds, ["x0"])["x0"]


def test_joining_the_latest_bulk_hashing_waits_for_the_earlier_ones(ws, slow_first_hashing):
    real = slow_first_hashing
    n = INLINE_HASH_ROWS + 10
    ds = Dataset.from_records(make_record(id=f"x{i}", messages=[{"role": "user", "content": f"q{i}"}]) for i in range(2 * n))
    m = Session(ds, ws)
    m.decide(ds.ids[:n], "reject")
    m.decide(ds.ids[n:], "accept")
    m.hashing.join(60)  # what the app waits for before it closes the workspace
    assert ws.decision_hashes() == real(ds, ds.ids)


def test_a_bulk_decision_undone_and_redone_keeps_its_content_hashes(ws):
    from workbench.store.reconcile import content_hashes

    ds = Dataset.from_records(make_record(id=f"x{i}", messages=[{"role": "user", "content": f"q{i}"}])
                              for i in range(INLINE_HASH_ROWS + 1))
    m = Session(ds, ws)
    m.decide(ds.ids, "reject")
    m.hashing.join(60)
    assert m.undo() and m.redo()  # the history replays the decisions as written, before hashing
    m.hashing.join(60)
    assert ws.decision_hashes() == content_hashes(ds, ds.ids)


def test_counts_are_of_the_datasets_rows_only(ds, ws):
    """The workspace holds decisions on generated rows under review and on rows of another
    dataset sharing it: `workbench status`, `stats` and the TUI count neither (issue 12: after
    accepting 3 generated rows, status said "accept 0" and stats "accept 3")."""
    s = Session(ds, ws)
    run = ws.start_run("generate-cot", {})
    ws.add_signals(run, [(f"cot:r{i}", "generated", {"op": "cot", "parent": f"r{i}", "record": {}}) for i in range(4)])
    ws.finish_run(run, "done", {})
    for i in range(3):
        s.decide_generated(f"cot:r{i}", "accept")
    ws.decide("other.jsonl:0", "reject")  # another dataset's row in a shared workspace
    s.decide(["r1"], "reject")
    dedup = ws.start_run("dedup-exact", {})
    ws.propose(dedup, ["r2", "not-a-row"], "reject", reason="dup")
    ws.finish_run(dedup, "done", {})
    s.reload()
    assert s.counts() == {"accept": 0, "reject": 2, "pending": len(ds) - 2}
    assert s.rejected_by() == {"dedup-exact": 1, "manual": 1}
    assert s.generated_counts() == {"accept": 3, "reject": 0, "pending": 1}
    assert Session(ds, ws).counts() == s.counts()  # the same counted afresh


def test_reviewed_counts_a_persons_decisions_not_an_operations_proposals(tmp_path, capsys):
    """Issue 15 (a curator's session): a dedup run's proposals counted as "reviewed" in the
    status line. Reviewed is what a person accepted or rejected: one by one, in bulk, keeping a
    duplicate, or replayed from a recipe's decisions; `workbench status` says the same."""
    import json

    from workbench.cli import main

    src, wsp = tmp_path / "d.jsonl", tmp_path / "ws.sqlite"
    texts = [f"question {i}" for i in range(6)] + ["question 0", "question 1"]  # rows 6, 7 copy rows 0, 1
    src.write_text("".join(json.dumps({"instruction": t, "output": "an answer"}) + "\n" for t in texts))
    assert main(["dedup", str(src), "--workspace", str(wsp), "--method", "exact"]) == 0

    def status(ws) -> dict:
        capsys.readouterr()
        assert main(["status", str(src), "--workspace", str(ws), "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    assert status(wsp)["counts"]["reject"] == 2 and status(wsp)["reviewed"] == 0
    s = Session.open([str(src)], workspace=wsp)
    ids = s.ds.ids
    assert s.counts()["reject"] == 2  # the proposals still make the counts and the export
    assert s.review_progress() == {"reviewed": 0, "total": 8, "left": None}
    s.set_filters(parse_filter("status=reject"))
    assert s.review_progress()["left"] == 2  # proposals are left to look at
    s.decide([ids[6]], "reject")  # the person agrees with one proposal
    assert s.review_progress() == {"reviewed": 1, "total": 8, "left": 1}
    s.decide([ids[2], ids[3]], "accept")  # in bulk
    s.keep([ids[1], ids[7]], ids[1])  # a duplicate kept (accepted): its copy rejected
    assert s.review_progress()["reviewed"] == 5
    s.decide([ids[3]], "pending")  # a reset is no review
    assert s.review_progress()["reviewed"] == 4
    s.undo()
    assert s.review_progress()["reviewed"] == 5
    s.close()
    assert status(wsp)["reviewed"] == 5
    recipe, ws2 = tmp_path / "r.yaml", tmp_path / "ws2.sqlite"
    assert main(["recipe", str(src), "--workspace", str(wsp), "-o", str(recipe), "--with-decisions"]) == 0
    assert main(["run", str(recipe), "--input", str(src), "--workspace", str(ws2), "-o", str(tmp_path / "o.jsonl")]) == 0
    # replayed by content: the reject of row 6 reaches row 0 too, its copy; rows 1 and 7, copies
    # a person told apart (one kept), stay apart
    assert status(ws2)["reviewed"] == 6
    replayed = Session.open([str(src)], workspace=ws2)
    assert replayed.review_progress()["reviewed"] == 6
    assert [replayed.status(i) for i in (replayed.ds.ids[1], replayed.ds.ids[7])] == ["accept", "reject"]
    replayed.close()


def test_a_missing_source_names_a_few_sources_not_all(tmp_path, ws):
    """Seventeen open files: the error names six and the count (a 17-line notice covered the list)."""
    paths = [tmp_path / f"part{i:02d}.jsonl" for i in range(17)]
    for p in paths:
        p.write_text('{"instruction": "q", "output": "x"}\n')
    m = Session(Dataset.open([str(p) for p in paths]), ws)
    with pytest.raises(ValueError) as err:
        m.set_filters(parse_filter("source=zzz"))
    assert "part00.jsonl, part01.jsonl" in str(err.value) and "(17 sources)" in str(err.value)
    assert "part16" not in str(err.value)
    m.set_filters(parse_filter("source=part1"))  # a prefix: part10 .. part16
    assert len(m) == 7


def test_a_kept_duplicate_survives_a_later_dedup_run_that_would_drop_it(tmp_path):
    """Curator's session: `x` (keep) on a cluster of two left the kept row pending, so a later
    `dedup --method exact` (keep first) proposed rejecting it: both copies rejected, the cluster
    still shown resolved, and the export held neither. A keep is the person's accept of the
    kept row, which no operation's proposal overrides."""
    import json

    from workbench.cli import main

    src, wsp, out = tmp_path / "d.jsonl", tmp_path / "ws.sqlite", tmp_path / "out.jsonl"
    q = "Why is the sky blue on a clear day"
    rows = [q, "Another question entirely", q + " !!!"]  # row 2 copies row 0 but for punctuation
    src.write_text("".join(json.dumps({"instruction": t, "output": "an answer"}) + "\n" for t in rows))
    exact = ["dedup", str(src), "--workspace", str(wsp), "--method", "exact", "--ignore-punctuation"]
    assert main([*exact, "--keep", "longest"]) == 0  # keeps row 2, proposes rejecting row 0
    s = Session.open([str(src)], workspace=wsp)
    first, copy = s.ds.ids[0], s.ds.ids[2]
    (cluster,) = s.dedup_clusters(s.dedup_run())
    assert cluster["members"] == [copy, first] and s.status(copy) == "pending"
    assert s.keep(cluster["members"], copy) == {first: "reject", copy: "accept"}
    s.close()
    assert main([*exact, "--keep", "first"]) == 0  # would keep row 0: proposes rejecting row 2
    s = Session.open([str(src)], workspace=wsp)
    assert s.ws.decision(copy)["by"] == s.user and s.status(copy) == "accept"
    (cluster,) = s.dedup_clusters(s.dedup_run())
    assert [s.status(m) for m in cluster["members"]] == ["reject", "accept"] and s.resolved([cluster]) == [True]
    assert s.export("openai", out)["rows"] == 2
    assert "!!!" in out.read_text()
    s.close()


def test_a_cluster_whose_members_all_end_up_rejected_is_not_resolved(ds, ws):
    """A person rejected one copy and left the other; a dedup run's proposal then rejected the
    other too: nothing of the cluster is left, so it is not resolved."""
    s = Session(ds, ws)
    a, b = ds.ids[0], ds.ids[1]
    cluster = {"members": [a, b]}
    s.decide([a], "reject")
    assert s.resolved([cluster]) == [True]
    run = ws.save_run("dedup-exact", {})
    ws.propose(run, [b])
    s.reload()
    assert s.resolved([cluster]) == [False]
    s.decide([b], "accept")
    assert s.resolved([cluster]) == [True]
