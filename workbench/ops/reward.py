"""Reward-model scores: any Hugging Face sequence-classification reward model directory.

    workbench score data.jsonl --reward-model ./Skywork-Reward-V2-Qwen3-0.6B

Each row's conversation (prompt turns and answer; the chosen side of a preference pair, and
the rejected side as `reward.rejected` with the `reward.margin` between them) is rendered by
the model's own chat template when its tokenizer has one (as TRL's reward trainer and the
RewardBench scripts feed reward models), else as "role: content" lines; truncated to
`max_length` tokens, scored in batches on a GPU when torch sees one, else on the CPU. The
score is the model's single logit (num_labels == 1), or the last label's logit minus the
first's for a two-label classifier. Signal `reward.score`. Loaded from the directory only
(local_files_only): nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.data.record import Record
from workbench.ops.base import Context, Operation, ParamError, Params, Result, param, records_of

OP = "score"


def _turns(rec: Record, side: str) -> list[dict] | None:
    msgs = [{"role": t["role"], "content": t.get("content") or ""} for t in rec.get("messages") or []]
    if rec.get("system"):
        msgs.insert(0, {"role": "system", "content": rec["system"]})
    if rec.get("kind") == "preference" or side == "rejected":
        cont = rec.get(side)
        if not cont:
            return None
        msgs += [{"role": t["role"], "content": t.get("content") or ""} for t in cont]
    return msgs if any(m["role"] == "assistant" for m in msgs) else None


def render(tokenizer, msgs: list[dict]) -> str:
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(msgs, tokenize=False)
    return "\n".join(f"{m['role']}: {m['content']}" for m in msgs)


class RewardModel:
    """A loaded reward model: `scores(texts)` -> one float per text."""

    def __init__(self, path: str, max_length: int = 2048):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.torch = torch
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token or self.tokenizer.unk_token
        self.model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True).to(self.device)
        self.model.eval()
        if self.model.config.pad_token_id is None:
            self.model.config.pad_token_id = self.tokenizer.pad_token_id
        self.max_length = max_length

    def scores(self, texts: list[str]) -> list[float]:
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, truncation=True,
                             max_length=self.max_length).to(self.device)
        with self.torch.inference_mode():
            logits = self.model(**enc).logits.float()
        out = logits[:, 0] if logits.shape[1] == 1 else logits[:, -1] - logits[:, 0]
        return out.cpu().tolist()


@dataclass
class ScoreParams(Params):
    reward_model: str | None = param(None, help="a Hugging Face sequence-classification reward model directory")
    batch_size: int = param(8, help="rows per forward pass")
    max_length: int = param(2048, help="tokens per row (longer rows are truncated)")

    def validate(self) -> None:
        super().validate()
        if not self.reward_model:
            raise ParamError("reward_model is required: a local model directory (--reward-model DIR)")
        if self.batch_size < 1:
            raise ParamError("batch_size must be at least 1")


class Score(Operation):
    name = OP
    Params = ScoreParams
    scope = "batch"

    def run(self, ds, params: ScoreParams, ctx: Context, rows=None) -> Result:
        from pathlib import Path

        if not Path(params.reward_model).is_dir():
            raise ValueError(f"reward model: {params.reward_model} is not a directory")
        ctx.say("loading the reward model")
        rm = RewardModel(params.reward_model, params.max_length)
        items, errors = [], {}  # (row id, side, text)
        for batch in records_of(ds, rows):
            for rec in batch:
                chosen = _turns(rec, "chosen")
                if chosen is None:
                    errors[rec["id"]] = "no answer to score (no assistant turn)"
                    continue
                items.append((rec["id"], "score", render(rm.tokenizer, chosen)))
                rejected = _turns(rec, "rejected") if rec.get("kind") == "preference" else None
                if rejected is not None:
                    items.append((rec["id"], "rejected", render(rm.tokenizer, rejected)))
        values: dict[tuple[str, str], float] = {}
        for start in range(0, len(items), params.batch_size):
            ctx.check()
            chunk = items[start:start + params.batch_size]
            for (rid, side, _), s in zip(chunk, rm.scores([t for _, _, t in chunk])):
                values[(rid, side)] = s
            ctx.report(min(start + params.batch_size, len(items)), len(items))
        signals = [(rid, f"reward.{side}", v) for (rid, side), v in values.items()]
        signals += [(rid, "reward.margin", v - values[(rid, "rejected")]) for (rid, side), v in values.items()
                    if side == "score" and (rid, "rejected") in values]
        scored = sum(1 for _, side in values if side == "score")
        return Result(OP, params.to_dict(), signals=signals, errors=errors,
                      report={"op": OP, "rows": scored + len(errors), "scored": scored, "errors": errors,
                              "device": rm.device},
                      summary=f"scored {scored} rows with {Path(params.reward_model).name} on {rm.device}; "
                              f"{len(errors)} without an answer")
