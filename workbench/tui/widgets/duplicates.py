"""The Duplicates pane: clusters of the latest dedup run, biggest first; two members side by
side with their word differences highlighted; keys to decide the shown member or keep it and
reject the rest of its cluster.

Clusters are the Session's (`dedup_clusters`, rebuilt from the signals the latest dedup run
wrote), so the pane shows whatever `workbench dedup` or the palette's `run-dedup-*` produced
last, and costs nothing until one has run. The header names that run's method, id and
parameters. Keys keep their meaning from the rest of the app: `j`/`k` move (through the
clusters), `a`/`r` accept/reject (the member on the left), `u` undoes; the pane's own actions
have keys that mean nothing elsewhere: `x` keeps the left member and rejects the rest (then
moves to the next cluster nobody resolved), `o` swaps the sides, `D` runs MinHash dedup.
A cluster a person settled (Session.resolved) is marked ✓ in the list; `x`
accepts the kept member, so no later dedup run's proposal drops it.
"""

from __future__ import annotations

import json

from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from workbench.explore.worddiff import word_diff
from workbench.terminal import visible

MAX_LISTED = 2000  # clusters listed (the biggest); the rest are counted
STATUS_MARK = {"accept": "✓", "reject": "✗"}
SHOWN_PARAMS = ("threshold", "view", "keep", "model")  # of the run, in the header
LABEL = r"(?m)^(?:(?:system|user|assistant|tool)\b[^:\n]*:|── (?:chosen|rejected) ──)"


def side_by_side(left: str, right: str) -> tuple[Text, Text]:
    """Both texts with the words only one side has highlighted (removed red, added green)."""
    ta, tb = Text(), Text()
    for tag, a, b in word_diff(left, right):
        ta.append(a, style=None if tag == "equal" else "black on red")
        tb.append(b, style=None if tag == "equal" else "black on green")
    return ta, tb


def _turn_lines(turns, out: list[str]) -> None:
    for t in turns or ():
        role = t.get("role", "?")
        if t.get("reasoning"):
            out.append(f"{role} (reasoning): {t['reasoning']}")
        if t.get("content") or not t.get("tool_calls"):
            out.append(f"{role}: {t.get('content') or ''}")
        for call in t.get("tool_calls") or ():
            args = call.get("arguments", "")
            out.append(f"{role} → call {call.get('name', '?')}"
                       f"({args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)})")


def member_text(rec: dict) -> str:
    """A row as the pane compares it: each turn on its own line after its role, tool calls
    written out, a preference pair's sides under `── chosen ──` / `── rejected ──`."""
    if rec.get("kind") == "text":
        return rec.get("text") or ""
    out = [f"system: {rec['system']}"] if rec.get("system") else []
    _turn_lines(rec.get("messages"), out)
    for side in ("chosen", "rejected"):
        if rec.get(side) is not None:
            out.append(f"── {side} ──")
            _turn_lines(rec[side], out)
    return "\n".join(out)


class DuplicatesPane(Vertical):
    DEFAULT_CSS = """
    DuplicatesPane #dup-clusters { width: 30%; min-width: 22; text-wrap: nowrap; text-overflow: ellipsis; }
    DuplicatesPane #dup-head { height: auto; padding: 0 1; }
    DuplicatesPane .dup-side { width: 1fr; padding: 0 1; border-left: solid $panel; }
    """
    BINDINGS = [
        Binding("j", "cluster(1)", "Next cluster", show=False, id="dup-next-cluster"),
        Binding("k", "cluster(-1)", "Previous cluster", show=False, id="dup-previous-cluster"),
        Binding("right_square_bracket", "member(1)", "Next member", id="dup-next-member", key_display="]"),
        Binding("left_square_bracket", "member(-1)", "Previous member", show=False, id="dup-previous-member"),
        Binding("a", "decide('accept')", "Accept left", show=False, id="dup-accept"),
        Binding("r", "decide('reject')", "Reject left", show=False, id="dup-reject"),
        Binding("x", "keep", "Keep left, reject rest", id="dup-keep"),
        Binding("o", "swap", "Swap sides", id="dup-swap"),
        Binding("f", "filter", "Filter Browse to cluster", id="dup-filter"),
        Binding("D", "run", "Run MinHash dedup", id="dup-run"),
    ]

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.run: dict | None = None
        self.clusters: list[dict] = []
        self.resolved: list[bool] = []
        self.view = "all"
        self.left = 0  # member index shown on the left: the one `x` keeps
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
        session = self.app.session
        run = session.dedup_run()
        opts = self.query_one("#dup-clusters", OptionList)
        listed = self.clusters[:MAX_LISTED]
        if (run and run["id"]) != (self.run and self.run["id"]):
            self.run = run
            self.clusters = session.dedup_clusters(run) if run else []
            listed = self.clusters[:MAX_LISTED]
            self.resolved = session.resolved(listed)
            self.view = (run or {}).get("params", {}).get("view", "all")
            opts.clear_options()
            opts.add_options([Option(self._label(c, done), id=str(i)) for i, (c, done) in enumerate(zip(listed, self.resolved))])
            if listed:
                opts.highlighted = 0
            self.left, self.right = 0, 1
        elif listed:  # decisions changed: re-mark the clusters they resolved (or undid)
            resolved = session.resolved(listed)
            for i, (was, now) in enumerate(zip(self.resolved, resolved)):
                if was != now:
                    opts.replace_option_prompt_at_index(i, self._label(listed[i], now))
            self.resolved = resolved
        self._draw()

    def _label(self, c: dict, resolved: bool) -> Text:
        rep = c["representative"]
        i = self.app.ds.index_of(rep)
        preview = self.app.ds.table.column("preview")[i].as_py() or ""
        return Text.assemble(("✓" if resolved else " ", "green"), f"{len(c['members']):>3}× {visible(preview[:80])}",
                             style="dim" if resolved else "")

    @property
    def cluster(self) -> dict | None:
        i = self.query_one("#dup-clusters", OptionList).highlighted
        return self.clusters[i] if i is not None and i < len(self.clusters) else None

    def _text(self, rid: str) -> str:
        ds = self.app.ds
        return visible(member_text(ds.record(ds.index_of(rid))))

    def _run_line(self) -> str:
        run = self.run
        params = run.get("params") or {}
        shown = ", ".join(f"{k} {params[k]}" for k in SHOWN_PARAMS if params.get(k) is not None)
        return f"{run['op']} run {run['id']}" + (f" ({shown})" if shown else "")

    def _draw(self) -> None:
        head = self.query_one("#dup-head", Static)
        left = self.query_one("#dup-left", Static)
        right = self.query_one("#dup-right", Static)
        c = self.cluster
        if c is None:
            head.update("No duplicate clusters yet: press D to run MinHash dedup "
                        "(or `workbench dedup PATH`, or the palette's run-dedup-*)." if self.run is None
                        else f"{visible(self._run_line())} found no duplicates.")
            left.update("")
            right.update("")
            return
        members = c["members"]
        self.left %= len(members)
        self.right %= len(members)
        if self.right == self.left:
            self.right = (self.left + 1) % len(members)
        a, b = members[self.left], members[self.right]
        n = len(self.clusters)
        shown = f" of {n:,} ({MAX_LISTED:,} listed)" if n > MAX_LISTED else f" of {n:,}"
        done = sum(self.resolved)
        sim = c["similarity"].get(b) if b != c["representative"] else c["similarity"].get(a)
        head.update(Text.assemble(
            (visible(self._run_line()), "bold"), f" · {done:,} of {len(self.resolved):,} resolved\n",
            (f"cluster {self.clusters.index(c) + 1}{shown} · {len(members)} members", "bold"),
            f" · similarity {sim:.2f}" if sim is not None else "",
            ("   j/k cluster · ] member · o swap · a/r left · x keep left, reject the rest · f filter Browse", "dim"),
        ))
        ta, tb = side_by_side(self._text(a), self._text(b))
        for t in (ta, tb):
            t.highlight_regex(LABEL, "bold")

        def title(rid: str, i: int) -> Text:
            mark = STATUS_MARK.get(self.app.session.status(rid), "·")
            role = "representative" if rid == c["representative"] else f"member {i + 1}/{len(members)}"
            # the row number everywhere else uses first, then the id (file:line) it came with
            return Text(f"{mark} #{self.app.ds.index_of(rid)} · {visible(rid)} · {role}\n", style="bold")

        left.update(title(a, self.left) + ta)
        right.update(title(b, self.right) + tb)

    # -- events and actions ---------------------------------------------------------------

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.left, self.right = 0, 1
        self._draw()

    def action_cluster(self, step: int) -> None:
        opts = self.query_one("#dup-clusters", OptionList)
        if opts.option_count:
            opts.highlighted = max(0, min((opts.highlighted or 0) + step, opts.option_count - 1))

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

    def action_decide(self, status: str) -> None:
        """Accept or reject the member on the left (as `a` / `r` decide the row elsewhere)."""
        c = self.cluster
        if c is not None and self.app.decide_rows([c["members"][self.left]], status):
            self.app.notify(f"{status}ed {c['members'][self.left]}")

    def action_keep(self) -> None:
        """Keep the left member (accept it), reject every other member of the cluster (one undo
        step), then show the next cluster nobody resolved."""
        c = self.cluster
        if c is None:
            return
        keep = c["members"][self.left]
        if not self.app.written(self.app.session.keep, c["members"], keep)[0]:  # committed before we redraw
            return
        self.app.decided()  # refresh_pane re-marks the resolved clusters
        here = self.clusters.index(c)
        n = len(self.resolved)
        nxt = next((i % n for i in range(here + 1, here + n + 1) if not self.resolved[i % n]), None)
        left = "all clusters resolved" if nxt is None else f"cluster {nxt + 1} next"
        self.app.notify(f"kept {keep}, rejected {len(c['members']) - 1}; {left}")
        if nxt is not None:
            self.query_one("#dup-clusters", OptionList).highlighted = nxt

    def action_filter(self) -> None:
        c = self.cluster
        if c is not None:
            ds = self.app.ds
            # Named as the pane's header counts it (from 1), not by the run's 0-based id.
            self.app.filter_rows([ds.index_of(m) for m in c["members"]], f"cluster {self.clusters.index(c) + 1}")

    def action_run(self) -> None:
        self.app.action_run_operation("dedup-minhash")
