"""The template-lint operation: the rows a chat template rejects or mangles (and, with
max_len, the rows it would truncate), as `template_issues` signals. The kernel is
workbench.templates.lint; `workbench template lint` prints its report."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.ops.base import Context, Operation, Params, ParamError, Result, param, records_of


@dataclass
class TemplateLintParams(Params):
    template: str = param("", help="template name (see `workbench template list`), tokenizer:DIR, jinja:FILE")
    max_len: int | None = param(None, help="flag rows over this many tokens")
    tokenizer: str | None = param(None, help="smollm2 (default for built-ins) or a tokenizer directory")

    def validate(self) -> None:
        super().validate()
        if not self.template:
            raise ParamError("template is required (e.g. chatml)")


class TemplateLint(Operation):
    name = "template-lint"
    Params = TemplateLintParams
    scope = "row"

    def run(self, ds, params: TemplateLintParams, ctx: Context, rows: list[str] | None = None) -> Result:
        from workbench.templates.lint import format_report, lint_records

        total = len(ds) if rows is None else len(rows)

        def numbered():
            i = 0
            for batch in records_of(ds, rows):
                ctx.check()
                for rec in batch:
                    yield i, rec
                    i += 1

        report = lint_records(numbered(), params.template, max_len=params.max_len, tokenizer=params.tokenizer,
                              total=total, progress=ctx.report)
        codes: dict[str, list[str]] = {}
        for issue in report.issues:
            codes.setdefault(issue.id, [])
            if issue.code not in codes[issue.id]:
                codes[issue.id].append(issue.code)
        return Result(self.name, params.to_dict(), signals=[(rid, "template_issues", c) for rid, c in codes.items()],
                      report=report.to_dict(), summary=format_report(report).splitlines()[0])
