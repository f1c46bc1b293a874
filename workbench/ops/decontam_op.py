"""The decontam operation: rows sharing word n-grams with benchmark test sets are flagged
(a `contamination` signal and a proposed rejection). The kernel is workbench.ops.decontam."""

from __future__ import annotations

import os
from dataclasses import dataclass

from workbench.data.record import TEXT_VIEWS
from workbench.ops.base import Context, Operation, Params, ParamError, Result, param, subset
from workbench.ops.oprun import DatasetTexts


@dataclass
class DecontamParams(Params):
    against: list[str] = param(factory=list, cli=False,
                               help="benchmark files FILE or FILE:field,field (default fields: every string)")
    ngram: int = param(13, help="n-gram size in words")
    view: str = param("all", choices=tuple(TEXT_VIEWS), help="text of each row checked")

    def validate(self) -> None:
        super().validate()
        if not self.against:
            raise ParamError("against needs at least one benchmark file")
        from workbench.ops.decontam import parse_against

        for spec in self.against:
            try:
                parse_against(spec)
            except FileNotFoundError as e:
                raise ParamError(str(e)) from None
        if self.ngram < 1:
            raise ParamError(f"ngram must be >= 1, got {self.ngram}")


class Decontam(Operation):
    name = "decontam"
    Params = DecontamParams
    scope = "dataset"
    fail_on = "hit"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--against", action="append", required=True, metavar="FILE[:field,...]",
                            help="benchmark file (jsonl/json/parquet/csv) and the fields to read (default: every "
                                 "string field); repeatable")
        super().add_arguments(parser)

    def params_from_args(self, args) -> DecontamParams:
        # absolute paths: a recipe written from this run replays from any folder
        return DecontamParams.from_args(args, against=[_absolute_spec(a) for a in args.against])

    def run(self, ds, params: DecontamParams, ctx: Context, rows: list[str] | None = None) -> Result:
        from workbench.ops.decontam import NgramIndex, decontaminate, parse_against

        with NgramIndex([parse_against(spec) for spec in params.against], n=params.ngram) as index:
            ctx.check()
            part = subset(ds, rows)
            result = decontaminate(DatasetTexts(part, params.view), part.ids, index,
                                   progress=lambda done: (ctx.check(), ctx.report(done, len(part))))
        result.params = params.to_dict()
        return result


def _absolute_spec(spec: str) -> str:
    if os.path.exists(spec):
        return os.path.abspath(spec)
    path, sep, fields = spec.rpartition(":")
    return f"{os.path.abspath(path)}:{fields}" if sep and os.path.exists(path) else spec
