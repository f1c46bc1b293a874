"""The Stats pane: everything `workbench.explore.stats.dataset_stats` computes (kinds, turns,
characters, a mixture's or the open files' composition, token lengths per role, score signals,
cluster sizes) plus the decisions, drawn as
compact column histograms that sit two abreast at 80 columns.

Decisions come from the Session (the counts the status line shows) and are drawn at once. The rest is computed in thread
workers that only post messages: the columns and the workspace's signals first (quick), token
lengths after (they load a tokenizer; `token_counts: false` in tui.json turns them off). The
signal part is computed again whenever the workspace's latest run changes (a job started or
ended); token lengths depend on the rows alone and are counted once.
"""

from __future__ import annotations

import math

from rich.columns import Columns
from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static
from textual.worker import get_current_worker

from workbench.terminal import visible, visible_data

BLOCKS = " ▁▂▃▄▅▆▇█"
HEIGHT = 3  # rows of bars: 24 levels with eighth blocks
WIDTH = 36  # one histogram: two abreast in an 80-column pane, three at 120
BARS = WIDTH - 6  # columns for bars; the rest holds the peak count and the tail
ROLE_ORDER = ("user", "assistant", "system", "tool", "chosen", "rejected", "text")
TOP_CLUSTERS = 8


def num(v: float) -> str:
    """A short number for axes and summaries: 7, 0.25, 25.6, 1.2k, 48k."""
    if abs(v) >= 10_000:
        return f"{v / 1000:.0f}k"
    if abs(v) >= 1000:
        return f"{v / 1000:.1f}k"
    return str(int(v)) if float(v).is_integer() else f"{v:.3g}"


def _merge(edges: list[float], counts: list[int], most: int) -> tuple[list[float], list[int]]:
    """Adjacent bins summed in groups so that at most `most` remain (edges stay exact)."""
    k = math.ceil(len(counts) / most)
    if k <= 1:
        return edges, counts
    return edges[::k] + ([edges[-1]] if (len(edges) - 1) % k else []), \
        [sum(counts[i : i + k]) for i in range(0, len(counts), k)]


def _axis(edges: list[float], cw: int, unit: bool) -> str:
    """Edge labels under the bars at a regular stride, the widest stride-1 first that fits."""
    n = len(edges) - 1
    for stride in range(1, n + 1):
        marks = [(i * cw, num(edges[i])) for i in range(0, n, stride)]
        if not unit:  # continuous bins: the top edge too, right-aligned to the bars
            end = num(edges[-1])
            if len(marks) > 1 and marks[-1][0] + len(marks[-1][1]) >= n * cw - len(end):
                marks.pop()  # the top edge wins over a regular mark that it would overlap
            marks.append((max(0, n * cw - len(end)), end))
        if all(c1 + len(l1) < c2 for (c1, l1), (c2, _) in zip(marks, marks[1:])):
            break
    line = [" "] * (n * cw + 8)
    for col, label in marks:
        line[col : col + len(label)] = label
    return "".join(line).rstrip()


def bar_histogram(title: str, h: dict, style: str = "cyan") -> Text:
    """A histogram dict from `explore.stats.histogram` as a title (with n), a summary line, HEIGHT
    rows of column bars (peak count on the right), and an axis of bin edges; rows above the last
    edge (the tail past the 99th percentile) show as "+N more" at the end of the axis."""
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(title, "bold")
    counts, edges = list(h.get("counts") or []), list(h.get("bins") or [])
    if not counts:
        out.append(" · none", "dim")
        return out
    out.append(f" · {h['n']:,}\nmedian {num(h['median'])} · p95 {num(h['p95'])} · max {num(h['max'])}", "dim")
    edges, counts = _merge(edges, counts, BARS)
    unit = all(b - a == 1 for a, b in zip(edges, edges[1:]))  # one whole value per bin
    cw = max(1, min(3, BARS // len(counts)))
    bar_w = cw - 1 if cw > 1 else 1  # wide bins keep a gap so neighbours read apart
    top = max(counts) or 1
    levels = [math.ceil(c / top * HEIGHT * 8) if c else 0 for c in counts]
    for r in range(HEIGHT - 1, -1, -1):
        row = "".join(BLOCKS[max(0, min(8, lvl - r * 8))] * bar_w + " " * (cw - bar_w) for lvl in levels)
        out.append("\n")
        out.append(row.ljust(BARS), style)
        if r == HEIGHT - 1:
            out.append(f" {top:,}", "dim")
    out.append("\n")
    axis = _axis(edges, cw, unit)
    out.append(axis, "dim")
    if h.get("over"):
        tail = f" +{h['over']:,} more"
        out.append(tail if len(axis) + len(tail) <= WIDTH else tail[:-5], "yellow")
    return out


def _line(label: str, items: dict, fmt=lambda k, v: f"{k} {v:,}") -> Text:
    return Text.assemble((f"{label}  ", "bold"), " · ".join(fmt(k, v) for k, v in items.items()) or "none")


def _grid(blocks: list[RenderableType]) -> Columns:
    return Columns(blocks, padding=(1, 2), width=WIDTH)


def _tokens_section(tokens, rows: int, style: str) -> list[RenderableType]:
    head = Text("\ntoken lengths", style="bold")
    if isinstance(tokens, str):  # off, still counting, or why it failed
        return [head, Text(tokens, style="dim")]
    sampled = f"{tokens['sampled']:,} of {rows:,} rows sampled" if tokens["sampled"] < rows else f"{rows:,} rows"
    head.append(f" · {tokens['tokenizer']} tokenizer · {sampled}", "dim")
    roles = tokens["roles"]
    order = [r for r in ROLE_ORDER if r in roles] + sorted(set(roles) - set(ROLE_ORDER))
    blocks = [bar_histogram("tokens per row", tokens["row"], style)]
    blocks += [bar_histogram(f"{role} turns" if role != "text" else "text rows", roles[role], style) for role in order]
    return [head, _grid(blocks)]


def _scores_section(scores: dict, style: str) -> list[RenderableType]:
    if not scores:
        return [Text("\nscores", style="bold"), Text("no scores yet: run a judge or a filter (ctrl+p, run-…)", style="dim")]
    numeric = [bar_histogram(name, h, style) for name, h in scores.items() if "values" not in h]
    out: list[RenderableType] = [Text("\nscores", style="bold")]
    if numeric:
        out.append(_grid(numeric))
    out += [_line(name, h["values"]) for name, h in scores.items() if "values" in h]
    return out


def _composition_section(comp: dict | None, tokens, style: str) -> list[RenderableType]:
    """A mixture's make-up (after a `mix` run) or the open files': rows, share and tokens per
    group, then rows per topic when a map exists. Tokens of the files (no mixture) come from the
    token count, scaled up from its sample (≈) on big sets."""
    if not comp:
        return []
    from pathlib import Path

    groups = comp["groups"]
    names = {g: Path(g).name or g for g in groups} if comp["by"] == "source" else {g: g for g in groups}
    if len(set(names.values())) < len(names):
        names = {g: g for g in groups}
    head = Text("\nmixture" if "run" in comp else "\nsources", style="bold")
    head.append(f" · run #{comp['run']}" if "run" in comp else "", "dim")
    head.append(f" · {comp['total']:,} rows by {comp['by']}", "dim")
    if comp["repeated"]:
        head.append(f" · {sum(comp['repeated'].values()):,} repeated", "yellow")
    counted = tokens.get("sources", {}) if isinstance(tokens, dict) and "run" not in comp else {}
    top = max((c["rows"] for c in groups.values()), default=1) or 1
    width = min(16, max(len(n) for n in names.values()))
    out: list[RenderableType] = [head]
    for g, c in sorted(groups.items(), key=lambda kv: -kv[1]["rows"]):
        n_tokens, approx = c.get("tokens"), ""
        if n_tokens is None and g in counted and counted[g]["rows"]:
            n_tokens = round(counted[g]["tokens"] * c["available"] / counted[g]["rows"])
            approx = "≈" if counted[g]["rows"] < c["available"] else ""
        of = f" of {c['available']:,}" if c["available"] != c["rows"] else ""
        toks = f" · {approx}{num(n_tokens)} tokens" if n_tokens is not None else ""
        bar = "█" * max(1, round(10 * c["rows"] / top)) if c["rows"] else ""
        out.append(Text.assemble(f"{names[g][:width]:<{width}} ", (f"{bar:<10}", style),
                                 f" {c['rows']:,}{of} rows · {c['share']:.1%}{toks}", no_wrap=True, overflow="ellipsis"))
    if comp.get("topics"):
        out.append(_line("by topic", dict(list(comp["topics"].items())[:TOP_CLUSTERS])))
    return out


def _clusters_section(st: dict, style: str) -> list[RenderableType]:
    clusters = [c for c in st.get("clusters") or () if c["id"] >= 0]
    head = Text("\nclusters", style="bold")
    if "clusters" not in st:
        return [head, Text("no topic map yet: 7 Topics, or `workbench map`", style="dim")]
    unclustered = sum(c["size"] for c in st["clusters"] if c["id"] < 0)
    head.append(f" · {len(clusters):,} topics · {unclustered:,} rows unclustered", "dim")
    biggest = sorted(clusters, key=lambda c: -c["size"])[:TOP_CLUSTERS]
    top = max((c["size"] for c in biggest), default=1)
    out: list[RenderableType] = [head]
    for c in biggest:
        bar = "█" * max(1, round(12 * c["size"] / top))
        out.append(Text.assemble(f"{c['size']:>7,} ", (f"{bar:<12}", style), f" {c['label']}", no_wrap=True,
                                 overflow="ellipsis"))
    if len(clusters) > TOP_CLUSTERS:  # too many to list: their sizes as a histogram
        out += [Text(f"… {len(clusters) - TOP_CLUSTERS:,} more", style="dim"),
                bar_histogram("cluster sizes", st["cluster_sizes"], style)]
    return out


def stats_renderable(name: str, st: dict | None, tokens, decisions: dict, style: str = "cyan") -> Group:
    """The whole pane: `st` from dataset_stats(tokens=False) (None while computing), `tokens` from
    token_lengths or a message in its place, `decisions` the accept/reject/pending counts.
    Names, labels and values from the data show through `visible`."""
    name, st, tokens = visible(name), visible_data(st), visible_data(tokens)
    marks = {"accept": "✓ ", "reject": "✗ ", "pending": ""}
    parts: list[RenderableType] = [
        Text.assemble((f"{sum(decisions.values()):,} rows", "bold"), f" · {name}"),
        _line("decisions", decisions, lambda k, v: f"{marks[k]}{v:,} {k}"),
    ]
    if st is None:
        return Group(*parts, Text("\ncomputing statistics …", style="dim"))
    parts += [
        _line("kinds", st["kinds"]),
        Text(""),
        _grid([bar_histogram("turns per row", st["turns"], style),
               bar_histogram("characters per row", st["chars"], style)]),
        *_composition_section(st.get("composition"), tokens, style),
        *_tokens_section(tokens, st["rows"], style),
        *_scores_section(st.get("scores") or {}, style),
        *_clusters_section(st, style),
    ]
    return Group(*parts)


class StatsReady(Message):
    def __init__(self, key: tuple | None, part: str, data) -> None:
        self.key, self.part, self.data = key, part, data
        super().__init__()


class StatsPane(VerticalScroll):
    DEFAULT_CSS = "StatsPane { padding: 0 1; }"

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._key: tuple | None = None  # (dataset, latest run id, its status) the stats were asked for
        self._stats: dict | None = None
        self._tokens: dict | str | None = None  # token_lengths(), or why there are none
        self._drawn: tuple | None = None

    def compose(self):
        yield Static("", id="stats-body")

    def refresh_pane(self) -> None:
        app = self.app
        last = app.ws.runs(limit=1)
        key = (app.ds.fingerprint, last[0]["id"], last[0]["status"]) if last else (app.ds.fingerprint, None, None)
        if key != self._key:  # a job started or ended: signals, proposals or the map may have changed
            self._key = key
            self.compute_stats(key)
        if self._tokens is None:
            if app.token_counts:
                self._tokens = "counting tokens (the first count loads the tokenizer) …"
                self.compute_tokens()
            else:
                self._tokens = "off in tui.json (token_counts: false)"
        self._draw()

    @work(thread=True, exclusive=True, group="stats", exit_on_error=False)
    def compute_stats(self, key: tuple) -> None:
        from workbench.explore.stats import dataset_stats

        try:
            st = dataset_stats(self.app.ds, self.app.ws, tokens=False)
        except Exception as e:  # noqa: BLE001 - shown in the pane
            st = {"error": f"{type(e).__name__}: {e}"}
        if not get_current_worker().is_cancelled:
            self.post_message(StatsReady(key, "stats", st))

    @work(thread=True, exclusive=True, group="stats-tokens", exit_on_error=False)
    def compute_tokens(self) -> None:
        from workbench.explore.stats import token_lengths

        try:
            tokens = token_lengths(self.app.ds)
        except Exception as e:  # noqa: BLE001 - shown in place of the token histograms
            tokens = f"no token counts: {type(e).__name__}: {e}"
        self.post_message(StatsReady(None, "tokens", tokens))

    def on_stats_ready(self, msg: StatsReady) -> None:
        if msg.part == "tokens":
            self._tokens = msg.data
        elif msg.key == self._key:
            self._stats = msg.data
        self._draw()

    def _draw(self) -> None:
        app = self.app
        decisions = app.session.counts()
        state = (id(self._stats), id(self._tokens), tuple(decisions.items()), app.theme)
        if state == self._drawn:  # the cursor moved: nothing here changed
            return
        self._drawn = state
        body = self.query_one("#stats-body", Static)
        if self._stats and "error" in self._stats:
            body.update(Text(visible(f"no statistics: {self._stats['error']}"), style="bold red"))
            return
        style = app.current_theme.primary if app.current_theme else "cyan"
        body.update(stats_renderable(app.ds.name, self._stats, self._tokens, decisions, style))
