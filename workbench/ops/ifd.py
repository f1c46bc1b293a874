"""Cheap scores from the local model, no judge: the answer's mean log-probability and its
instruction-following difficulty (IFD; Li et al., 2024, "From Quantity to Quality").

For each row (last user turn = instruction, the answer after it):
- `ifd.logprob`: mean log-probability per answer token given the instruction, the pair
  rendered by the model's chat template (higher: the model finds the answer natural);
- `ifd.score`: IFD = PPL(answer | instruction) / PPL(answer alone) = exp(loss_cond -
  loss_alone). Near or above 1: the instruction does not help predict the answer (hard to
  follow, or the answer ignores it); well below 1: the answer follows from the instruction.
The model is the embedded SmolLM2-135M-Instruct (workbench.llm.local), on the CPU, rows one
at a time (exact losses, no padding), answers truncated to `max_tokens`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from workbench.ops.base import Context, Operation, ParamError, Params, Result, param, records_of
from workbench.ops.generation.common import GenerationError, answer, instruction

OP = "score-ifd"


def answer_loss(lm, context_ids: list[int], answer_ids: list[int]) -> float:
    """Mean negative log-likelihood (nats per token) of `answer_ids` after `context_ids`."""
    torch = lm.torch
    ids = torch.tensor([context_ids + answer_ids])
    with lm._gen_lock, torch.inference_mode():
        logits = lm.model(input_ids=ids).logits[0, len(context_ids) - 1:-1].float()
    return float(torch.nn.functional.cross_entropy(logits, torch.tensor(answer_ids)))


def ifd_scores(lm, task: str, reply: str, max_tokens: int) -> dict:
    tok = lm.tokenizer
    prompt = tok.apply_chat_template([{"role": "user", "content": task}], add_generation_prompt=True, tokenize=False)
    ctx_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    ans_ids = tok(reply, add_special_tokens=False)["input_ids"][:max_tokens]
    if not ans_ids:
        raise GenerationError("empty answer")
    start = [tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id]
    cond, alone = answer_loss(lm, ctx_ids, ans_ids), answer_loss(lm, start, ans_ids)
    return {"logprob": -cond, "score": math.exp(cond - alone)}


@dataclass
class IfdParams(Params):
    max_tokens: int = param(512, help="answer tokens scored (longer answers are truncated)")

    def validate(self) -> None:
        super().validate()
        if self.max_tokens < 1:
            raise ParamError("max_tokens must be at least 1")


class ScoreIfd(Operation):
    name = OP
    Params = IfdParams
    scope = "row"

    def run(self, ds, params: IfdParams, ctx: Context, rows=None) -> Result:
        from workbench.llm.local import LocalModel

        ctx.say("loading the local model")
        lm = LocalModel.get()
        signals, errors, done = [], {}, 0
        for batch in records_of(ds, rows):
            for rec in batch:
                ctx.check()
                try:
                    s = ifd_scores(lm, instruction(rec), answer(rec), params.max_tokens)
                except GenerationError as e:
                    errors[rec["id"]] = str(e)
                    continue
                signals += [(rec["id"], f"ifd.{k}", float(f"{v:.6g}")) for k, v in s.items()]
                done += 1
                ctx.report(done + len(errors))
        return Result(OP, params.to_dict(), signals=signals, errors=errors,
                      report={"op": OP, "rows": done + len(errors), "scored": done, "errors": errors},
                      summary=f"scored {done} rows with the local model (ifd.logprob, ifd.score); {len(errors)} failed")
