"""The Topic map pane: the dataset's 2-D embedding map as a braille scatter, clusters coloured,
a legend of topic labels and sizes, a cursor to move and zoom, and Browse filtered by a cluster.

The map is the one the `map` operation saves (read back from the workspace), whoever ran it:
`workbench map`, a recipe, or `m` here, which runs it like any operation (progress and cancel
in the Jobs pane) and shows the new map when it is saved.
Each terminal cell holds 2 x 4 braille dots and takes the colour of most of its points.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from workbench.explore.topicmap import cluster_colour
from workbench.terminal import visible

# Dot bit of braille character U+2800 + bits, by [row within cell][column within cell].
BRAILLE = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.uint8)
STATUS_COLOURS = {"accept": "#59c45a", "reject": "#e15759", "pending": "#8a8a8a"}
STATUS_ORDER = ("pending", "accept", "reject")
LEGEND_LABEL = 19  # characters of a topic label that fit one legend line (the legend is 30 wide)


def rasterize(xy: np.ndarray, classes: np.ndarray, bounds: tuple[float, float, float, float],
              width: int, height: int, n_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Braille bits (height, width), the majority class per cell (-1 where empty), and the cell
    index of every point (-1 outside the view)."""
    x0, x1, y0, y1 = bounds
    px = np.floor((xy[:, 0] - x0) / ((x1 - x0) or 1) * width * 2).astype(np.int64)
    py = np.floor((y1 - xy[:, 1]) / ((y1 - y0) or 1) * height * 4).astype(np.int64)  # y grows upwards
    inside = (px >= 0) & (px < width * 2) & (py >= 0) & (py < height * 4)
    cell = np.where(inside, (py // 4) * width + px // 2, -1)
    bits = np.zeros(width * height, dtype=np.uint8)
    ok = np.flatnonzero(inside)
    np.bitwise_or.at(bits, cell[ok], BRAILLE[py[ok] % 4, px[ok] % 2])
    counts = np.zeros((width * height, max(n_classes, 1)), dtype=np.int32)
    np.add.at(counts, (cell[ok], classes[ok]), 1)
    major = np.where(counts.any(axis=1), counts.argmax(axis=1), -1)
    return bits.reshape(height, width), major.reshape(height, width), cell


class MapCanvas(Widget, can_focus=True):
    """The scatter. Keys move a cursor cell, zoom around it, pick clusters and switch colouring."""

    BINDINGS = [
        Binding("left,h", "move(-1, 0)", "Left", show=False, id="map-left"),
        Binding("right,l", "move(1, 0)", "Right", show=False, id="map-right"),
        Binding("up,k", "move(0, -1)", "Up", show=False, id="map-up"),
        Binding("down,j", "move(0, 1)", "Down", show=False, id="map-down"),
        Binding("plus,equals_sign", "zoom(0.5)", "Zoom", id="map-zoom-in", key_display="+"),
        Binding("minus", "zoom(2)", "Zoom out", show=False, id="map-zoom-out", key_display="-"),
        Binding("0", "reset_view", "Whole map", show=False, id="map-reset"),
        Binding("n", "cycle(1)", "Next topic", id="map-next-cluster"),
        Binding("N", "cycle(-1)", "Previous cluster", show=False, id="map-previous-cluster"),
        Binding("enter", "choose", "Filter by topic", id="map-filter-cluster"),
        Binding("v", "toggle_colour", "Colour", id="map-colour"),
        Binding("m", "build", "Build map", id="map-build"),
    ]
    DEFAULT_CSS = "MapCanvas { width: 1fr; height: 1fr; } MapCanvas:focus { background: $boost; }"

    class Chosen(Message):
        """A cluster was chosen (enter): the pane filters Browse by it."""

        def __init__(self, cluster_id: int) -> None:
            self.cluster_id = cluster_id
            super().__init__()

    class Moved(Message):
        """The cursor, the view or the selection changed: the pane redraws its info line."""

    class BuildRequested(Message):
        """`m`: (re)build the map."""

    colour_by = reactive("cluster")  # or "status"

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.tm = None
        self.status = np.zeros(0, dtype=np.int64)  # index into STATUS_ORDER per row
        self.cursor = (0, 0)
        self.selected: int | None = None  # highlighted cluster id
        self.bounds: tuple[float, float, float, float] = (0.0, 1.0, 0.0, 1.0)
        self._point_cells = np.zeros(0, dtype=np.int64)

    # -- data ---------------------------------------------------------------------------

    def set_map(self, tm, statuses: np.ndarray) -> None:
        keep_view = self.tm is not None and self.tm.method == tm.method and len(self.tm.ids) == len(tm.ids)
        self.tm, self.status = tm, statuses
        if self.selected is not None and not any(c["id"] == self.selected for c in tm.clusters):
            self.selected = None
        if not keep_view:
            self.action_reset_view()
        self.refresh()

    def set_statuses(self, statuses: np.ndarray) -> None:
        self.status = statuses
        self.refresh()

    def _full_bounds(self) -> tuple[float, float, float, float]:
        xy = self.tm.xy
        if not len(xy):
            return (0.0, 1.0, 0.0, 1.0)
        (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
        mx, my = (x1 - x0) * 0.03 or 1.0, (y1 - y0) * 0.03 or 1.0
        return (float(x0 - mx), float(x1 + mx), float(y0 - my), float(y1 + my))

    def _point_classes(self) -> tuple[np.ndarray, int, list[str]]:
        """Class per point, number of classes and their colours, for the current colouring."""
        if self.colour_by == "status":
            return self.status, len(STATUS_ORDER), [STATUS_COLOURS[s] for s in STATUS_ORDER]
        k = int(self.tm.cluster.max()) + 2 if len(self.tm.cluster) else 1
        return self.tm.cluster + 1, k, [cluster_colour(c - 1) for c in range(k)]  # class 0 = noise

    # -- drawing ------------------------------------------------------------------------

    def render(self) -> Text:
        w, h = self.size.width, self.size.height
        if self.tm is None or w < 2 or h < 1:
            return Text("")
        classes, k, colours = self._point_classes()
        bits, major, self._point_cells = rasterize(self.tm.xy, classes, self.bounds, w, h, k)
        dim_others = self.selected is not None and self.colour_by == "cluster"
        cx, cy = self.cursor
        out = Text(no_wrap=True, overflow="crop")
        for r in range(h):
            for c in range(w):
                b, m = int(bits[r, c]), int(major[r, c])
                style = colours[m] if m >= 0 else ""
                if dim_others and m >= 0 and m - 1 != self.selected:
                    style = f"{style} dim"
                elif dim_others and m >= 0:
                    style = f"bold {style}"
                if (c, r) == (cx, cy):
                    style = f"{style} reverse".strip()
                out.append(chr(0x2800 + b) if b else ("+" if (c, r) == (cx, cy) else " "), style or None)
            if r < h - 1:
                out.append("\n")
        return out

    # -- what is under the cursor -------------------------------------------------------

    def rows_at_cursor(self) -> np.ndarray:
        if self.tm is None or not len(self._point_cells):
            return np.zeros(0, dtype=np.int64)
        cx, cy = self.cursor
        return np.flatnonzero(self._point_cells == cy * self.size.width + cx)

    def cluster_at_cursor(self) -> int | None:
        rows = self.rows_at_cursor()
        if not len(rows):
            return None
        ids, counts = np.unique(self.tm.cluster[rows], return_counts=True)
        return int(ids[counts.argmax()])

    # -- actions ------------------------------------------------------------------------

    def action_move(self, dx: int, dy: int) -> None:
        w, h = max(self.size.width, 1), max(self.size.height, 1)
        x, y = self.cursor[0] + dx, self.cursor[1] + dy
        x0, x1, y0, y1 = self.bounds
        # At an edge the view pans by a quarter instead of the cursor leaving it.
        if not 0 <= x < w:
            shift = (x1 - x0) / 4 * (1 if x >= w else -1)
            self.bounds = (x0 + shift, x1 + shift, y0, y1)
            x = min(max(x, 0), w - 1)
        if not 0 <= y < h:
            shift = (y1 - y0) / 4 * (-1 if y >= h else 1)
            self.bounds = (self.bounds[0], self.bounds[1], y0 + shift, y1 + shift)
            y = min(max(y, 0), h - 1)
        self.cursor = (x, y)
        self._after_change()

    def _cursor_point(self) -> tuple[float, float]:
        x0, x1, y0, y1 = self.bounds
        w, h = max(self.size.width, 1), max(self.size.height, 1)
        return (x0 + (self.cursor[0] + 0.5) / w * (x1 - x0), y1 - (self.cursor[1] + 0.5) / h * (y1 - y0))

    def _centre_on(self, px: float, py: float, span_x: float, span_y: float) -> None:
        self.bounds = (px - span_x / 2, px + span_x / 2, py - span_y / 2, py + span_y / 2)
        self.cursor = (max(self.size.width, 1) // 2, max(self.size.height, 1) // 2)

    def action_zoom(self, factor: float) -> None:
        if self.tm is None:
            return
        x0, x1, y0, y1 = self.bounds
        fx0, fx1, fy0, fy1 = self._full_bounds()
        span_x = min((x1 - x0) * factor, (fx1 - fx0) * 2)
        span_y = min((y1 - y0) * factor, (fy1 - fy0) * 2)
        self._centre_on(*self._cursor_point(), span_x, span_y)
        self._after_change()

    def action_reset_view(self) -> None:
        if self.tm is not None:
            self.bounds = self._full_bounds()
        self.cursor = (max(self.size.width, 1) // 2, max(self.size.height, 1) // 2)
        self._after_change()

    def action_cycle(self, step: int) -> None:
        """Select the next (or previous) cluster and put the cursor on its densest point."""
        if self.tm is None:
            return
        ids = [c["id"] for c in self.tm.clusters if c["id"] >= 0]
        if not ids:
            return
        pos = ids.index(self.selected) + step if self.selected in ids else (0 if step > 0 else -1)
        self.selected = ids[pos % len(ids)]
        pts = self.tm.xy[self.tm.cluster == self.selected]
        px, py = np.median(pts, axis=0)
        x0, x1, y0, y1 = self.bounds
        if not (x0 <= px <= x1 and y0 <= py <= y1):
            self._centre_on(float(px), float(py), x1 - x0, y1 - y0)
        w, h = max(self.size.width, 1), max(self.size.height, 1)
        x0, x1, y0, y1 = self.bounds
        self.cursor = (min(w - 1, int((px - x0) / (x1 - x0) * w)), min(h - 1, int((y1 - py) / (y1 - y0) * h)))
        self._after_change()

    def action_choose(self) -> None:
        if self.tm is None:
            return
        under = self.cluster_at_cursor()
        chosen = under if under is not None else self.selected
        if chosen is not None:
            self.selected = chosen
            self.post_message(self.Chosen(chosen))
            self._after_change()

    def action_toggle_colour(self) -> None:
        self.colour_by = "status" if self.colour_by == "cluster" else "cluster"
        self._after_change()

    def action_build(self) -> None:
        self.post_message(self.BuildRequested())

    def watch_colour_by(self) -> None:
        self.refresh()

    def _after_change(self) -> None:
        self.refresh()
        self.post_message(self.Moved())


class TopicMapPane(Vertical):
    """Scatter on the left, legend on the right, one info line below."""

    DEFAULT_CSS = """
    TopicMapPane #map-row { height: 1fr; }
    TopicMapPane #map-legend { width: 30; height: 1fr; padding: 0 0 0 1; overflow-y: auto; }
    TopicMapPane #map-info { height: 1; }
    """

    class Loaded(Message):
        def __init__(self, tm, run_id: int | None) -> None:
            self.tm, self.run_id = tm, run_id
            super().__init__()

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.tm = None
        self.stage = ""
        self.run_id: int | None = -1  # the map run shown (None: none saved; -1: not read yet)

    def compose(self):
        with Horizontal(id="map-row"):
            yield MapCanvas(id="map-canvas")
            yield Static("", id="map-legend")
        yield Static("", id="map-info")

    @property
    def canvas(self) -> MapCanvas:
        return self.query_one("#map-canvas", MapCanvas)

    # -- the app's hooks ----------------------------------------------------------------

    def refresh_pane(self) -> None:
        latest = self._latest_run()
        if latest != self.run_id:  # first show, or a map run (here or by the CLI) saved a new map
            self.run_id = latest
            self.stage = "reading the saved map …"
            self._load_saved(latest)
        elif self.tm is not None:
            self.canvas.set_statuses(self._statuses())
        state = self.app.operation_state("map")
        if state is not None and state[0] == "running":
            self.stage = f"building the map: {state[1]}"
        elif self.stage.startswith("building"):
            self.stage = "" if state and state[0] == "done" else f"the map was not built: {state[0] if state else '?'}"
        self._draw_side()

    def _latest_run(self) -> int | None:
        return next((r["id"] for r in self.app.ws.runs(limit=500) if r["op"] == "map" and r["status"] == "done"), None)

    def _statuses(self) -> np.ndarray:
        st = self.app.session.statuses if self.app.session is not None else {}
        order = {s: i for i, s in enumerate(STATUS_ORDER)}
        return np.fromiter((order.get(st.get(r, "pending"), 0) for r in self.tm.ids), dtype=np.int64, count=len(self.tm.ids))

    # -- workers (they only post messages) ------------------------------------------------

    @work(thread=True, exclusive=True, group="topic-map", exit_on_error=False)
    def _load_saved(self, run_id: int | None) -> None:
        from workbench.explore.topicmap import load_map

        self.post_message(self.Loaded(load_map(self.app.ws, self.app.ds.ids) if run_id is not None else None, run_id))

    # -- messages -----------------------------------------------------------------------

    def on_topic_map_pane_loaded(self, msg: Loaded) -> None:
        if msg.run_id != self.run_id:  # a newer map was saved meanwhile: its own load follows
            return
        if msg.tm is not None:
            self.tm = msg.tm
            self.canvas.set_map(msg.tm, self._statuses())
        if self.stage.startswith("reading"):
            self.stage = ""
        self._draw_side()

    def on_map_canvas_moved(self) -> None:
        self._draw_side()

    def on_map_canvas_build_requested(self) -> None:
        self.app.action_run_operation("map")  # says so when it is already running
        self.refresh_pane()

    async def on_map_canvas_chosen(self, msg: MapCanvas.Chosen) -> None:
        from dataclasses import replace

        # A condition of the filter language (`topic=N`), which `f` shows and edits; it takes the
        # place of a search's or a cluster's rows, as the other conditions stay.
        f = replace(self.app.session.filters, topic=msg.cluster_id, rows=None, rows_label=None, ranked=False)
        self.app.apply_filters(f)
        await self.app.run_action("show_pane('browse')")

    # -- legend and info line -----------------------------------------------------------

    def _draw_side(self) -> None:
        legend = self.query_one("#map-legend", Static)
        info = self.query_one("#map-info", Static)
        tm, canvas = self.tm, self.canvas
        if tm is None:
            legend.update("")
            info.update(Text(visible(self.stage) or "No topic map yet: press m to build one.", style="dim"))
            return
        t = Text(no_wrap=True, overflow="ellipsis")
        if canvas.colour_by == "status":
            counts = np.bincount(canvas.status, minlength=len(STATUS_ORDER)) if len(canvas.status) else [0, 0, 0]
            for s, n in zip(STATUS_ORDER, counts):
                t.append("● ", STATUS_COLOURS[s])
                t.append(f"{s:<9}{int(n):>8,}\n")
        real = [c for c in tm.clusters if c["id"] >= 0]
        t.append(f"{len(real)} topics · {len(tm.ids):,} rows\n" if tm.method != "pca" else "PCA preview\n", "bold")
        for c in tm.clusters:
            sel = c["id"] == canvas.selected
            t.append("● ", cluster_colour(c["id"]))
            t.append(f"{c['size']:>6,} ", "bold" if sel else "dim")
            label = visible(c["label"])
            label = label if len(label) <= LEGEND_LABEL else label[: LEGEND_LABEL - 1] + "…"
            t.append(label + "\n", "reverse" if sel else "")
        legend.update(t)
        rows = canvas.rows_at_cursor()
        if self.stage:
            line = Text(visible(self.stage), style="italic")
        elif len(rows):
            cid = canvas.cluster_at_cursor()
            st = np.bincount(canvas.status[rows], minlength=3) if len(canvas.status) else [0, 0, 0]
            line = Text.assemble(
                (f"{len(rows):,} rows here ", "bold"), ("● ", cluster_colour(cid)), visible(tm.label_of(cid)),
                (f"  ✓{st[1]} ✗{st[2]}", "dim"), ("  enter: filter Browse", "dim"),
            )
        else:
            line = Text("arrows move · +/- zoom · n next topic · enter filter Browse · v colour · m rebuild", style="dim")
        info.update(line)
