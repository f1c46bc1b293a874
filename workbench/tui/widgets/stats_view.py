"""The Stats pane: kinds, decisions, and histograms of length and turns over the whole dataset
(computed with pyarrow/numpy over the columns, so a million rows take a fraction of a second)."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

BAR = "█"


def histogram(values: np.ndarray, bins: int = 10, width: int = 40, log: bool = True) -> Table:
    """A text histogram; log-spaced bins for lengths, which are heavy-tailed."""
    t = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
    if len(values) == 0:
        return t
    lo, hi = int(values.min()), int(values.max())
    if log:  # a log scale starts at 1; linear bins keep 0 (text rows have 0 turns)
        lo, hi = max(1, lo), max(1, hi)
    if log and hi > lo:
        edges = np.unique(np.geomspace(lo, hi + 1, bins + 1).astype(np.int64))
    else:
        edges = np.unique(np.linspace(lo, hi + 1, bins + 1).astype(np.int64))
    if len(edges) < 2:
        edges = np.array([lo, hi + 1])
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1] - 1), bins=edges)
    top = max(1, int(counts.max()))
    for a, b, c in zip(edges[:-1], edges[1:], counts):
        t.add_row(Text(f"{a:>7,}–{b - 1:<7,}", style="dim"), Text(BAR * max(0, round(width * c / top)) or "",
                                                                 style="cyan"), f"{c:,}")
    return t


def stats_renderable(ds, counts: dict) -> Group:
    table = ds.table
    kinds = pc.value_counts(table.column("kind")).to_pylist()
    k = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
    for item in sorted(kinds, key=lambda d: -d["counts"]):
        k.add_row(item["values"], f"{item['counts']:,}")
    d = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
    for s in ("accept", "reject", "pending"):
        d.add_row(s, f"{counts.get(s, 0):,}")
    lengths = table.column("length").to_numpy()
    turns = table.column("n_turns").to_numpy()
    return Group(
        Text(f"{len(ds):,} rows · {ds.name}", style="bold"),
        Text("\nkinds", style="bold"), k,
        Text("\ndecisions", style="bold"), d,
        Text(f"\nlength in characters (median {int(np.median(lengths)) if len(lengths) else 0:,})", style="bold"),
        histogram(lengths),
        Text("\nturns", style="bold"),
        histogram(turns, bins=min(10, int(turns.max() - turns.min()) + 1 if len(turns) else 1), log=False),
    )


class StatsPane(VerticalScroll):
    DEFAULT_CSS = "StatsPane { padding: 0 1; }"

    def compose(self):
        yield Static("", id="stats-body")

    def refresh_pane(self) -> None:
        app = self.app
        self.query_one("#stats-body", Static).update(stats_renderable(app.ds, app.model.counts()))
