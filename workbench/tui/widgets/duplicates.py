"""The Duplicates pane: clusters of the latest dedup run, biggest first; two members side by
side with their word differences highlighted; a key to keep one and reject the rest.

Clusters come from the workspace signals a dedup run wrote (workbench.ops.clusters:
cluster, representative, matched, similarity), so the pane shows whatever `workbench dedup`
or the palette's `run-dedup-*` produced last, and costs nothing until one has run.
"""

from __future__ import annotations

import difflib
import re

from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

MAX_LISTED = 2000  # clusters listed (the biggest); the rest are counted
STATUS_MARK = {"accept": "✓", "reject": "✗"}
_TOKENS = re.compile(r"\S+|\s+")


def word_diff(left: str, right: str) -> tuple[Text, Text]:
    """Both texts with the words only one side has highlighted (removed red, added green)."""
    a, b = _TOKENS.findall(left), _TOKENS.findall(right)
    ta, tb = Text(), Text()
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            ta.append("".join(a[i1:i2]))
            tb.append("".join(b[j1:j2]))
        else:
            ta.append("".join(a[i1:i2]), style="black on red")
            tb.append("".join(b[j1:j2]), style="black on green")
    return ta, tb


def latest_dedup_run(ws) -> dict | None:
    return next((r for r in ws.runs(limit=200) if r["op"].startswith("dedup-") and r["status"] == "done"), None)


def load_clusters(ws, run: dict) -> list[dict]:
    """The clusters of a dedup run [{id, members, representative, similarity, matched}], biggest
    first; members start with the representative, then by similarity."""
    op = run["op"]
    cluster_of = ws.signal_values("cluster", op=op)
    reps = ws.signal_values("representative", op=op)
    sims = ws.signal_values("similarity", op=op)
    matched = ws.signal_values("matched", op=op)
    by_id: dict = {}
    for rid, cid in cluster_of.items():
        by_id.setdefault(cid, []).append(rid)
    clusters = []
    for cid, members in by_id.items():
        rep = reps.get(members[0], members[0])
        others = sorted((m for m in members if m != rep), key=lambda m: -(sims.get(m) or 0))
        clusters.append({"id": cid, "members": [rep, *others], "representative": rep,
                         "similarity": {m: sims.get(m) for m in others}, "matched": {m: matched.get(m) for m in others}})
    clusters.sort(key=lambda c: (-len(c["members"]), str(c["id"])))
    return clusters


class DuplicatesPane(Vertical):
    DEFAULT_CSS = """
    DuplicatesPane #dup-clusters { width: 30%; min-width: 22; }
    DuplicatesPane #dup-head { height: auto; padding: 0 1; }
    DuplicatesPane .dup-side { width: 1fr; padding: 0 1; border-left: solid $panel; }
    """
    BINDINGS = [
        Binding("right_square_bracket", "member(1)", "Next member", id="dup-next-member", key_display="]"),
        Binding("left_square_bracket", "member(-1)", "Previous member", show=False, id="dup-previous-member"),
        Binding("s", "swap", "Swap sides", id="dup-swap"),
        Binding("k", "keep", "Keep left, reject rest", id="dup-keep"),
        Binding("f", "filter", "Filter Browse to cluster", id="dup-filter"),
        Binding("r", "run", "Run MinHash dedup", id="dup-run"),
    ]

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.run_id: int | None = None
        self.clusters: list[dict] = []
        self.view = "all"
        self.left = 0  # member index shown on the left: the one `k` keeps
        self.right = 1

    def compose(self):
        yield Static("", id="dup-head")
        with Horizontal():
            yield OptionList(id="dup-clusters")
            with VerticalScroll(classes="dup-side"):
                yield Static("", id="dup-left")
            with VerticalScroll(classes="dup-side"):
                yield Static("", id="dup-right")

    # -- data -----------------------------------------------------------------------------

    def refresh_pane(self) -> None:
        run = latest_dedup_run(self.app.ws)
        if (run and run["id"]) != self.run_id:
            self.run_id = run["id"] if run else None
            self.clusters = clusters = load_clusters(self.app.ws, run) if run else []
            self.view = (run or {}).get("params", {}).get("view", "all")
            opts = self.query_one("#dup-clusters", OptionList)
            opts.clear_options()
            opts.add_options([Option(self._label(c), id=str(i)) for i, c in enumerate(clusters[:MAX_LISTED])])
            if clusters:
                opts.highlighted = 0
            self.left, self.right = 0, 1
        self._draw()

    def _label(self, c: dict) -> str:
        rep = c["representative"]
        i = self.app.ds.index_of(rep)
        preview = self.app.ds.table.column("preview")[i].as_py() or ""
        return f"{len(c['members']):>3}× {preview[:40]}"

    @property
    def cluster(self) -> dict | None:
        i = self.query_one("#dup-clusters", OptionList).highlighted
        return self.clusters[i] if i is not None and i < len(self.clusters) else None

    def _text(self, rid: str) -> str:
        from workbench.data.record import view_text

        ds = self.app.ds
        return view_text(ds.record(ds.index_of(rid)), self.view)

    def _draw(self) -> None:
        head = self.query_one("#dup-head", Static)
        left = self.query_one("#dup-left", Static)
        right = self.query_one("#dup-right", Static)
        c = self.cluster
        if c is None:
            head.update("No duplicate clusters yet: press r to run MinHash dedup "
                        "(or `workbench dedup PATH`, or the palette's run-dedup-*)." if self.run_id is None
                        else "The latest dedup run found no duplicates.")
            left.update("")
            right.update("")
            return
        members = c["members"]
        self.left %= len(members)
        self.right %= len(members)
        if self.right == self.left:
            self.right = (self.left + 1) % len(members)
        a, b = members[self.left], members[self.right]
        statuses = self.app.model.statuses if self.app.model is not None else {}
        shown = f" of {len(self.clusters):,} ({MAX_LISTED:,} listed)" if len(self.clusters) > MAX_LISTED else f" of {len(self.clusters):,}"
        sim = c["similarity"].get(b) if b != c["representative"] else c["similarity"].get(a)
        head.update(Text.assemble(
            (f"cluster {self.clusters.index(c) + 1}{shown} · {len(members)} members", "bold"),
            f" · similarity {sim:.2f}" if sim is not None else "",
            ("   ] next member · s swap · k keep left, reject the rest · f filter Browse", "dim"),
        ))
        ta, tb = word_diff(self._text(a), self._text(b))

        def title(rid: str, i: int) -> Text:
            mark = STATUS_MARK.get(statuses.get(rid, "pending"), "·")
            role = "representative" if rid == c["representative"] else f"member {i + 1}/{len(members)}"
            return Text(f"{mark} {rid} · {role}\n", style="bold")

        left.update(title(a, self.left) + ta)
        right.update(title(b, self.right) + tb)

    # -- events and actions ---------------------------------------------------------------

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.left, self.right = 0, 1
        self._draw()

    def action_member(self, step: int) -> None:
        c = self.cluster
        if c is None:
            return
        n = len(c["members"])
        self.right = (self.right + step) % n
        if self.right == self.left:
            self.right = (self.right + step) % n
        self._draw()

    def action_swap(self) -> None:
        self.left, self.right = self.right, self.left
        self._draw()

    def action_keep(self) -> None:
        """Keep the left member, reject every other member of the cluster (one undo step)."""
        c = self.cluster
        if c is None:
            return
        keep = c["members"][self.left]
        changes = {m: "reject" for m in c["members"] if m != keep}
        if self.app.model.statuses.get(keep) == "reject":  # a proposal from the dedup run: overrule it
            changes[keep] = "accept"
        self.app.model.decide_each(changes)  # committed to the workspace before we redraw
        self.app.row_list.data_changed()
        self.app.refresh_panes()
        self.app.notify(f"kept {keep}, rejected {len(c['members']) - 1}")

    def action_filter(self) -> None:
        c = self.cluster
        if c is not None:
            ds = self.app.ds
            # Named as the pane's header counts it (from 1), not by the run's 0-based id.
            self.app.filter_rows([ds.index_of(m) for m in c["members"]], f"cluster {self.clusters.index(c) + 1}")

    def action_run(self) -> None:
        self.app.action_run_operation("dedup-minhash")
