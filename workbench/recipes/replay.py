"""Replay a recipe headless on a dataset: each step through workbench.engine.local.run_step
(skipped, without running anything or calling a model, when it already ran on these inputs
with these parameters in this workspace), then the recipe's decisions by content."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from workbench.recipes.recipe import Recipe, RecipeError, Step


@dataclass
class StepReport:
    step: Step
    status: str  # "done" | "skipped" | "cancelled" | "failed"
    summary: str
    run_id: int | None


def select_rows(step: Step, ds, ws, hashes: dict[str, str] | None) -> list[str] | None:
    """The row ids a step runs on: None for all rows; rows whose content hash is listed; or
    the rows a filter expression picks (workbench.session's filter language)."""
    sel = step.select
    if sel == "all":
        return None
    if "rows" in sel:
        want = set(sel["rows"])
        return [rid for rid, h in hashes.items() if h in want]
    from workbench.session import Session  # the filter language lives with the Session

    return Session(ds, ws).select(sel["filter"])


def replay(recipe: Recipe, ds, ws, *, make_context: Callable[[int, Step, int], object] | None = None,
           on_step: Callable[[StepReport], None] | None = None, engine=None) -> list[StepReport]:
    """Run every step of `recipe` on `ds` with workspace `ws`, then its decisions. `make_context
    (i, step, total_rows)` gives each step its Context (progress, cancel); `on_step` hears each
    step's report as it ends; `engine` (workbench.engine.base) computes each step (default:
    this process). A step that fails raises RecipeError naming it; a cancelled step
    ends the replay."""
    from workbench.engine.local import run_step
    from workbench.ops import registry
    from workbench.ops.base import Context

    hashes = None
    if recipe.decisions or any(s.select != "all" and "rows" in s.select for s in recipe.steps):
        from workbench.store.reconcile import content_hashes

        hashes = content_hashes(ds, ds.ids)
    reports = []
    for i, step in enumerate(recipe.steps):
        where = f"{recipe.path}:{step.line}: step {i + 1} ({step.op})"
        op = registry.get(step.op)
        params = op.params_from_dict(step.params)
        rows = select_rows(step, ds, ws, hashes)
        ctx = make_context(i, step, len(ds) if rows is None else len(rows)) if make_context else Context()
        try:
            out = run_step(op, ds, ws, params, rows=rows, ctx=ctx, skip_unchanged=True,
                           selection=_logged(step.select), engine=engine)
        except (ValueError, OSError) as e:
            raise RecipeError(f"{where}: {e}") from None
        if out.skipped:
            summary = f"skipped: unchanged since run {out.run_id} (same inputs, parameters and operation version)"
        elif out.status == "cancelled":
            summary = "cancelled; nothing saved"
        else:
            summary = out.result.summary
        rep = StepReport(step, out.status, summary, out.run_id)
        reports.append(rep)
        if on_step:
            on_step(rep)
        if out.status == "cancelled":
            return reports
    if recipe.decisions:
        apply_decisions(recipe.decisions, ws, hashes or {})
    return reports


def _logged(select) -> dict:
    if select == "all":
        return {"all": True}
    if "rows" in select:
        return {"content": select["rows"]}
    return dict(select)


def apply_decisions(decisions: list[dict], ws, hashes: dict[str, str]) -> int:
    """A person's recorded decisions on the rows with the same content; rows already decided
    that way are left alone. Returns how many rows changed.

    One decision on a content decides every row with it (a rejected row's copies in a new
    batch are rejected too). Several decisions on one content (copies a person told apart:
    one kept, the others rejected) are dealt out in row order, accepts first, so that as many
    copies stay as were kept; rows beyond them take the last one."""
    by_hash: dict[str, list[str]] = {}
    for rid, h in hashes.items():
        by_hash.setdefault(h, []).append(rid)
    said: dict[str, list[dict]] = {}
    for d in decisions:
        said.setdefault(d["content"], []).append(d)
    have = {d["row_id"]: (d["status"], d["note"]) for d in ws.person_decisions()}
    changed = 0
    for content, ds in said.items():
        ds.sort(key=lambda d: STATUS_ORDER.get(d["status"], len(STATUS_ORDER)))
        for i, rid in enumerate(by_hash.get(content, [])):
            d = ds[min(i, len(ds) - 1)]
            if have.get(rid) != (d["status"], d["note"]):
                ws.decide(rid, d["status"], note=d["note"], by="recipe", content=content)
                changed += 1
    return changed


STATUS_ORDER = {"accept": 0, "reject": 1, "pending": 2}  # copies dealt out: kept ones first
