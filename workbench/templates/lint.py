"""Template lint: the rows a chat template refuses or silently mangles, before a fine-tune trains on them.

Per row (each side of a preference row), in words a person can act on:
    rejected           the template raised (roles that do not alternate, a role it has no place for)
    error              the template failed otherwise (undefined field, time limit, sandbox)
    dropped_system     the system prompt is not in the rendering (the template has nowhere for it)
    dropped_content    a turn's text is not in the rendering (e.g. a tool turn the template skips)
    dropped_reasoning  reasoning the row holds apart from the answer (a reasoning_content field, reasoning
                       parts; or, with split_reasoning, a leading <think> block) is not in the rendering
    dropped_tool_call  an assistant tool call is not in the rendering
    empty_assistant    an assistant turn with no text and no tool call
    nothing_trained    the mask trains no character (e.g. the conversation ends with the user)
    over_max_len       more tokens than --max-len (truncation would cut it)
    degenerate_pair    chosen identical to rejected, or one side a prefix of the other
    turn_order         roles that do not alternate user/assistant (an answer first, two answers in a row, ...):
                       LLaMA-Factory's converters skip such rows ("Invalid role tag"); templates that insist
                       on alternation reject them; the others render them as given (masks stay exact)

With a workspace, every row gets the signals `template_issues` (list of codes) and, when
tokens are counted, `template_tokens`, under one run of the operation `template_lint`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable

from workbench.data.record import Record, alternation_problem, degenerate_pair
from workbench.templates.registry import Template, get_template
from workbench.templates.render import Rendering, check_policy, render_many
from workbench.templates.tokens import TextTokenizer, load_tokenizer, tokenize

CODES = ("rejected", "error", "dropped_system", "dropped_content", "dropped_reasoning", "dropped_tool_call",
         "empty_assistant", "nothing_trained", "over_max_len", "degenerate_pair", "turn_order")
OP = "template_lint"


@dataclass
class Issue:
    row: int  # 0-based index in the dataset
    id: str
    side: str
    code: str
    message: str


@dataclass
class LintReport:
    template: str
    rows: int = 0
    rows_with_issues: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # code -> rows
    issues: list[Issue] = field(default_factory=list)
    max_len: int | None = None
    tokens_max: int | None = None
    tokens_total: int = 0
    run_id: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def check_rendering(r: Rendering, *, record_system: str | None = None) -> list[tuple[str, str]]:
    """(code, message) for what went wrong in one rendering."""
    if r.error:
        return [("rejected" if r.error_kind == "rejected" else "error", r.error)]
    out: list[tuple[str, str]] = []
    text = r.text
    for k, m in enumerate(r.messages):
        role = m.get("role")
        content = m.get("content")
        content = content.strip() if isinstance(content, str) else ""
        if content and content not in text:
            if role == "system" and k == 0 and record_system is not None:
                out.append(("dropped_system", "the system prompt is not in the rendering"))
            else:
                out.append(("dropped_content", f"turn {k} ({role}): its text is not in the rendering"))
        reasoning = m.get("reasoning_content")
        if isinstance(reasoning, str) and reasoning.strip() and reasoning.strip() not in text:
            out.append(("dropped_reasoning", f"turn {k} ({role}): its reasoning is not in the rendering"))
        for call in m.get("tool_calls") or ():
            name = (call.get("function") or call).get("name")
            if name and name not in text:
                out.append(("dropped_tool_call", f"turn {k}: the call to {name} is not in the rendering"))
        if role == "assistant" and not content and not m.get("tool_calls"):
            out.append(("empty_assistant", f"turn {k}: an empty assistant turn"))
    if r.side != "text" and not any(t for _, _, t in r.spans):
        out.append(("nothing_trained", "no character is trained (does the conversation end with an answer?)"))
    return out


def _row_checks(rec: Record) -> list[tuple[str, str, str]]:
    """(code, message, side) for what is wrong with the row itself, whatever the template."""
    out = []
    problem = degenerate_pair(rec)
    if problem:
        out.append(("degenerate_pair", problem, "pair"))
    if rec.get("kind") != "text":
        problem = alternation_problem(rec)
        if problem:
            out.append(("turn_order", f"{problem}: LLaMA-Factory skips rows whose roles do not alternate "
                                      "user/assistant", "conversation"))
    return out


def rendering_notes(r: Rendering, *, record_system: str | None = None) -> list[str]:
    """What a preview should say next to one rendering: its warnings, then what lint would
    flag in it (a dropped tool call or reasoning, ...). A failed rendering shows its error instead."""
    if r.error:
        return list(r.warnings)
    return list(r.warnings) + [f"{code}: {msg}" for code, msg in check_rendering(r, record_system=record_system)]


def lint_records(
    records: Iterable[tuple[int, Record]],
    template: str | Template,
    *,
    max_len: int | None = None,
    tokenizer: TextTokenizer | str | None = None,
    count_tokens: bool | None = None,
    mask_policy: str = "assistant",
    split_reasoning: bool = False,
    ws=None,
    total: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> LintReport:
    """Lint (index, record) pairs. Tokens are counted when max_len or a tokenizer is given.

    `mask_policy` is the render's (see render.py): it decides what `nothing_trained` and the trained
    token counts mean. Raises ValueError for a policy the template cannot serve or a tokenizer that
    cannot be loaded, before any row is read.
    """
    tpl = get_template(template)
    check_policy(tpl, mask_policy)
    count_tokens = (max_len is not None or tokenizer is not None) if count_tokens is None else count_tokens
    tok = None
    if count_tokens:
        tok = tokenizer if isinstance(tokenizer, TextTokenizer) else load_tokenizer(tokenizer or tpl.tokenizer)
    report = LintReport(template=tpl.name, max_len=max_len)
    rows_by_code: Counter = Counter()
    params = {"template": tpl.name, "max_len": max_len}
    if mask_policy != "assistant":
        params["policy"] = mask_policy
    if split_reasoning:
        params["split_reasoning"] = True
    run_id = ws.start_run(OP, params) if ws is not None else None
    signals: list[tuple[str, str, object]] = []
    try:
        for (i, rec), sides in render_many(records, tpl, record_of=lambda pair: pair[1], mask_policy=mask_policy,
                                              split_reasoning=split_reasoning):
            codes = []
            longest = None
            for r in sides:
                found = check_rendering(r, record_system=rec.get("system"))
                if tok is not None and r.ok:
                    n = tokenize(r, tok, max_len=max_len)
                    longest = max(longest or 0, n.total)
                    if n.over:
                        found.append(("over_max_len", f"{n.total} tokens > {max_len}; truncation cuts at character "
                                      f"{n.truncated_at} and drops {n.trained_lost} trained tokens"))
                for code, msg in found:
                    report.issues.append(Issue(i, rec["id"], r.side, code, msg))
                    codes.append(code)
            for code, msg, side in _row_checks(rec):
                report.issues.append(Issue(i, rec["id"], side, code, msg))
                codes.append(code)
            codes = list(dict.fromkeys(codes))
            report.rows += 1
            rows_by_code.update(codes)
            report.rows_with_issues += bool(codes)
            if longest is not None:
                report.tokens_total += longest
                report.tokens_max = max(report.tokens_max or 0, longest)
            if ws is not None:
                signals.append((rec["id"], "template_issues", codes))
                if longest is not None:
                    signals.append((rec["id"], "template_tokens", longest))
                if len(signals) >= 2000:
                    ws.add_signals(run_id, signals)
                    signals = []
            if progress and report.rows % 256 == 0:
                progress(report.rows, total)
        if ws is not None:
            ws.add_signals(run_id, signals)
            ws.finish_run(run_id, "done", {"rows": report.rows, "rows_with_issues": report.rows_with_issues,
                                           **dict(rows_by_code)})
    except BaseException:
        if ws is not None:
            ws.finish_run(run_id, "failed", {"rows": report.rows})
        raise
    if progress:
        progress(report.rows, total)
    report.counts = {c: rows_by_code[c] for c in CODES if rows_by_code[c]}
    report.run_id = run_id
    return report


def lint_dataset(ds, template: str | Template, **kw) -> LintReport:
    """Lint every row of a Dataset (streamed in batches)."""

    def rows():
        i = 0
        for batch in ds.iter_batches(1024):
            for rec in batch:
                yield i, rec
                i += 1

    return lint_records(rows(), template, total=len(ds), **kw)


def format_report(report: LintReport, limit: int = 20) -> str:
    """The report for a terminal: counts per issue, then the first rows with issues."""
    lines = [f"template {report.template}: {report.rows} rows, {report.rows_with_issues} with issues"]
    if report.tokens_max is not None and report.rows:
        lines.append(f"tokens: max {report.tokens_max}, mean {report.tokens_total / report.rows:.1f}"
                     + (f", limit {report.max_len}" if report.max_len else ""))
    for code, n in report.counts.items():
        lines.append(f"  {code:<18} {n} rows")
    if report.issues:
        lines.append("")
    for issue in report.issues[:limit]:
        side = "" if issue.side == "conversation" else f" [{issue.side}]"
        lines.append(f"row {issue.row} ({issue.id}){side}: {issue.code}: {issue.message}")
    if len(report.issues) > limit:
        lines.append(f"... and {len(report.issues) - limit} more (use --json for all)")
    return "\n".join(lines)


def report_json(report: LintReport) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False)
