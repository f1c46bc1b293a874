"""The options of an export, in one place for every face: `workbench export` builds them from
its flags, the TUI's `export` form from its fields, and `export_with` runs them, so the same
options write the same files wherever they were given.

    p = ExportParams.from_dict({"out": "curated.jsonl", "to": "openai", "test_size": 0.1})
    summary = export_with(ds, ws, p, progress=lambda rows_read: ...)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from workbench.data.formats import TARGETS
from workbench.handoff.trainers import TRAINERS
from workbench.ops.base import ParamError, Params, param
from workbench.store.export import KINDS, ONLY


@dataclass
class ExportParams(Params):
    """`workbench export`'s flags (field = the flag's dest: `trainer` is --for, `out` is -o)."""

    out: str = param("", help="output file (its suffix names the container); with trainer, a folder")
    to: str | None = param(None, choices=TARGETS, help="output format (with trainer: chosen for the trainer)")
    trainer: str | None = param(None, choices=TRAINERS, help="--for: write a folder with the trainer's config")
    only: str = param("not-rejected", choices=ONLY, help="keep rows not rejected, or only accepted rows")
    kind: str | None = param(None, choices=KINDS, help="export only rows of this kind")
    test_size: float | None = param(None, help="also write a test split of this fraction")
    test_rows: int | None = param(None, help="also write a test split of N rows")
    seed: int = param(0, help="seed of the split")
    with_signals: str | None = param(None, help="signals as columns: NAME or OP.NAME, comma-separated, or all")
    name: str = param("workbench", help="dataset name in the trainer's config")
    chat_template: str | None = param(None, help="with trainer axolotl: train with this template")
    merge_splits: bool = param(False, help="the dataset's own splits into one file")

    def validate(self) -> None:
        super().validate()
        if not self.out:
            raise ParamError("out is required: the output file (or folder with a trainer)")
        if not self.to and not self.trainer:
            raise ParamError("export needs --to FORMAT or --for TRAINER")

    def signals(self) -> list[str] | None:
        return [s.strip() for s in self.with_signals.split(",") if s.strip()] if self.with_signals else None


def export_with(ds, ws, p: ExportParams, progress: Callable[[int], None] | None = None) -> dict:
    """Write the curated rows of `ds` as `p` says (workbench.store.export.export, or
    workbench.handoff.export_for.export_for with a trainer); returns their summary. `progress`
    gets the rows read so far, out of len(ds). Raises ValueError (a bad option, rows of several
    kinds, an unknown template), OSError (cannot write) or RowError."""
    from workbench.handoff.splits import Split, test_ids
    from workbench.store.export import export

    split = None
    if p.test_size is not None or p.test_rows is not None:
        split = Split(test_size=p.test_size, test_rows=p.test_rows, seed=p.seed)
    if p.trainer:
        from workbench.handoff.export_for import export_for

        template = None
        if p.chat_template:
            from workbench.templates.registry import get_template

            template = get_template(p.chat_template).source
        return export_for(ds, ws, p.trainer, p.out, name=p.name, kind=p.kind, only=p.only, split=split,
                          signals=p.signals(), chat_template=template, progress=progress,
                          merge_splits=p.merge_splits)
    ids = test_ids(ds, ws, split, p.only, p.kind) if split else None
    return export(ds, ws, p.to, p.out, only=p.only, progress=progress, kind=p.kind, signals=p.signals(),
                  test_ids=ids, merge_splits=p.merge_splits)
