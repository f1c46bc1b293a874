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
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from workbench.data.record import Record


class GenerationError(Exception):
    """A row whose generation was rejected (refusal, unparsable output, failed check...)."""


@dataclass
class OpResult:
    """Output of an operation: records in input order, errors of the rows left out, and
    candidates a filter dropped on purpose (with why)."""

    rows: list[Record]
    errors: dict[str, str]
    job_id: int | None = None
    status: str = "done"
    usage: dict = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)


def run_rows(ws, name: str, items: Sequence[tuple[str, Any]], fn: Callable[[Any], Any], *, params: dict,
             concurrency: int = 4, on_event=None, cancel: threading.Event | None = None):
    """Run `fn` over `(row_id, payload)` items as a resumable job; returns the JobResult.

    The job's identity includes a digest of the payloads, so an unfinished job resumes only
    over the same inputs: editing the dataset never brings back results for old content.
    """
    from workbench.store.jobs import run_job

    digest = hashlib.sha256(json.dumps(list(items), sort_keys=True, default=str).encode()).hexdigest()
    return run_job(ws, name, items, fn, params={**params, "inputs": digest}, concurrency=concurrency, on_event=on_event, cancel=cancel)


def record_usage(ws, result: OpResult) -> None:
    """Keep an operation's tokens and cost in the workspace, under its (last) job id."""
    if result.job_id is not None and result.usage:
        ws.set_meta(f"llm_usage.{result.job_id}", result.usage)


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


def record_rewrites(ws, run_id: int | None, op: str, rewrites: Iterable[tuple[str, str, str]]) -> None:
    """Store proposed rewrites as `rewrite.<op>` signals ({"before", "after"}) for review."""
    rows = [(rid, f"rewrite.{op}", {"before": before, "after": after}) for rid, before, after in rewrites]
    if rows and run_id is not None:
        ws.add_signals(run_id, rows)


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
