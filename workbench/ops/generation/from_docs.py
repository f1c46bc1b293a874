"""Documents -> grounded question-answer pairs (the Augment toolkit's idea, our own prompts).

Each document is cut into chunks on its structure (workbench.data.documents.chunk_spans);
for each chunk and question type (factual, reasoning, summarising, multi-turn follow-up) the
model writes a question and its answer from the chunk alone. Every pair is then checked
against its chunk twice before it is kept: an LLM grounding check ("is every fact in the
answer stated in the passage?", greedy) and a cheap lexical support score (the share of the
answer's content words and numbers that occur in the chunk). A pair failing either, or whose
question is a near-copy of one already kept, is dropped with the reason. A reply without the
`Question:` / `Answer:` lines (empty, off-topic chatter) is an error of that row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workbench.data.record import make_record
from workbench.llm.prompts import render
from workbench.ops.base import Context, Result, param
from workbench.ops.generation.common import GenerationError, LLMOperation, errors_of, require_text, run_rows
from workbench.ops.generation.novelty import Novelty, NoveltyParams

OP = "from-docs"
QUESTION_TYPES = {
    "factual": "factual",
    "reasoning": "reasoning (it needs two or more facts of the passage combined)",
    "summarising": "summarising (it asks for the gist of the passage)",
    "multi-turn": "factual",
}
_FIELD = re.compile(r"^\s*\**\s*(question|answer|follow-up(?: question)?|follow-up answer)\s*\**\s*[:：]\s*\**",
                    re.I | re.M)
_VERDICT = re.compile(r"verdict\s*\**\s*[:=]?\s*\**\s*(unsupported|supported|not supported|yes|no)\b", re.I)
_REASON = re.compile(r"reason\s*\**\s*[:=]\s*\**\s*(.+)", re.I | re.S)
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "the and for are but not you all any can had her was one our out has him his how its may new now "
    "see two who did get let put say she too use that with have this will your from they been were "
    "what when which their there than then them these those would could should about into also only "
    "other some such more most very just each does while where because being over under after before "
    "between both because same answer question passage".split())


def parse_exchange(text: str, followup: bool) -> list[tuple[str, str]]:
    """[(question, answer)] (two pairs with a follow-up) from a reply in the docs_qa format;
    GenerationError quoting the reply when a field is missing or empty."""
    text = require_text(text, "question-answer reply")
    fields: dict[str, str] = {}
    marks = list(_FIELD.finditer(text))
    for m, nxt in zip(marks, marks[1:] + [None]):
        name = m.group(1).lower()
        name = "followup_answer" if name == "follow-up answer" else "followup" if name.startswith("follow") else name
        fields.setdefault(name, text[m.end(): nxt.start() if nxt else len(text)].strip())
    need = ["question", "answer"] + (["followup", "followup_answer"] if followup else [])
    missing = [n for n in need if not fields.get(n)]
    if missing:
        label = {"question": "Question:", "answer": "Answer:", "followup": "Follow-up:",
                 "followup_answer": "Follow-up answer:"}
        raise GenerationError(f"reply has no {' / '.join(label[n] for n in missing)} line: {text[:100]!r}")
    pairs = [(fields["question"], fields["answer"])]
    if followup:
        pairs.append((fields["followup"], fields["followup_answer"]))
    return pairs


def parse_verdict(text: str) -> tuple[bool, str]:
    """(supported, reason) from a grounding check's reply; GenerationError without a verdict."""
    m = _VERDICT.search(text or "")
    if not m:
        raise GenerationError(f"no 'Verdict:' in the grounding check's reply: {(text or '').strip()[:100]!r}")
    r = _REASON.search(text[m.end():])
    return m.group(1).lower() in ("supported", "yes"), (r.group(1).strip().splitlines()[0] if r else "")


def content_words(text: str) -> list[str]:
    """Words that carry facts: numbers, and words of three letters or more that are not stop words."""
    return [w for w in _WORD.findall(text.lower()) if w.isdigit() or (len(w) >= 3 and w not in _STOP)]


def lexical_support(answer: str, chunk: str) -> tuple[float, list[str]]:
    """(share of the answer's content words found in the chunk, the words not found). Words
    match on their first five letters (a crude stem: "causes" is found by "caused"), numbers
    exactly; an answer with no content words scores 1."""
    have = {w if w.isdigit() else w[:5] for w in _WORD.findall(chunk.lower())}
    words = list(dict.fromkeys(content_words(answer)))
    absent = [w for w in words if (w if w.isdigit() else w[:5]) not in have]
    return (1 - len(absent) / len(words) if words else 1.0), absent


def from_docs(docs: list[tuple[str, str]], client, ws, *, budget: int = 400, types=tuple(QUESTION_TYPES),
              limit: int | None = None, min_support: float = 0.5, novelty: Novelty | None = None, concurrency: int = 4,
              on_event=None, cancel=None, overrides: dict | None = None) -> Result:
    """Grounded pairs from `docs` [(document name, text)]: one item per (chunk, question type),
    the first `limit` chunks only when given. `novelty` drops near-copies of questions seen
    (default: ROUGE-L 0.7 against those kept)."""
    from workbench.data.documents import chunk_spans

    unknown = [t for t in types if t not in QUESTION_TYPES]
    if unknown or not types:
        raise ValueError(f"unknown question type(s) {', '.join(unknown) or '(none)'}; "
                         f"expected {', '.join(QUESTION_TYPES)}")
    chunks = [(name, s, e, text[s:e]) for name, text in docs for s, e in chunk_spans(text, budget)]
    chunks = chunks[:limit] if limit is not None else chunks
    items = [(f"{name}#{s}-{e}:{t}", {"document": name, "span": [s, e], "chunk": chunk, "type": t})
             for name, s, e, chunk in chunks for t in types]

    def run(payload: dict) -> dict:
        followup = payload["type"] == "multi-turn"
        prompt = render("docs_qa", overrides, kind=QUESTION_TYPES[payload["type"]], followup=followup,
                        chunk=payload["chunk"])
        out = client.complete([{"role": "user", "content": prompt}], validate=lambda t: parse_exchange(t, followup))
        pairs = parse_exchange(out["text"], followup)
        exchange = "\n".join(f"Question: {q}\nAnswer: {a}" for q, a in pairs)
        check = client.complete([{"role": "user", "content": render("docs_grounding", overrides, chunk=payload["chunk"],
                                                                     exchange=exchange)}],
                                temperature=0.0, validate=parse_verdict)
        supported, reason = parse_verdict(check["text"])
        support, absent = lexical_support(" ".join(a for _, a in pairs), payload["chunk"])
        return {"pairs": pairs, "supported": supported, "reason": reason, "support": round(support, 3),
                "absent": absent[:10]}

    job = run_rows(ws, OP, items, run, params={"model": client.describe(), "budget": budget,
                                                "min_support": min_support, "overrides": overrides or {}},
                   concurrency=concurrency, on_event=on_event, cancel=cancel)
    errors = errors_of(job, [rid for rid, _ in items])
    dropped, candidates = {}, []
    for rid, payload in items:
        res = job.results.get(rid)
        if res is None:
            continue
        if not res["supported"]:
            dropped[rid] = f"grounding check: unsupported ({res['reason'] or 'no reason given'})"
        elif res["support"] < min_support:
            dropped[rid] = (f"lexical support {res['support']:.2f} < {min_support} "
                            f"(absent from the chunk: {', '.join(res['absent'])})")
        else:
            candidates.append((rid, res["pairs"][0][0]))
    keep, near = (novelty or Novelty()).filter(candidates)
    dropped.update({rid: f"{near[rid]} of a question seen before" for rid in near})
    dropped = {rid: f"{why}: {job.results[rid]['pairs'][0][0][:80]!r}" for rid, why in dropped.items()}
    rows, payloads = [], dict(items)
    for i, rid in enumerate(keep):
        res, payload = job.results[rid], payloads[rid]
        messages = [m for q, a in res["pairs"] for m in ({"role": "user", "content": q},
                                                         {"role": "assistant", "content": a})]
        verdict = {"llm": "supported", "reason": res["reason"], "lexical_support": res["support"]}
        rows.append(make_record(id=rid, kind="sft", messages=messages, source=payload["document"], row=i, meta={
            "provenance": {"operation": OP, "model": client.model, "parent": None, "document": payload["document"],
                           "span": payload["span"], "question_type": payload["type"], "chunk": payload["chunk"],
                           "grounding": verdict}}))
    summary = (f"{OP}: {len(chunks)} chunks, {len(items)} pairs asked; kept {len(rows)}, dropped {len(dropped)}, "
               f"failed {len(errors)} ({job.status})")
    return Result(OP, {}, rows=rows, errors=errors, dropped=dropped, job_id=job.job_id, status=job.status,
                  usage=dict(client.usage), summary=summary,
                  report={"chunks": len(chunks), "kept": len(rows)}, counts={"chunks": len(chunks)})


@dataclass
class FromDocsParams(NoveltyParams):
    chunk_tokens: int = param(400, help="token budget of a chunk (words and punctuation)")
    types: list[str] = param(factory=lambda: list(QUESTION_TYPES), help="question types, comma-separated")
    limit: int | None = param(None, help="only the first N chunks (a quick look)")
    min_support: float = param(0.5, help="least share of an answer's content words found in its chunk")


class FromDocs(LLMOperation):
    name = "generate-from-docs"
    Params = FromDocsParams
    scope = "dataset"  # chunks of every document are numbered together (--limit counts chunks)
    review = True
    documents = True  # the command line reads its paths as documents, not a dataset

    def generate(self, records, client, ws, params, overrides, ctx: Context):
        from workbench.data.record import full_text

        docs = [((r.get("meta") or {}).get("document") or r["id"], r["text"] if r.get("kind") == "text" else full_text(r))
                for r in records]
        return from_docs(docs, client, ws, budget=params.chunk_tokens, types=params.types, limit=params.limit,
                         min_support=params.min_support, novelty=params.novelty_check(), concurrency=params.concurrency,
                         on_event=ctx.on_event, cancel=ctx.cancel, overrides=overrides)

    def describe(self, result) -> str:
        return result.summary
