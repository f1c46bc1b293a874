"""The map operation: a 2-D topic map (k-means topics, a layout that keeps them apart, topic labels)
of the rows' embeddings, kept as `cluster`, `topic`, `map_x`, `map_y` signals for the Topic map
pane (workbench.explore.topicmap holds the kernels)."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.ops.base import Context, Operation, Params, Result, param, subset
from workbench.ops.embed import VIEWS


@dataclass
class MapParams(Params):
    view: str = param("all", choices=VIEWS, help="which text of a row to embed")
    model: str | None = param(None, help="a local sentence-transformers model directory")
    labels: str = param("keywords", choices=("keywords", "llm"), help="c-TF-IDF keywords or names from an LLM")
    llm_model: str | None = param(None, help="model for labels=llm (default: the local SmolLM2)")
    api_base: str | None = param(None, secret=True, help="OpenAI-compatible server for llm_model")
    topics: int | None = param(None, help="number of topics (default: groups that stand apart, a varied "
                                          "rest split by silhouette, up to sqrt(rows / 2))")
    seed: int = param(0, help="random seed of the sample and k-means")


class TopicMapOp(Operation):
    name = "map"
    Params = MapParams
    scope = "dataset"
    page = True

    def run(self, ds, params: MapParams, ctx: Context, rows: list[str] | None = None) -> Result:
        from workbench.explore.embed import embed_dataset
        from workbench.explore.topicmap import OP, build_map, map_counts, map_signals

        part = subset(ds, rows)
        ctx.say("embedding")
        vecs = embed_dataset(part, None, view=params.view, model=params.model, on_stage=ctx.say,
                             progress=lambda done, total: (ctx.report(done, total), ctx.check()))
        ctx.check()
        tm = build_map(part, ctx.ws, view=params.view, model=params.model, vectors=vecs,
                       topics=params.topics, labels=params.labels, llm_model=params.llm_model,
                       llm_api_base=params.api_base, seed=params.seed, save=False,
                       on_stage=lambda s: (ctx.check(), ctx.say(s + " ...")))
        ctx.check()
        counts = map_counts(tm)
        return Result(OP, params.to_dict(), signals=map_signals(tm), report=tm.report(), counts=counts,
                      summary=f"{len(part)} rows, {counts['clusters']} clusters")

    def html(self, result: Result, ds) -> str:
        from workbench.explore.page import map_page
        from workbench.explore.topicmap import map_from_signals

        tm = map_from_signals(result.signals, result.counts)
        previews = ds.column("preview")
        return map_page(tm, f"{ds.name} · topic map", [previews[ds.index_of(r)] for r in tm.ids])

    def describe(self, result: Result) -> str:
        lines = [result.summary]
        for c in result.counts["topics"]:
            err = f"  [LLM label failed: {c['label_error']}]" if c.get("label_error") else ""
            lines.append(f"{c['id']:>4}  {c['size']:>7}  {c['label']}{err}")
        return "\n".join(lines)
