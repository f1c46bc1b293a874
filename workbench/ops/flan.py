"""FLAN-style prompt mixing: re-render single-turn instruction rows through a set of
instruction templates, as zero-shot, few-shot (exemplars drawn from the same task) and
chain-of-thought prompts at chosen ratios (Longpre et al. 2023, "The Flan Collection": mixing
prompt forms is what made instruction tuning generalise across them).

A template is text with `{instruction}` where the row's instruction goes (and optionally
`{answer}` for exemplars: a few-shot prompt shows each exemplar as its filled template followed
by its answer). Chain-of-thought asks for the reasoning the row already holds: a row whose
answer turn has no reasoning (a `reasoning` field or a leading <think> block) cannot take that form and is rendered zero-shot (the report
counts how many). Each new row keeps its parent, form, template and exemplars in
`meta.provenance`, and goes to the Gen pane for review like generated rows.
"""

from __future__ import annotations

import copy
import json
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from workbench.data.record import split_inline_reasoning
from workbench.ops.base import Context, Operation, ParamError, Params, Result, param, records_of

FORMS = ("zero-shot", "few-shot", "cot")
# A small varied set in the spirit of the Flan templates; --templates FILE replaces it.
TEMPLATES = (
    "{instruction}",
    "Instruction: {instruction}\nResponse:",
    "Q: {instruction}\nA:",
    "Answer the following.\n\n{instruction}",
    "{instruction}\n\nWrite your answer below.",
    "Task: {instruction}",
    "Here is a request. Respond to it.\n\n{instruction}",
    "Please help with this: {instruction}",
)
COT_TRIGGER = "Let's think step by step."


@dataclass
class FlanParams(Params):
    zero_shot: float = param(0.5, help="share of rows rendered zero-shot")
    few_shot: float = param(0.3, help="share of rows rendered few-shot")
    cot: float = param(0.2, help="share of rows rendered with chain-of-thought")
    shots: int = param(2, help="exemplars in a few-shot prompt")
    task: str = param("source", help="what makes two rows the same task: 'source' or a row field (e.g. category)")
    templates: str | None = param(None, help="a JSON file: a list of template strings with {instruction}")
    seed: int = param(0, help="seed for forms, templates and exemplars")

    def validate(self) -> None:
        super().validate()
        shares = (self.zero_shot, self.few_shot, self.cot)
        if any(s < 0 for s in shares) or sum(shares) <= 0:
            raise ParamError("zero_shot, few_shot and cot are shares of at least 0, not all 0")
        if self.shots < 1:
            raise ParamError(f"shots must be at least 1, not {self.shots}")


def load_templates(path: str | None) -> list[str]:
    """The templates of a JSON file (a list of strings, each with {instruction}), or the
    built-in set. Raises ParamError naming the file and the bad entry."""
    if path is None:
        return list(TEMPLATES)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise ParamError(f"{path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise ParamError(f"{path}:{e.lineno}: not JSON ({e.msg})") from None
    if not isinstance(data, list) or not data:
        raise ParamError(f"{path}: expected a JSON list of template strings")
    for i, t in enumerate(data):
        if not isinstance(t, str) or "{instruction}" not in t:
            raise ParamError(f"{path}: template {i} must be a string holding {{instruction}}")
    return data


def _single_turn(rec: dict) -> tuple[str, dict] | None:
    """(instruction, answer turn) of a one-question, one-answer SFT row with text content."""
    turns = rec.get("messages") or []
    if rec["kind"] != "sft" or [t.get("role") for t in turns] != ["user", "assistant"]:
        return None
    if not all(isinstance(t.get("content"), str) for t in turns):
        return None
    return turns[0]["content"], turns[1]


def _fill(template: str, instruction: str) -> str:
    return template.replace("{instruction}", instruction).replace("{answer}", "").rstrip()


class Flan(Operation):
    name = "flan"
    Params = FlanParams
    scope = "dataset"
    review = True

    def run(self, ds, params: FlanParams, ctx: Context, rows: list[str] | None = None) -> Result:
        from workbench.ops.generation.common import provenance

        templates = load_templates(params.templates)
        rng = random.Random(params.seed)
        pool: list[dict] = []
        by_task: dict[str, list[int]] = defaultdict(list)
        skipped = 0
        for batch in records_of(ds, rows):
            ctx.check()
            for rec in batch:
                if _single_turn(rec) is None:
                    skipped += 1
                    continue
                by_task[_task(rec, params.task)].append(len(pool))
                pool.append(rec)
        weights = [params.zero_shot, params.few_shot, params.cot]
        result = Result(self.name, params.to_dict())
        forms: dict[str, int] = defaultdict(int)
        no_reasoning = no_exemplars = 0
        for i, rec in enumerate(pool):
            ctx.check()
            instruction, answer = _single_turn(rec)
            form = rng.choices(FORMS, weights)[0]
            template = rng.randrange(len(templates))
            answer_text, reasoning = answer.get("content") or "", answer.get("reasoning")
            if reasoning is None:  # reasoning written inside the answer (<think>…</think>answer)
                answer_text, reasoning = split_inline_reasoning(answer_text)
            if form == "cot" and not reasoning:
                form, no_reasoning = "zero-shot", no_reasoning + 1
            shots: list[int] = []
            if form == "few-shot":
                others = [j for j in by_task[_task(rec, params.task)] if j != i]
                if not others:
                    form, no_exemplars = "zero-shot", no_exemplars + 1
                else:
                    shots = rng.sample(others, min(params.shots, len(others)))
            prompt = _fill(templates[template], instruction)
            new_answer = copy.deepcopy(answer)
            if form == "few-shot":
                shown = []
                for j in shots:
                    q, a = _single_turn(pool[j])
                    shown.append(f"{_fill(templates[template], q)}\n{a['content']}")
                prompt = "\n\n".join(shown + [prompt])
            elif form == "cot":
                prompt = f"{prompt}\n{COT_TRIGGER}"
                new_answer["content"] = f"{reasoning}\n\n{answer_text}"
                new_answer.pop("reasoning", None)
            out = provenance(rec, self.name, "templates", form=form, template=template,
                             exemplars=[pool[j]["id"] for j in shots])
            out["messages"] = [{**rec["messages"][0], "content": prompt}, new_answer]
            result.rows.append(out)
            forms[form] += 1
            ctx.report(i + 1, len(pool))
        result.report = {"rows": len(pool) + skipped, "rendered": len(pool), "skipped_not_single_turn": skipped,
                         "forms": dict(forms), "cot_without_reasoning": no_reasoning,
                         "few_shot_without_exemplars": no_exemplars, "templates": len(templates)}
        result.summary = (f"{len(pool)} rows re-rendered: " + ", ".join(f"{n} {f}" for f, n in sorted(forms.items()))
                          + (f"; {skipped} skipped (not one question and one answer)" if skipped else ""))
        return result


def _task(rec: dict, task: str) -> str:
    if task == "source":
        return rec.get("source") or ""
    return str((rec.get("meta") or {}).get(task, ""))
