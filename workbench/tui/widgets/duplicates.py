"""The Duplicates pane: clusters of the latest dedup run, biggest first; two members side by
side with their word differences highlighted; a key to keep one and reject the rest.

Clusters are the Session's (`dedup_clusters`, rebuilt from the signals the latest dedup run
wrote), so the pane shows whatever `workbench dedup` or the palette's `run-dedup-*` produced
last, and costs nothing until one has run.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from workbench.explore.worddiff import word_diff
from workbench.terminal import visible

MAX_LISTED = 2000  # clusters listed (the biggest); the rest are counted
STATUS_MARK = {"accept": "✓", "reject": "✗"}


def side_by_side(left: str, right: str) -> tuple[Text, Text]:
    """Both texts with the words only one side has highlighted (removed red, added green)."""
    ta, tb = Text(), Text()
    for tag, a, b in word_diff(left, right):
        ta.append(a, style=None if tag == "equal" else "black on red")
        tb.append(b, style=None if tag == "equal" else "black on green")
    return ta, tb


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
        session = self.app.session
        run = session.dedup_run()
        if (run and run["id"]) != self.run_id:
            self.run_id = run["id"] if run else None
            self.clusters = clusters = session.dedup_clusters(run) if run else []
            self.view = (run or {}).get("params", {}).get("view", "all")
            opts = self.query_one("#dup-clusters", OptionList)
            opts.clear_options()
            opts.add_options([Option(self._label(c), id=str(i)) for i, c in enumerate(clusters[:MAX_LISTED])])
            if clusters:
                opts.highlighted = 0
            self.left, self.right = 0, 1
        self._draw()

    def _label(self, c: dict) -> Text:
        rep = c["representative"]
        i = self.app.ds.index_of(rep)
        preview = self.app.ds.table.column("preview")[i].as_py() or ""
        return Text(f"{len(c['members']):>3}× {visible(preview[:40])}")

    @property
    def cluster(self) -> dict | None:
        i = self.query_one("#dup-clusters", OptionList).highlighted
        return self.clusters[i] if i is not None and i < len(self.clusters) else None

    def _text(self, rid: str) -> str:
        from workbench.data.record import view_text

        ds = self.app.ds
        return visible(view_text(ds.record(ds.index_of(rid)), self.view))

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
        shown = f" of {len(self.clusters):,} ({MAX_LISTED:,} listed)" if len(self.clusters) > MAX_LISTED else f" of {len(self.clusters):,}"
        sim = c["similarity"].get(b) if b != c["representative"] else c["similarity"].get(a)
        head.update(Text.assemble(
            (f"cluster {self.clusters.index(c) + 1}{shown} · {len(members)} members", "bold"),
            f" · similarity {sim:.2f}" if sim is not None else "",
            ("   ] next member · s swap · k keep left, reject the rest · f filter Browse", "dim"),
        ))
        ta, tb = side_by_side(self._text(a), self._text(b))

        def title(rid: str, i: int) -> Text:
            mark = STATUS_MARK.get(self.app.session.status(rid), "·")
            role = "representative" if rid == c["representative"] else f"member {i + 1}/{len(members)}"
            return Text(f"{mark} {visible(rid)} · {role}\n", style="bold")

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
        if not self.app.written(self.app.session.keep, c["members"], keep)[0]:  # committed before we redraw
            return
        self.app.decided()
        self.app.notify(f"kept {keep}, rejected {len(c['members']) - 1}")

    def action_filter(self) -> None:
        c = self.cluster
        if c is not None:
            ds = self.app.ds
            # Named as the pane's header counts it (from 1), not by the run's 0-based id.
            self.app.filter_rows([ds.index_of(m) for m in c["members"]], f"cluster {self.clusters.index(c) + 1}")

    def action_run(self) -> None:
        self.app.action_run_operation("dedup-minhash")
