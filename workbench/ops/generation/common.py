"""What the generation operations share: running a job, building output rows, text checks.

Every operation follows one shape. A per-row function calls the LLM and returns a JSON-able
result; `run_rows` runs it as a job (checkpointed and resumable, see workbench.store.jobs);
then the operation turns each result into an output record: a copy of the input row with the
generated content and a `meta["provenance"]` entry (operation, model, parent row), so that
writers export it as a field. Rows whose function raised are reported, never dropped silently.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from workbench.data.record import Record
from workbench.ops.base import Context, Operation, Params, ParamError, Result, param, records_of


class GenerationError(Exception):
    """A row whose generation was rejected (refusal, unparsable output, failed check...)."""


def run_rows(ws, name: str, items: Sequence[tuple[str, Any]], fn: Callable[[Any], Any], *, params: dict,
             concurrency: int = 4, on_event=None, cancel: threading.Event | None = None):
    """Run `fn` over `(row_id, payload)` items as a resumable job; returns the JobResult.

    The job's identity includes a digest of the payloads, so an unfinished job resumes only
    over the same inputs: editing the dataset never brings back results for old content.
    """
    from workbench.store.jobs import run_job

    digest = hashlib.sha256(json.dumps(list(items), sort_keys=True, default=str).encode()).hexdigest()
    return run_job(ws, name, items, fn, params={**params, "inputs": digest}, concurrency=concurrency, on_event=on_event, cancel=cancel)


def answer_tasks(ws, name: str, items: Sequence[tuple[str, str]], client, overrides: dict | None, *, params: dict,
                 **job):
    """Answer (row id, task) items with the `answer` prompt as a resumable job; each result is
    {"answer"}, a reply failing `usable_answer` an error of its row."""
    from workbench.llm.prompts import render

    def answer(task: str) -> dict:
        out = client.complete([{"role": "user", "content": render("answer", overrides, instruction=task)}],
                              validate=usable_answer)
        return {"answer": usable_answer(out["text"])}

    return run_rows(ws, name, items, answer, params=params, **job)


def errors_of(job, ids: Iterable[str]) -> dict[str, str]:
    """Every row id that has no result, with its error (a cancelled job's unstarted rows too)."""
    out = {}
    for rid in ids:
        if rid not in job.results:
            out[rid] = job.errors.get(rid, "not run (job cancelled)")
    return out


def provenance(rec: Record, op: str, model: str, **extra) -> Record:
    """A deep copy of `rec` carrying `meta.provenance` = {operation, model, parent, ...}."""
    out = copy.deepcopy(rec)
    out["meta"] = dict(out.get("meta") or {})
    out["meta"]["provenance"] = {"operation": op, "model": model, "parent": rec["id"], **extra}
    return out


def last_user_index(rec: Record) -> int:
    msgs = rec.get("messages") or []
    for i in range(len(msgs) - 1, -1, -1):
        if msgs[i].get("role") == "user":
            return i
    raise GenerationError("row has no user turn to work from")


def prompt_turns(rec: Record) -> list[dict]:
    """The conversation up to and including the last user turn (system prompt first)."""
    i = last_user_index(rec)
    turns = [{"role": t["role"], "content": t.get("content") or ""} for t in rec["messages"][: i + 1]]
    if rec.get("system"):
        turns.insert(0, {"role": "system", "content": rec["system"]})
    return turns


def instruction(rec: Record) -> str:
    """The last user turn's text: what most operations rewrite or answer."""
    return rec["messages"][last_user_index(rec)].get("content") or ""


def answer(rec: Record) -> str:
    """The response to judge or rewrite: the chosen continuation, else the last assistant turn."""
    if rec.get("chosen"):
        turns = [t for t in rec["chosen"] if t.get("role") == "assistant"]
        if turns:
            return turns[-1].get("content") or ""
    i = last_user_index(rec)
    after = [t for t in rec["messages"][i + 1:] if t.get("role") == "assistant"]
    if not after:
        raise GenerationError("row has no answer after its last user turn")
    return after[-1].get("content") or ""


def with_answer(rec: Record, text: str) -> Record:
    """Replace the row's answer (chosen side for preference rows, else the turns after the
    last user turn) with one assistant turn; the caller has already copied `rec`."""
    turn = {"role": "assistant", "content": text}
    if rec.get("kind") == "preference" and rec.get("chosen") is not None:
        rec["chosen"] = [turn]
    else:
        i = last_user_index(rec)
        rec["messages"] = rec["messages"][: i + 1] + [turn]
    return rec


def with_instruction(rec: Record, text: str) -> Record:
    """Replace the last user turn's text (in place on a copy)."""
    i = last_user_index(rec)
    rec["messages"][i] = {**rec["messages"][i], "content": text}
    return rec


def with_exchange(rec: Record, prompt: str, reply: str) -> Record:
    """A new last exchange: the last user turn becomes `prompt`, answered by `reply`. A
    preference row becomes an SFT row (its old pair answered the old prompt)."""
    if rec.get("kind") in ("preference", "kto"):
        rec.update(kind="sft", chosen=None, rejected=None, label=None)
    return with_answer(with_instruction(rec, prompt), reply)


def rows_with_turns(records: Sequence[Record], *, need_answer: bool = False) -> tuple[list[Record], dict[str, str]]:
    """Split rows into those an operation can work on and errors for the rest."""
    usable, errors = [], {}
    for r in records:
        try:
            instruction(r)
            if need_answer:
                answer(r)
        except GenerationError as e:
            errors[r["id"]] = str(e)
            continue
        usable.append(r)
    return usable, errors


# -- checks shared by the filters of several operations ---------------------------------

_REFUSAL = re.compile(
    r"\b(i('m| am)? (sorry|unable|not able)|i can(no|')t (help|assist|provide|do|answer|comply)|"
    r"as an ai( language model)?|i do not have the ability|i cannot (help|assist|provide|fulfil|fulfill|comply))",
    re.I,
)


def is_refusal(text: str) -> bool:
    return bool(_REFUSAL.search(text[:400]))


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


_LABEL = re.compile(
    r"^\s*(?:\**\s*#*\s*)?(?:new|rewritten|evolved|created|final)?\s*(?:prompt|instruction|task|question|request)"
    r"(?:\s*\d+)?\s*#*\s*\**\s*[:：]\s*\**\s*",
    re.I,
)


def strip_label(text: str) -> str:
    """Drop a leading 'Rewritten Prompt:' / 'Task 4:' style label and surrounding quotes."""
    text = text.strip()
    text = _LABEL.sub("", text, count=1).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def usable_answer(text: str) -> str:
    """An answer reply, stripped, or a GenerationError (empty, a refusal). Operations pass it
    to the client as `validate` too, so a reply failing it is never cached."""
    return require_text(text, "answer")


def require_text(text: str, what: str, *, min_words: int = 1) -> str:
    """`text` stripped, or a GenerationError saying why it is unusable."""
    text = (text or "").strip()
    if not text:
        raise GenerationError(f"model returned an empty {what}")
    if is_refusal(text):
        raise GenerationError(f"model refused the {what}: {text[:80]!r}")
    if len(text.split()) < min_words:
        raise GenerationError(f"{what} too short ({len(text.split())} words < {min_words}): {text[:80]!r}")
    return text


# -- the Operation shape every LLM operation shares ---------------------------------------


@dataclass
class LLMParams(Params):
    """The model settings of an LLM operation (API keys come from the environment only)."""

    model: str = param("local/smollm2", help="litellm model string (the embedded local/smollm2; e.g. openai/gpt-4o-mini)")
    api_base: str | None = param(None, secret=True, help="base URL of an OpenAI-compatible server (model openai/NAME)")
    temperature: float = param(0.7)
    max_tokens: int = param(512)
    concurrency: int = param(4, help="requests in flight at once")
    timeout: float = param(120.0, help="seconds for a whole request (connecting to the last byte) before retrying")
    retries: int = param(5, help="retries per request on timeouts, 429, 5xx, bad bodies")
    no_cache: bool = param(False, help="ask the model even for prompts answered before (new replies are still cached)")
    prompt: list[str] = param(factory=list, cli=False)  # NAME=FILE prompt templates (--prompt, repeatable)

    def validate(self) -> None:
        super().validate()
        if self.concurrency < 1:
            raise ParamError("concurrency must be at least 1")
        try:
            self.overrides()  # the prompt files are read and checked before anything runs
        except OSError as e:
            raise ParamError(f"prompt: cannot read {e.filename}: {e.strerror}") from None

    def overrides(self) -> dict[str, str]:
        """The --prompt templates, read and checked (PromptError / OSError say which file)."""
        from workbench.llm.prompts import load_overrides

        return load_overrides(self.prompt)


class LLMOperation(Operation):
    """An operation that calls an LLM per row, as a resumable job checkpointed in `ctx.ws`.
    Subclasses implement `generate(records, client, ws, params, overrides, ctx)`."""

    Params = LLMParams
    scope = "row"
    uses_llm = True
    needs_ws = True

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--prompt", action="append", default=[], metavar="NAME=FILE",
                            help="replace a built-in prompt with a Jinja template file (rendered sandboxed)")

    def params_from_args(self, args):
        return self.Params.from_args(args, prompt=list(args.prompt))

    def records(self, ds, params, rows: list[str] | None):
        return [r for batch in records_of(ds, rows) for r in batch]

    def run(self, ds, params, ctx: Context, rows: list[str] | None = None) -> Result:
        if ctx.ws is None:
            raise ValueError(f"{self.name} keeps its job checkpoints in a workspace: it cannot run without one")
        client = ctx.client(params.model, params.api_base, temperature=params.temperature,
                            max_tokens=params.max_tokens, concurrency=params.concurrency,
                            timeout=params.timeout, retries=params.retries, refresh=params.no_cache)
        result = self.generate(self.records(ds, params, rows), client, ctx.ws, params, params.overrides(), ctx)
        result.params = params.to_dict()
        result.report = {"op": self.name, "rows": len(result.rows) + len(result.errors), "new_rows": len(result.rows),
                         "errors": result.errors, "dropped": result.dropped, "usage": result.usage, **result.report}
        result.summary = result.summary or (f"{self.name}: {len(result.rows)} rows, {len(result.errors)} failed "
                                            f"({result.status})")
        return result

    def generate(self, records, client, ws, params, overrides: dict, ctx: Context) -> Result:
        raise NotImplementedError
