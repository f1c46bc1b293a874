"""LLM-as-judge, UltraFeedback style (Cui et al., 2023): a 1-5 rating with a rationale per
chosen aspect (helpfulness, honesty, instruction_following, truthfulness, overall), or per a
custom rubric read from a file (`--rubric FILE`: its text is the rubric, its file name the aspect).

One call per row and aspect, greedy. Where the provider supports structured output (an
OpenAI-compatible server, or a litellm model with `supports_response_schema`), the request
carries a JSON schema (`response_format`) and the prompt asks for JSON; otherwise the prompt
asks for `Rating: N` and the tolerant parser (workbench.ops.generation.verdicts) reads the
verdict. A missing, non-numeric or out-of-range rating is an error on that row with the reply
quoted — never a silent null, and a bad reply never stops the batch. Ratings become signals
`judge.<aspect>` and their mean `judge.score`; rationales go in `judge.rationale` ({aspect: text}).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from workbench.data.record import Record
from workbench.llm.prompts import JUDGE_RUBRICS, render
from workbench.ops.base import ParamError, Result, param
from workbench.ops.generation.common import (
    GenerationError, LLMOperation, LLMParams, answer, errors_of, instruction, rows_with_turns, run_rows,
)
from workbench.ops.generation.verdicts import parse_rating

OP = "judge"
ASPECTS = ("helpfulness", "honesty", "instruction_following", "truthfulness", "overall")
DEFAULT_ASPECTS = ASPECTS[:4]
STRUCTURED = ("auto", "on", "off")


def rating_schema(high: int = 5) -> dict:
    """The JSON-schema `response_format` of a rationale and a whole rating 1..`high`."""
    return {"type": "json_schema", "json_schema": {"name": "judge_rating", "strict": True, "schema": {
        "type": "object", "additionalProperties": False, "required": ["rationale", "rating"],
        "properties": {"rationale": {"type": "string"},
                       "rating": {"type": "integer", "enum": list(range(1, high + 1))}}}}}


RATING_SCHEMA = rating_schema(5)


def supports_schema(client) -> bool:
    """Whether `client`'s provider takes a JSON-schema `response_format`: OpenAI-compatible
    servers (vLLM, llama.cpp, SGLang... enforce it by guided decoding) and the litellm models
    its capability table marks; never the embedded local model."""
    if client.route == "http":
        return True
    if client.route == "litellm":
        from workbench.llm.client import litellm_future

        try:
            return bool(litellm_future().result().supports_response_schema(model=client.model))
        except Exception:  # noqa: BLE001 - a model litellm does not know: ask in plain text
            return False
    return False


METHODS = ("auto", "generate", "probabilities")


def reads_probabilities(client, method: str) -> bool:
    """Whether ratings are read from token probabilities (`method` probabilities, or auto on the
    embedded local model, which rarely writes a well-formed rating line) rather than parsed from
    the written reply. ValueError for probabilities on a remote model (no logits to read)."""
    if method == "probabilities" and not client.is_local:
        raise ValueError("method probabilities reads token probabilities of the embedded local model only "
                         f"(model local/smollm2), not {client.model}")
    return client.is_local and method != "generate"


def expected_rating(messages: list[dict], *, high: int = 5, cancel=None) -> tuple[float, str]:
    """(Σ k·p(k) over k = 1..`high`, the probabilities as text) of the local model's next token
    after "Rating: ": how DEITA's scorers read a score (Liu et al. 2024), never unparsable.
    Cancelled once `cancel` (an Event) is set, before the model's next forward pass."""
    from workbench.llm.local import LocalModel

    probs = LocalModel.get().choice_probabilities(messages, "Rating: ", [str(k) for k in range(1, high + 1)],
                                                  cancel=cancel)
    score = sum(k * p for k, p in enumerate(probs, 1))
    return round(score, 4), f"p(1..{high}) = " + " ".join(f"{p:.2f}" for p in probs)


def use_structured(client, mode: str) -> bool:
    return mode == "on" or (mode == "auto" and supports_schema(client))


def read_rubric(path: str) -> tuple[str, str]:
    """(aspect, rubric text) of a rubric file: the aspect is the file's stem."""
    text = Path(path).read_text(encoding="utf-8").strip()
    if not text:
        raise ParamError(f"rubric: {path} is empty")
    return Path(path).stem.replace("-", "_").replace(" ", "_"), text


def judge_messages(aspect: str, task: str, response: str, overrides: dict | None = None, *,
                   rubric: str | None = None, structured: bool = False) -> list[dict]:
    rubric = rubric or JUDGE_RUBRICS.get(aspect, f"1 = very poor {aspect}; 5 = excellent {aspect}.")
    return [{"role": "user", "content": render("judge", overrides, aspect=aspect.replace("_", " "), rubric=rubric,
                                               instruction=task, response=response, structured=structured)}]


def rate(client, aspect: str, task: str, response: str, overrides: dict | None = None, *,
         rubric: str | None = None, structured: bool = False) -> tuple[float, str]:
    """One aspect's rating of one response."""
    return ask_rating(client, judge_messages(aspect, task, response, overrides, rubric=rubric,
                                             structured=structured), structured=structured)


def ask_rating(client, messages: list[dict], *, high: int = 5, structured: bool = False) -> tuple[float, str]:
    """(rating 1..`high`, rationale) of the judge's reply to `messages`; VerdictError when the
    reply has no usable rating (such a reply is not cached). Greedy decoding: a judge should
    be repeatable."""
    fmt = {"response_format": rating_schema(high)} if structured else {}
    out = client.complete(messages, temperature=0.0, n=1, validate=lambda t: parse_rating(t, 1, high), **fmt)
    return parse_rating(out["text"], 1, high)


def rating_summary(result: Result, verb: str, names: Sequence[str], width: int) -> str:
    """What a rating command prints: rows rated and failed, mean/min/max of each signal in
    `names` over the rated rows, the first 20 errors."""
    rated = {r["id"] for r in result.rows}
    lines = [f"{verb} {len(rated)} of {len(rated) + len(result.errors)} rows with {result.params['model']} "
             f"(job {result.job_id}); {len(result.errors)} failed"]
    for n in names:
        vals = [v for rid, name, v in result.signals if name == n and rid in rated]
        if vals:
            lines.append(f"  {n:<{width}} mean {sum(vals) / len(vals):.2f}  min {min(vals):g}  max {max(vals):g}")
    lines += [f"  error {rid}: {why}" for rid, why in list(result.errors.items())[:20]]
    return "\n".join(lines)


def judge(records: Sequence[Record], client, ws, *, aspects: Sequence[str] = DEFAULT_ASPECTS,
          rubrics: dict[str, str] | None = None, structured: str = "auto", method: str = "auto",
          concurrency: int = 4, on_event=None, cancel=None, overrides: dict | None = None) -> Result:
    """Rate every row's answer: `judge.<aspect>`, `judge.score` and `judge.rationale` signals;
    `rows` holds the input rows that were rated (they are not new rows). `rubrics` maps an
    aspect to its own rubric text (a custom rubric). `method`: see reads_probabilities."""
    aspects = [a.strip() for a in aspects if a.strip()]
    if not aspects:
        raise ValueError("judge needs at least one aspect")
    rubrics = dict(rubrics or {})
    by_probs = reads_probabilities(client, method)
    as_json = not by_probs and use_structured(client, structured)

    def run(payload: dict) -> dict:
        ratings, rationales = {}, {}
        for a in aspects:
            if by_probs:
                ratings[a], rationales[a] = expected_rating(judge_messages(
                    a, payload["instruction"], payload["answer"], overrides, rubric=rubrics.get(a)), cancel=cancel)
                continue
            try:
                ratings[a], rationales[a] = rate(client, a, payload["instruction"], payload["answer"], overrides,
                                                 rubric=rubrics.get(a), structured=as_json)
            except GenerationError as e:
                raise GenerationError(f"{a}: {e}") from None
        return {"ratings": ratings, "rationales": rationales, "score": sum(ratings.values()) / len(ratings)}

    usable, errors = rows_with_turns(records, need_answer=True)
    items = [(r["id"], {"instruction": instruction(r), "answer": answer(r)}) for r in usable]
    job = run_rows(ws, OP, items, run, params={"model": client.describe(), "aspects": aspects, "rubrics": rubrics,
                                                "structured": as_json, "probabilities": by_probs,
                                                "overrides": overrides or {}},
                   concurrency=concurrency, on_event=on_event, cancel=cancel)
    errors.update(errors_of(job, [rid for rid, _ in items]))
    signals = []
    for rid, res in job.results.items():
        signals += [(rid, f"judge.{a}", v) for a, v in res["ratings"].items()]
        signals += [(rid, "judge.score", res["score"]), (rid, "judge.rationale", res["rationales"])]
    rows = [r for r in usable if r["id"] in job.results]
    return Result(OP, {}, signals=signals, rows=rows, errors=errors, job_id=job.job_id, status=job.status,
                  usage=dict(client.usage), counts={"judged": len(rows)},
                  report={"structured": as_json, "probabilities": by_probs})


@dataclass
class JudgeParams(LLMParams):
    aspects: list[str] = param(factory=lambda: list(DEFAULT_ASPECTS),
                               help=f"comma-separated aspects, of {', '.join(ASPECTS)}")
    rubric: str | None = param(None, help="a custom rubric file (text); replaces the aspects, named by the file's stem")
    structured: str = param("auto", choices=STRUCTURED,
                            help="JSON-schema output: auto (where the provider supports it), on, off")
    method: str = param("auto", choices=METHODS,
                        help="generate: parse the written rating; probabilities: expected rating from the local "
                             "model's token probabilities; auto: probabilities on local/smollm2")

    def validate(self) -> None:
        super().validate()
        if self.rubric is not None:
            try:
                read_rubric(self.rubric)
            except OSError as e:
                raise ParamError(f"rubric: cannot read {self.rubric}: {e.strerror}") from None

    def aspects_and_rubrics(self) -> tuple[list[str], dict[str, str]]:
        if self.rubric is None:
            return list(self.aspects), {}
        aspect, text = read_rubric(self.rubric)
        return [aspect], {aspect: text}


class Judge(LLMOperation):
    name = "judge"
    Params = JudgeParams
    version = "3"  # the local model's ratings read from token probabilities

    def describe(self, result) -> str:
        aspects = sorted({name for _, name, _ in result.signals
                          if name.startswith("judge.") and name not in ("judge.score", "judge.rationale")})
        return rating_summary(result, "judged", aspects, width=30)

    def generate(self, records, client, ws, params, overrides, ctx):
        aspects, rubrics = params.aspects_and_rubrics()
        return judge(records, client, ws, aspects=aspects, rubrics=rubrics, structured=params.structured,
                     method=params.method, concurrency=params.concurrency, on_event=ctx.on_event, cancel=ctx.cancel, overrides=overrides)
