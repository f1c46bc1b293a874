"""The embed operation: every (selected) row's embedding, computed where the vector cache
lacks it (workbench.explore.embed). Nothing goes into the workspace but the run's log."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.data.record import TEXT_VIEWS
from workbench.ops.base import Context, Operation, Params, Result, param, subset

VIEWS = tuple(TEXT_VIEWS)


@dataclass
class EmbedParams(Params):
    view: str = param("all", choices=VIEWS, help="which text of a row to embed")
    model: str | None = param(None, help="a local sentence-transformers model directory (default: the bundled "
                                         "all-MiniLM-L6-v2)")
    batch_size: int = param(64, help="texts per model batch")


class Embed(Operation):
    name = "embed"
    Params = EmbedParams
    scope = "dataset"

    def run(self, ds, params: EmbedParams, ctx: Context, rows: list[str] | None = None) -> Result:
        from workbench.explore.embed import embed_dataset

        part = subset(ds, rows)
        counts: dict = {}
        vecs = embed_dataset(part, None, view=params.view, model=params.model, batch_size=params.batch_size, on_stage=ctx.say,
                             progress=lambda done, total: (ctx.check(), ctx.report(done, total)), counts=counts)
        return Result(self.name, params.to_dict(), report={"op": self.name, **counts, "dimensions": vecs.shape[1]},
                      summary=f"{len(part)} rows embedded ({counts['embedded']} new texts computed, "
                              f"{counts['cached']} rows from the cache), {vecs.shape[1]} dimensions",
                      counts=counts)
