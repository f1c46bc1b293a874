"""One curation session over a dataset and its workspace: what the CLI and the TUI both use.

    s = Session(ds, ws)                  # or Session.open(["data.jsonl"])
    s.decide(["r3"], "reject")           # committed to the workspace on return
    s.counts()                           # {"accept": 0, "reject": 1, "pending": 998}
    s.set_filters(parse_filter("status=pending judge.score>=4"))
    s.view_ids()                         # the rows the view shows, in its order
    s.undo()                             # ["r3"]

Counts are of the dataset's rows only: the workspace also holds decisions on ids that are
not rows here (generated rows under review, rows of another dataset sharing the workspace),
which are counted apart (`generated_counts`). `workbench status`, `workbench stats`, the TUI's
status line and export all read them from here, so they agree.

Every decision is an annotator's (`user`, by default the login name): a row holds one decision
per annotator, and the status counted, filtered on and exported is the one the workspace's
review policy derives from them (workbench.store.review); undo and redo are the annotator's own.
Where no person decided, an operation's proposal (filter, dedup, decontam) gives the status;
a row is reviewed only when the people's status is accept or reject (`review_progress`).

Each decision a person makes records its row's content hash (workbench.store.reconcile) so it
follows the row when the source is edited; a big bulk decision is written at once and hashed
in a background thread (`close()` waits for it).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyarrow as pa

from workbench.views import STATUSES, TOKENS, Filters, select, signal_predicate, sort_keys, sort_rows, sources_named

REVIEWS = ("accept", "reject")  # what a person's decision must say for its row to count as reviewed
INLINE_HASH_ROWS = 512  # decisions on more rows at once hash those rows in the background
GENERATED = "generated"  # the signal that holds a generated row under review


class Session:
    """Decisions, counts, the current view (filters and sort), generated rows under review,
    duplicate clusters and export over one Dataset and its Workspace."""

    def __init__(self, ds, ws, *, user: str | None = None):
        from workbench.store.review import check_name, default_annotator

        self.ds, self.ws = ds, ws
        self.user = check_name(user) if user else default_annotator()  # who decides here
        self.table: pa.Table = ds.table.select(["id", "kind", "source", "length", "n_turns"])
        self.statuses: dict[str, str]  # row id -> effective status, rows decided or proposed on
        self.reviewed: set[str]  # rows a person accepted or rejected (a proposal is no review)
        self.statuses, self.reviewed = self.read_review()
        self._tally = self._count(self.statuses)  # kept up to date by decide(): read on every key press
        self.notes: dict[str, dict] = self._inside(ws.notes())  # row id -> {"note", "tags"}, rows that have some
        self._changes = 0  # bumped whenever statuses change: what cached counts are keyed by
        self._view_left: tuple | None = None  # (view, changes, pending rows in that view)
        self.hashing: threading.Thread | None = None  # the latest bulk decision's background hashing
        self.filters = Filters()
        self.sort_by: str | None = None  # a SORT_COLUMNS key or a signal name; None: file order
        self.sort_descending = True
        self.tokens: np.ndarray | None = None  # tokens per row, once counted (row_tokens)
        self.view: np.ndarray | None = None  # dataset row indices shown, None for every row in file order
        self._signal_cache: dict[str | tuple, dict[str, Any]] = {}
        self.notice: str | None = None  # what reconciling with an edited source did (Session.open)
        self.runner = None  # the engine's step Runner, made by the first submit()
        self.decisions_made = 0  # this session's decision steps (undo, redo) so far

    @classmethod
    def open(cls, paths: list[str], *, format: str | None = None, mapping: dict[str, str] | None = None,
             workspace: str | Path | None = None, on_error: str = "stop",
             progress: Callable[[int], None] | None = None, roles: dict[str, str] | None = None,
             split: str | None = None, user: str | None = None,
             converted: Callable[[int, pa.RecordBatch], None] | None = None) -> "Session":
        """Open the dataset and its workspace (the `workspace` file, else the per-dataset default)
        and bring the decisions up to date with an edited source; `notice` says what moved.
        `converted` sees a first conversion's rows as they convert (Dataset.open)."""
        from workbench.data.dataset import Dataset
        from workbench.store.reconcile import describe, reconcile
        from workbench.store.workspace import Workspace

        ds = Dataset.open(paths, format=format, mapping=mapping or {}, on_error=on_error, progress=progress, roles=roles,
                          split=split, converted=converted)
        ws = Workspace.for_dataset(ds, workspace)
        notice = describe(reconcile(ds, ws))  # a stat and a meta read when the source is unchanged
        s = cls(ds, ws, user=user)
        s.notice = notice
        return s

    def close(self) -> None:
        """Wait for the bulk decisions' content hashes, then close the workspace."""
        if self.hashing is not None:
            self.hashing.join()
        self.ws.close()

    # -- counts -------------------------------------------------------------------------

    def status(self, row_id: str) -> str:
        return self.statuses.get(row_id, "pending")

    def counts(self) -> dict[str, int]:
        """{"accept", "reject", "pending"} over the dataset's rows (a proposal counts as its status)."""
        out = dict(self._tally)
        out["pending"] = self.table.num_rows - out["accept"] - out["reject"]
        return out

    def rejected_by(self) -> dict[str, int]:
        """Why the rejected rows are rejected: "manual", or the operation whose proposal stands."""
        inside = self._inside(self.ws.reasons())
        return dict(sorted(Counter(why for status, why in inside.values() if status == "reject").items()))

    @staticmethod
    def _count(statuses: dict[str, str]) -> dict[str, int]:
        c = Counter(statuses.values())
        return {"accept": c["accept"], "reject": c["reject"]}

    def _inside(self, by_id: dict[str, Any]) -> dict[str, Any]:
        """The entries of `by_id` whose key is a row of this dataset."""
        if not by_id:
            return {}
        import pyarrow.compute as pc

        keys = list(by_id)
        inside = pc.is_in(pa.array(keys, pa.string()), value_set=self.table.column("id").combine_chunks())
        return {k: by_id[k] for k, ok in zip(keys, inside.to_pylist()) if ok}

    def read_review(self) -> tuple[dict[str, str], set[str]]:
        """(row id -> status, ids of the rows a person accepted or rejected) of the dataset's rows
        as the workspace holds them now. Only reads, so it may run in a worker thread (a big
        workspace takes seconds); `reload` takes the result."""
        statuses, people = self.ws.review_state()
        return self._inside(statuses), set(self._inside({r: s for r, s in people.items() if s in REVIEWS}))

    def reload(self, review: tuple[dict[str, str], set[str]] | None = None) -> None:
        """Re-read statuses and signals after another writer (an operation, the CLI) changed them;
        `review`: read already by `read_review` (check `decisions_made` did not move since)."""
        self.statuses, self.reviewed = self.read_review() if review is None else review
        self._tally = self._count(self.statuses)
        self._changes += 1
        self.notes = self._inside(self.ws.notes())
        self._signal_cache.clear()
        self.apply()

    # -- decisions ----------------------------------------------------------------------

    def decide(self, row_ids: list[str], status: str, *, note: str | None = None,
               tags: list[str] | None = None) -> None:
        """Decide rows (one undo step), committed to the workspace before this returns; `note`
        and `tags` are kept with the decision (None keeps the row's current ones)."""
        ids = list(dict.fromkeys(row_ids))
        self._commit(dict.fromkeys(ids, status),
                     lambda content: self.ws.decide_many(ids, status, note=note, tags=tags, by=self.user,
                                                         content=content))
        if note is not None or tags is not None:
            self.notes = self._inside(self.ws.notes())

    def annotate(self, row_id: str, note: str, tags: list[str]) -> None:
        """Set a row's note and tags (one undo step), keeping its status; an operation's
        proposal on it becomes the person's decision, as they have now looked at the row."""
        self.decide([row_id], self.status(row_id), note=note.strip(), tags=[t for t in tags if t])

    def review_progress(self) -> dict[str, int | None]:
        """Review progress: {"reviewed": rows a person accepted or rejected (through any face, in
        bulk, or replayed from a recipe's decisions; an operation's proposal is not a review),
        "total": rows, "left": rows of the current view not reviewed, None when no filter
        narrows it}."""
        left = None
        if self.view is not None and self.filters.active():
            cached = self._view_left
            if cached is None or cached[0] is not self.view or cached[1] != self._changes:
                done = self.reviewed
                cached = self._view_left = (self.view, self._changes,
                                            sum(1 for rid in self.view_ids() if rid not in done))
            left = cached[2]
        return {"reviewed": len(self.reviewed), "total": self.table.num_rows, "left": left}

    def decide_each(self, changes: dict[str, str]) -> None:
        """Several rows, each its own status, as one undo step."""
        self._commit(changes, lambda content: self.ws.decide_each(changes, by=self.user, content=content))

    def _commit(self, changes: dict[str, str], write: Callable[[dict[str, str]], None]) -> None:
        bad = set(changes.values()) - set(STATUSES)
        if bad:
            raise ValueError(f"unknown status {bad.pop()!r}; expected one of {', '.join(STATUSES)}")
        from workbench.store.reconcile import content_hashes

        # Hashing decodes every row (about 20 us each): a bulk decision over a big view is
        # written at once and hashed in the background, the loaded dataset being immutable.
        if len(changes) <= INLINE_HASH_ROWS:
            write(content_hashes(self.ds, changes))
        else:
            write({})
            self._hash_in_background(list(changes))
        self.decisions_made += 1
        people = changes  # under "single" the latest decision, this one, stands
        if self.ws.review_policy() != "single":  # the row's status is derived from everyone's
            changes, people = self.ws.review_state_of(list(changes))
        self._changes += 1
        for rid in changes:
            if people.get(rid) in REVIEWS:
                self.reviewed.add(rid)
            else:
                self.reviewed.discard(rid)
        for rid, status in changes.items():
            old = self.statuses.get(rid)
            if old in self._tally:
                self._tally[old] -= 1
            if status in self._tally:
                self._tally[status] += 1
            self.statuses[rid] = status

    def set_review_policy(self, rule: str) -> str:
        """Set how the annotators' decisions make the dataset's (workbench.store.review) and
        recount under it; ValueError for an unknown rule. Returns the rule as stored."""
        rule = self.ws.set_review_policy(rule)
        self.reload()
        return rule

    def rows_below(self, signal: str, threshold: float) -> list[str]:
        """Ids of the dataset's rows whose numeric `signal` is below `threshold` and that no
        person has decided: what `reject_below` rejects (the count a face asks about first)."""
        from workbench.ops.threshold import below

        rows = set(self.table.column("id").to_pylist())
        manual = {d["row_id"] for d in self.ws.person_decisions()}
        return [rid for rid in below(self.signal_values(signal), threshold) if rid in rows and rid not in manual]

    def reject_below(self, signal: str, threshold: float) -> list[str]:
        """Reject every row of the dataset whose numeric `signal` is below `threshold`, as ONE
        undo step, logged as the recipe step `reject-below` (which a replay runs as that
        operation; undone, the step leaves the recipe); rows a person has already decided keep
        their decision (`rows_below`). Returns the ids.

        The rows stay rejected after a later, lower threshold on the same signal; a replay
        keeps only the latest threshold per signal, so the step logs the highest one still in
        force."""
        from workbench.ops.threshold import OP

        ids = self.rows_below(signal, threshold)
        earlier = [r["log"]["params"]["below"] for r in self.ws.run_log()
                   if r["log"].get("operation") == OP and r["log"]["params"].get("signal") == signal]
        logged = (OP, {"signal": signal, "below": max([threshold, *earlier])})
        self._commit(dict.fromkeys(ids, "reject"),
                     lambda content: self.ws.decide_many(ids, "reject", note=f"{signal} < {threshold:g}",
                                                         by=self.user, content=content, logged=logged))
        return ids

    def numeric_signals(self) -> list[str]:
        """The workspace's signals with a number on at least one row (scores to sort, chart or
        threshold), by name."""
        from workbench.ops.scores import numeric

        return sorted(n for n in self.ws.signal_names()
                      if any(numeric(v) is not None for v in self.signal_values(n).values()))

    def score_signals(self) -> list[str]:
        """The numeric signals that judge a row (ops.scores.NOT_SCORES left out): what a
        threshold such as reject-below applies to."""
        from workbench.ops.scores import NOT_SCORES

        return [n for n in self.numeric_signals() if n not in NOT_SCORES]

    def undo(self) -> list[str]:
        """Undo the latest decision step; returns the ids it changed ([] when none)."""
        return self._after_history(self.ws.undo(self.user))

    def redo(self) -> list[str]:
        return self._after_history(self.ws.redo(self.user))

    def _after_history(self, ids: list[str]) -> list[str]:
        if ids:
            self.decisions_made += 1
            self.statuses, self.reviewed = self.read_review()
            self._tally = self._count(self.statuses)
            self._changes += 1
            self.notes = self._inside(self.ws.notes())
            # The undo history holds a bulk decision as written, before its rows were hashed.
            self._hash_in_background(ids)
        return ids

    def _hash_in_background(self, row_ids: list[str]) -> None:
        """Give the decisions on these rows that have no content hash one."""
        self.hashing = threading.Thread(target=self._hash_later, args=(row_ids, self.hashing),
                                        name="decision-hashes", daemon=True)
        self.hashing.start()

    def _hash_later(self, row_ids: list[str], before: threading.Thread | None) -> None:
        from workbench.store.reconcile import content_hashes

        if before is not None:  # one at a time: whoever joins the latest waits for them all
            before.join()
        try:
            self.ws.add_content(content_hashes(self.ds, row_ids))
        except Exception:  # noqa: BLE001 - the workspace was closed first: these decisions
            pass  # keep no hash, like those made before hashes existed (they are never moved)

    # -- the view -------------------------------------------------------------------------

    def __len__(self) -> int:
        """Rows in the current view."""
        return len(self.view) if self.view is not None else self.table.num_rows

    def index(self, pos: int) -> int:
        """Dataset row index at view position `pos`."""
        return int(self.view[pos]) if self.view is not None else pos

    def position_of(self, row_index: int) -> int | None:
        """View position of a dataset row index, or None when the view hides it."""
        if self.view is None:
            return row_index if 0 <= row_index < self.table.num_rows else None
        hits = np.flatnonzero(self.view == row_index)
        return int(hits[0]) if len(hits) else None

    def view_ids(self) -> list[str]:
        """Ids of every row in the current view, in its order."""
        ids = self.table.column("id")
        return (ids if self.view is None else ids.take(pa.array(self.view))).to_pylist()

    def signal_values(self, name: str) -> dict[str, Any]:
        """row id -> the latest value of signal `name` (cached until `reload`)."""
        if name not in self._signal_cache:
            self._signal_cache[name] = self.ws.signal_values(name)
        return self._signal_cache[name]

    def set_filters(self, filters: Filters) -> None:
        """Show the rows that meet `filters`. A condition on a name that is no signal here is a
        ValueError (`len<300` reads like a list column; an empty list would say nothing)."""
        known = set(self.ws.signal_names())
        if filters.source:  # ValueError naming the open files
            sources_named(filters.source, self.sources())
        if filters.topic is not None:  # ValueError when there is no such topic; its label for the status line
            filters = replace(filters, topic_label=self.topic_label(filters.topic))
        for expr in filters.signals:
            name, _ = signal_predicate(expr)
            if name not in known:
                raise ValueError(f"no signal named {name!r} in this workspace"
                                 f" (signals: {', '.join(sorted(known)) or 'none yet'})")
        self.filters = filters
        self.apply()

    def _map_signal(self, name: str) -> dict[str, Any]:
        """row id -> signal `name` of the latest topic map (cached until `reload`)."""
        from workbench.explore.topicmap import OP

        key = (OP, name)  # beside the signal names (strings) in the same cache
        if key not in self._signal_cache:
            self._signal_cache[key] = self.ws.signal_values(name, op=OP)
        return self._signal_cache[key]

    def topic_rows(self, topic: int) -> list[str]:
        """Ids of the rows in topic `topic` (-1: unclustered) of the latest topic map."""
        return [rid for rid, c in self._map_signal("cluster").items() if c == topic]

    def topic_label(self, topic: int) -> str:
        """The label of topic `topic` of the latest topic map; ValueError when the workspace
        has no map, or no such topic in it (naming the topics there are)."""
        clusters = self._map_signal("cluster")
        if not clusters:
            raise ValueError("no topic map here yet: the Topics pane (7) builds one with m, or `workbench map`")
        rid = next((r for r, c in clusters.items() if c == topic), None)
        if rid is None:
            raise ValueError(f"no topic {topic} in the map; its topics are {', '.join(map(str, sorted(set(clusters.values()))))}")
        return str(self._map_signal("topic").get(rid, ""))

    def sources(self) -> list[str]:
        """The files the rows come from (the `source` column's values), in order of first row."""
        import pyarrow.compute as pc

        return [v for v in pc.unique(self.table.column("source")).to_pylist() if v is not None]

    def row_tokens(self) -> np.ndarray:
        """Tokens of every row, in dataset order, counted once (seconds per 100k rows: a face
        calls it off its UI thread before sorting by TOKENS)."""
        if self.tokens is None:
            from workbench.explore.stats import row_tokens

            self.tokens = row_tokens(self.ds)
        return self.tokens

    def set_sort(self, by: str | None, descending: bool = True) -> None:
        """Order the view by a list column (workbench.views.SORT_COLUMNS: length, turns), by
        tokens (views.TOKENS: counted first, see row_tokens) or any signal, highest first unless
        not `descending` (None: file order)."""
        if by == TOKENS:
            self.row_tokens()
        self.sort_by, self.sort_descending = by, descending
        self.apply()

    def apply(self) -> None:
        """Recompute the view from the filters and the sort order."""
        rows = select(self.table, self.filters, self.statuses, self.signal_values,
                      lambda tag: self.ws.query(tag=tag), self.group, self.topic_rows)
        if self.sort_by:
            rows = sort_rows(rows if rows is not None else np.arange(self.table.num_rows),
                             sort_keys(self.table, self.sort_by, self.signal_values, {TOKENS: self.tokens}),
                             self.sort_descending)
        elif rows is not None and self.filters.ranked:  # explicit rows in rank order: keep it
            rows = self.filters.rows[np.isin(self.filters.rows, rows)]
        self.view = rows

    def select(self, expression: str) -> list[str]:
        """Ids of the rows an expression of the filter language selects, in file order (the
        selection of a CLI or recipe run); the current view is left as it is."""
        from workbench.views import parse_filter

        rows = select(self.table, parse_filter(expression), self.statuses, self.signal_values,
                      lambda tag: self.ws.query(tag=tag), self.group, self.topic_rows)
        ids = self.table.column("id")
        return (ids if rows is None else ids.take(pa.array(rows))).to_pylist()

    def group(self, name: str) -> list[str]:
        """The row ids of a named set of the filter language: `mine` (assigned to this
        session's annotator) or `conflict` (annotators disagree)."""
        if name == "mine":
            return self.ws.assigned(self.user).get(self.user, [])
        if name == "conflict":
            return self.ws.conflicts()
        raise ValueError(f"no row set named {name!r}")

    # -- annotators ---------------------------------------------------------------------

    def agreement(self) -> dict:
        """Agreement between the annotators on the dataset's rows two or more of them decided
        (accept / reject; a pending reset is no label): workbench.explore.agreement.agreement."""
        from workbench.explore.agreement import agreement

        labels: dict[str, dict[str, str]] = {}
        for d in self.ws.annotations():
            if d["status"] != "pending":
                labels.setdefault(d["row_id"], {})[d["by"]] = d["status"]
        return agreement(self._inside(labels))

    def assign(self, annotators: list[str], *, overlap: float = 0.0, expression: str = "",
               seed: int = 0) -> dict[str, list[str]]:
        """Split the rows `expression` selects (every row when empty) among `annotators`, in a
        random order (`seed`): a share `overlap` of them goes to two annotators each (pairs
        taken in turn, for agreement), the rest to one each in turn. Stored in the workspace
        (replacing these rows' earlier assignments); returns annotator -> row ids. ValueError
        for fewer than two annotators with an overlap, a repeated name, or overlap outside [0, 1]."""
        from workbench.store.review import check_name

        names = [check_name(a) for a in annotators]
        if not names or len(set(names)) != len(names):
            raise ValueError("give one or more different annotator names")
        if not 0 <= overlap <= 1:
            raise ValueError(f"overlap is a share of the rows, from 0 to 1, not {overlap}")
        if overlap and len(names) < 2:
            raise ValueError("an overlap needs two or more annotators")
        rows = self.select(expression) if expression.strip() else self.table.column("id").to_pylist()
        order = [rows[i] for i in np.random.default_rng(seed).permutation(len(rows))]
        shared = round(overlap * len(order))
        queues: dict[str, list[str]] = {n: [] for n in names}
        for i, rid in enumerate(order):
            queues[names[i % len(names)]].append(rid)
            if i < shared:
                queues[names[(i + 1) % len(names)]].append(rid)
        self.ws.assign(queues)
        if "mine" in self.filters.groups:
            self.apply()
        return queues

    def progress(self) -> dict[str, dict[str, int]]:
        """annotator -> {"assigned", "done" (assigned rows they accepted or rejected),
        "decided" (dataset rows they accepted or rejected, assigned or not)}."""
        mine: dict[str, set[str]] = {}
        for d in self.ws.annotations():
            if d["status"] != "pending":
                mine.setdefault(d["by"], set()).add(d["row_id"])
        queues = self.ws.assigned()
        out = {}
        for who in sorted(set(mine) | set(queues)):
            decided = set(self._inside(dict.fromkeys(mine.get(who, ()))))
            queue = queues.get(who, [])
            out[who] = {"assigned": len(queue), "done": sum(r in decided for r in queue), "decided": len(decided)}
        return out

    # -- operations -----------------------------------------------------------------------

    def params_for(self, op, saved: dict | None = None) -> tuple[Any, str]:
        """(Params, where they come from) for running `op` (a workbench.ops.base.Operation) here:
        its last finished run on this workspace (so a tuned `workbench filter --rules` run is
        repeated, not replaced by defaults), else `saved` (the user's saved defaults, a dict),
        else the operation's own defaults. Saved settings that no longer validate are skipped;
        ParamError when the defaults need a value nobody gave (decontam's benchmark files)."""
        from workbench.engine.local import last_params
        from workbench.ops.base import ParamError

        last = last_params(op, self.ws)
        if last is not None:
            return last, "parameters of its last run here"
        if saved:
            try:
                return op.params_from_dict(saved), "saved defaults"
            except ParamError:
                pass
        return op.default_params(), "defaults"

    def selection(self, op, marked: set[str] | None = None) -> tuple[list[str] | None, dict]:
        """(row ids, selection as logged for recipes) that `op` runs on. Operations that call a
        model or make rows for review run on the marked rows, else on the rows the view shows
        when a filter is active ({"filter": EXPR} when that is an expression alone, so a recipe
        re-applies it), else on every row. The others (filter, dedup, decontam, map) always run
        on every row: their run replaces their earlier proposals, which a run on a part of the
        rows would silently drop for the rest."""
        if not (op.uses_llm or op.review) or op.scope == "dataset":
            return None, {"all": True}
        if marked:
            rows = sorted(marked)
            return rows, {"rows": rows}
        f = self.filters
        if f.rows is None and f.expression():
            return self.select(f.expression()), {"filter": f.expression()}
        if f.active():
            rows = sorted(self.view_ids())
            return rows, {"rows": rows}
        return None, {"all": True}

    def submit(self, op, params, *, rows: list[str] | None = None, selection: dict | None = None, **hooks):
        """Run `op` with `params` on `rows` (None: every row) in the session's step runner
        (workbench.engine.local.Runner: background threads, progress, cancel); its Result is saved
        as one logged run, a cancelled one saves nothing. `hooks`: the Runner's on_change,
        on_event, message. Returns the Handle (status, done/total, cancel, wait())."""
        from workbench.engine.local import Runner

        if self.runner is None:
            self.runner = Runner(self.ws)
        return self.runner.submit(op, self.ds, params, rows=rows, selection=selection, **hooks)

    # -- generated rows under review ------------------------------------------------------

    def generated(self) -> dict[str, dict]:
        """review id -> {"op", "parent", "record", "before", "after"}: the rows generate-*
        operations made, kept in the workspace for review (never rows of the dataset)."""
        return self.ws.signal_values(GENERATED)

    def generated_counts(self) -> dict[str, int]:
        """{"accept", "reject", "pending"} over the generated rows under review."""
        items = self.generated()
        st = self.ws.statuses()
        c = Counter(st.get(k, "pending") for k in items)
        return {s: c[s] for s in STATUSES}

    def decide_generated(self, key: str, status: str) -> None:
        """Accept or reject a generated row (committed on return); one undo step."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
        self.ws.decide(key, status, by=self.user)

    def accepted_generated(self) -> list[dict]:
        st = self.ws.statuses()
        return [v["record"] for k, v in self.generated().items() if st.get(k) == "accept"]

    def write_generated(self, path: str) -> dict:
        """Write the accepted generated rows to `path`: parquet by extension, else the dataset's
        own format when it holds a conversation, else OpenAI messages. Returns write_records'
        report {"rows", "lost"}; OSError / ValueError when it cannot be written."""
        from workbench.data.formats import TARGETS
        from workbench.data.writers import write_records

        if Path(path).suffix == ".parquet":
            to = "parquet"
        else:
            fmt = next(iter(self.ds.formats.values()), None)
            to = fmt if fmt in TARGETS and fmt not in ("text", "parquet") else "openai"
        return write_records(self.accepted_generated(), to, path)

    # -- duplicate clusters ---------------------------------------------------------------

    def dedup_run(self) -> dict | None:
        """The latest finished dedup run (any method), or None."""
        return next((r for r in self.ws.runs(limit=200) if r["op"].startswith("dedup-") and r["status"] == "done"),
                    None)

    def dedup_clusters(self, run: dict) -> list[dict]:
        """The clusters of a dedup run [{id, members, representative, similarity, matched}],
        biggest first; members start with the representative, then by similarity."""
        op = run["op"]
        cluster_of = self.ws.signal_values("cluster", op=op)
        reps = self.ws.signal_values("representative", op=op)
        sims = self.ws.signal_values("similarity", op=op)
        matched = self.ws.signal_values("matched", op=op)
        by_id: dict = {}
        for rid, cid in cluster_of.items():
            by_id.setdefault(cid, []).append(rid)
        clusters = []
        for cid, members in by_id.items():
            rep = reps.get(members[0], members[0])
            others = sorted((m for m in members if m != rep), key=lambda m: -(sims.get(m) or 0))
            clusters.append({"id": cid, "members": [rep, *others], "representative": rep,
                             "similarity": {m: sims.get(m) for m in others},
                             "matched": {m: matched.get(m) for m in others}})
        clusters.sort(key=lambda c: (-len(c["members"]), str(c["id"])))
        return clusters

    def resolved(self, clusters: list[dict]) -> list[bool]:
        """Per cluster of `dedup_clusters`: has a person settled it, deciding every member but at
        most one, and is a member left (not every one rejected, by people or proposals)? The
        dedup run's proposals decide nothing here."""
        manual = {rid for rid, (status, why) in self.ws.reasons().items() if why == "manual" and status != "pending"}
        return [sum(m not in manual for m in c["members"]) <= 1
                and any(self.status(m) != "reject" for m in c["members"]) for c in clusters]

    def keep(self, members: list[str], keep: str) -> dict[str, str]:
        """Keep one member of a duplicate cluster: the person accepts it and rejects the others
        (one undo step). Accepted by a person, the kept row outlasts any operation's proposal to
        reject it, a later dedup run's included. Returns the changes {row id: status}."""
        changes = {m: "reject" for m in members if m != keep}
        changes[keep] = "accept"
        self.decide_each(changes)
        return changes

    # -- export ---------------------------------------------------------------------------

    def export(self, to: str, out: str | Path, only: str = "not-rejected",
               progress: Callable[[int], None] | None = None) -> dict:
        """The dataset with the decisions applied, in format `to` (see workbench.store.export)."""
        from workbench.store.export import export

        return export(self.ds, self.ws, to, out, only=only, progress=progress)

