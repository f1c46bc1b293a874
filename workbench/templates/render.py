"""Render a canonical record through a chat template and work out which characters are trained.

Masks come from rendering, never from searching for a turn's text. Message k's region ends where
the rendering of messages[:k+1] stops agreeing with the full rendering (the longest common
prefix, so templates that append something after the last turn, like Phi-3's trailing EOS,
still line up). An answer's trained part starts after its header: where messages[:k] rendered
with `add_generation_prompt=True` stops agreeing (so an answer that opens the conversation or
follows another answer trains neither headers nor a default system prompt), and runs to the
stop token that closes it (included when `train_eos`); what follows the stop token (newlines, a
document EOS) is not trained. Each answer is also located by rendering the full conversation
again with its own data (content, reasoning, tool calls) replaced by a marker: the two texts
differ exactly where the answer sits. That keeps masks right on templates that render history
differently from the last turn (Qwen3-style templates keep <think> only on answers after the
last user query; Mistral v3 moves the system prompt into the last user turn): each answer's
span is what it adds to the full text, its reasoning included when the template shows it.
Compared token for token with transformers' {% generation %} masks in tests/templates.

Mask policies:
    assistant   assistant turns (for preference rows: the chosen/rejected continuation only)
    last        the last assistant turn only
    all         everything the template writes (train on inputs)
    template    the template's own `{% generation %}` blocks, as transformers reads them
A turn's `train` weight, when present, overrides the policy for that turn (0 = not trained).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from typing import Callable, Iterable, Iterator, TypeVar

from workbench.data.record import Record
from workbench.templates.messages import Conversation, conversations
from workbench.templates.registry import GENERATION_TAG, MASK_POLICIES, Template, get_template
from workbench.templates.sandbox import (
    DEFAULT_TIME_LIMIT, TemplateFailure, compile_template, deadline, isolated, render_messages,
)



@dataclass
class TurnSpan:
    """Where one message landed in the rendered text."""

    index: int  # position in the conversation's message list (the system prompt is message 0 when present)
    role: str
    start: int  # for an assistant turn, after its header (the header ends the previous region)
    end: int
    trained: tuple[int, int] | None  # the trained part, if any
    weight: float = 1.0


@dataclass
class Rendering:
    """One rendered conversation. `spans` cover the whole text: [(start, end, trained)]."""

    text: str
    spans: list[tuple[int, int, bool]] = field(default_factory=list)
    special: list[tuple[int, int]] = field(default_factory=list)  # control tokens in the text
    error: str | None = None  # why the template could not render this row, in words
    error_kind: str | None = None  # rejected | unsafe | timeout | syntax | error
    error_line: int | None = None  # the template line the error happened on, when known
    side: str = "conversation"  # conversation | chosen | rejected | text
    template: str = ""
    turns: list[TurnSpan] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)  # what the template saw
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def trained_text(self) -> str:
        return "".join(self.text[s:e] for s, e, t in self.spans if t)


def check_policy(tpl: Template, mask_policy: str) -> None:
    """Refuse a mask policy that cannot work with this template (ValueError, in words)."""
    if mask_policy not in MASK_POLICIES:
        raise ValueError(f"unknown mask policy {mask_policy!r}; expected one of {', '.join(MASK_POLICIES)}")
    if mask_policy == "template" and not tpl.has_generation:
        raise ValueError(f"template {tpl.name} has no {{% generation %}} blocks, so the policy 'template' would "
                         "train nothing; use the policy 'assistant' (trained spans found by rendering)")


def render_record(
    record: Record,
    template: str | Template,
    *,
    side: str | None = None,
    add_generation_prompt: bool = False,
    mask_policy: str = "assistant",
    train_eos: bool = True,
    split_reasoning: bool = False,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> Rendering:
    """Render one side of a record ("chosen" by default for preference rows). Never raises for template faults."""
    sides = render_sides(record, template, add_generation_prompt=add_generation_prompt, mask_policy=mask_policy,
                         train_eos=train_eos, split_reasoning=split_reasoning, time_limit=time_limit)
    if side is None:
        return sides[0]
    for r in sides:
        if r.side == side:
            return r
    raise ValueError(f"row {record.get('id')} has no {side!r} side; it has {', '.join(r.side for r in sides)}")


def render_sides(
    record: Record,
    template: str | Template,
    *,
    add_generation_prompt: bool = False,
    mask_policy: str = "assistant",
    train_eos: bool = True,
    split_reasoning: bool = False,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> list[Rendering]:
    """Every rendering of a record: one for SFT/KTO rows, chosen and rejected for preference rows.

    The template sees each turn's text as the source holds it (a `<think>` block inside an answer stays
    there, as the trainer reads it); `split_reasoning=True` moves a leading inline reasoning block to
    `reasoning_content` first (see templates.messages)."""
    tpl = get_template(template)
    check_policy(tpl, mask_policy)
    done, convs = _prepare(record, tpl, split_reasoning)
    if done is not None:
        return done
    try:
        with deadline(time_limit):  # one round trip to a rendering process for all the row's renders
            return isolated(_render_all, convs, tpl, add_generation_prompt, mask_policy, train_eos)
    except TemplateFailure as e:  # the time limit, which covers every side of the row
        return [Rendering("", error=str(e), error_kind=e.kind, side=c.side, template=tpl.name) for c in convs]


def render_many(
    items: Iterable[T],
    template: str | Template,
    *,
    record_of: Callable[[T], Record] | None = None,
    add_generation_prompt: bool = False,
    mask_policy: str = "assistant",
    train_eos: bool = True,
    split_reasoning: bool = False,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    chunk: int = 64,
) -> Iterator[tuple[T, list[Rendering]]]:
    """`render_sides` over many records (`record_of(item)`, default the item itself): yields
    (item, renderings) in order. The same results and per-record time limit as render_sides,
    in one round trip to the rendering process per `chunk` records; a chunk that fails as a
    whole (a row that hangs or takes the memory) is rendered again one record at a time."""
    tpl = get_template(template)
    check_policy(tpl, mask_policy)
    opts = dict(add_generation_prompt=add_generation_prompt, mask_policy=mask_policy, train_eos=train_eos,
                split_reasoning=split_reasoning)
    it = iter(items)
    while batch := list(islice(it, chunk)):
        records = [record_of(x) if record_of else x for x in batch]
        prepared = [_prepare(rec, tpl, split_reasoning) for rec in records]
        todo = [k for k, (done, _) in enumerate(prepared) if done is None]
        try:
            with deadline(time_limit):  # normally milliseconds for the whole chunk
                rendered = isolated(_render_batch, [prepared[k][1] for k in todo], tpl, add_generation_prompt,
                                    mask_policy, train_eos)
        except TemplateFailure:
            rendered = [render_sides(records[k], tpl, time_limit=time_limit, **opts) for k in todo]
        out = [done for done, _ in prepared]
        for k, sides in zip(todo, rendered):
            out[k] = sides
        yield from zip(batch, out)


def _prepare(record: Record, tpl: Template,
             split_reasoning: bool) -> tuple[list[Rendering] | None, list[Conversation]]:
    """(renderings, []) when no template is involved (a plain-text row, a row whose turns cannot
    be read), else (None, the record's conversations to render)."""
    if record.get("kind") == "text":
        text = record.get("text") or ""
        return [Rendering(text, [(0, len(text), True)] if text else [], side="text", template=tpl.name,
                          warnings=["a plain-text row: no chat template applies, the text is trained as is"])], []
    try:
        return None, conversations(record, split_reasoning=split_reasoning)
    except ValueError as e:
        return [Rendering("", error=str(e), error_kind="error", template=tpl.name)], []


def _render_batch(convs: list[list[Conversation]], tpl: Template, agp: bool, policy: str,
                  train_eos: bool) -> list[list[Rendering]]:
    return [_render_all(c, tpl, agp, policy, train_eos) for c in convs]


def render_conversation(
    messages: list[dict],
    template: str | Template,
    *,
    tools: list[dict] | None = None,
    documents: list[dict] | None = None,
    add_generation_prompt: bool = False,
    mask_policy: str = "assistant",
    train_eos: bool = True,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> Rendering:
    """Render HF-style messages directly (roles, content, tool_calls in the HF shape), with tools and documents."""
    tpl = get_template(template)
    check_policy(tpl, mask_policy)
    conv = Conversation("conversation", messages, messages, len(messages), tools, documents)
    try:
        with deadline(time_limit):
            return isolated(_render_all, [conv], tpl, add_generation_prompt, mask_policy, train_eos)[0]
    except TemplateFailure as e:
        return Rendering("", error=str(e), error_kind=e.kind, template=tpl.name)


def _render_all(convs: list[Conversation], tpl: Template, agp: bool, policy: str, train_eos: bool) -> list[Rendering]:
    return [_render_conversation(c, tpl, agp, policy, train_eos) for c in convs]


def _alias_reasoning(messages: list[dict]) -> list[dict]:
    # transformers fills `thinking` from `reasoning_content` for templates that read that name
    out = []
    for m in messages:
        m = {k: v for k, v in m.items() if v is not None}
        r = m.get("reasoning_content", m.get("thinking", m.get("reasoning")))
        if r is not None:
            m = {"thinking": r, **m, "reasoning_content": r}
        out.append(m)
    return out


def _render_conversation(conv: Conversation, tpl: Template, agp: bool, policy: str, train_eos: bool) -> Rendering:
    messages = _alias_reasoning(conv.messages)
    source = tpl.source_for(conv.tools)
    base = Rendering("", side=conv.side, template=tpl.name, messages=messages)
    track = policy == "template"
    ctx = dict(tpl.context(), tools=conv.tools, documents=conv.documents)
    try:
        compiled = compile_template(source)
        full, generation = render_messages(compiled, messages, track_generation=track, add_generation_prompt=agp,
                                           **ctx)
    except TemplateFailure as e:
        base.error, base.error_kind, base.error_line = str(e), e.kind, e.line
        return base
    base.text = full
    base.special = find_special(full, tpl.special_tokens)
    if track:
        if not GENERATION_TAG.search(source):  # the other of a default / tool_use pair has them
            base.warnings.append("this conversation's template has no {% generation %} blocks: nothing is trained")
        base.spans = _cover(len(full), generation)
        return base

    def render(msgs: list[dict], gen_prompt: bool = False) -> str | None:
        try:
            return render_messages(compiled, msgs, add_generation_prompt=gen_prompt, **ctx)[0]
        except TemplateFailure:
            return None

    def agreed(text: str | None) -> int | None:
        """How far `text` agrees with the full rendering, never splitting a control token."""
        if text is None:
            return None
        b = _common_prefix(text, full)
        # "<|end|>\n<|endoftext|>" and "<|end|>\n<|user|>" agree up to "<|": never split a control token
        return next((s for s, e in base.special if s < b < e), b)

    n = len(messages)
    # ends[k]: where the rendering of messages[:k+1] stops agreeing with the full one (message k's region ends)
    ends: list[int] = []
    for k in range(n):
        b = agreed(render(messages[:k + 1])) if k < n - 1 or agp else len(full)
        if b is None:
            base.warnings.append(f"could not render the first {k + 1} messages alone; turn {k} merges into the next")
            b = ends[-1] if ends else 0
        ends.append(max(b, ends[-1] if ends else 0))
    if agp:  # the generation prompt is nobody's turn
        ends[-1] = max(agreed(render(messages)) or 0, ends[-2] if n > 1 else 0)

    enders = tuple(t for t in dict.fromkeys((*tpl.stop_tokens, tpl.eos_token)) if t)
    assistants = [k for k, m in enumerate(messages) if m.get("role") == "assistant"]
    trained: list[tuple[int, int]] = []
    for k, msg in enumerate(messages):
        start, stop = (ends[k - 1] if k else 0), ends[k]
        turn = conv.turns[k] if k < len(conv.turns) else {}
        weight = _weight(turn.get("train") if isinstance(turn, dict) else None)
        if weight is not None:
            on = weight > 0
        elif policy == "all":
            on = True
        elif msg.get("role") != "assistant" or (conv.side != "conversation" and k < conv.completion_from):
            on = False  # not an answer, or part of a preference prompt
        else:
            on = policy == "assistant" or k == assistants[-1]
        span = None
        if msg.get("role") == "assistant" and policy != "all":
            span = _answer_span(full, messages, k, start, stop, render, agreed, enders, train_eos)
            start = span[0]
            span = span if on else None
        elif on:
            span = (start, stop)  # a trained prompt turn (by weight) is trained whole: it has no answer header
        if span and span[1] > span[0]:
            trained.append(span)
        base.turns.append(TurnSpan(k, msg.get("role", ""), start, stop, span, 1.0 if weight is None else weight))
    base.spans = _cover(len(full), trained)
    return base


def _weight(value) -> float | None:
    """A turn's train weight (bools and numeric strings too); anything else means "no weight"."""
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


# A character no template writes on its own: stands in for a turn's own data in the altered rendering.
_MARK = "\ue000"


def _marked(msg: dict) -> dict:
    """The message with everything the model generates (content, reasoning, tool-call names and arguments)
    replaced by _MARK; its shape (keys present, types) stays, so the template takes the same branches."""
    m = dict(msg)
    for key in ("content", "reasoning_content", "thinking", "reasoning"):
        if isinstance(m.get(key), str):
            m[key] = _MARK
    calls = []
    for call in m.get("tool_calls") or ():
        fn = call.get("function") if isinstance(call.get("function"), dict) else None
        body = dict(fn if fn is not None else call)
        body["name"] = _MARK
        body["arguments"] = {_MARK: _MARK} if isinstance(body.get("arguments"), dict) else _MARK
        calls.append({**call, "function": body} if fn is not None else body)
    if calls:
        m["tool_calls"] = calls
    return m


def _answer_span(full, messages, k, region_start, region_end, render, agreed, enders, train_eos) -> tuple[int, int]:
    """The trained part of assistant message k: from after its header to its closing stop token.

    Found by rendering, never by searching for the turn's text: the full conversation is rendered again
    with this turn's own data replaced by a marker, and the two renderings differ exactly where the turn's
    data sits ([data_start, data_end)), whatever the template does with the turns around it (Qwen3-style
    templates drop reasoning from earlier turns, Mistral v3 moves the system prompt to the last user turn).
    The span starts after the header the template writes for an answer (messages[:k] rendered with the
    generation prompt, when that rendering agrees with the full one) and ends after the first stop token
    that follows the data.
    """
    altered = render([*messages[:k], _marked(messages[k]), *messages[k + 1:]])
    head = render(messages[:k], True)
    head_fits = head is not None and agreed(head) == len(head) >= region_start
    if _diff(altered, full) is None:  # the template refused the marker: trust the prefixes alone
        start = len(head) if head_fits else region_start
        return start, _turn_end(full, start, region_end, enders, train_eos)
    data_start, data_end = _diff(altered, full)
    if head_fits and len(head) <= data_start:
        start = len(head)
    else:  # earlier turns render differently with fewer turns (or there are none): find the header instead
        start = _header_start(full, messages, k, head, data_start, render)
        if start is None:
            start = region_start if region_start <= data_start else data_start
    if region_start <= start and region_end >= data_end:  # the prefix rendering holds this whole turn
        return start, _turn_end(full, start, region_end, enders, train_eos)
    hits = [(at, t) for t in enders if (at := full.find(t, data_end)) >= 0]
    if not hits:
        return start, data_end
    at, tok = min(hits)
    return start, at + len(tok) if train_eos else at


def _diff(a: str | None, b: str) -> tuple[int, int] | None:
    """Where `a` differs from `b`, in b's coordinates: (first differing char, end of the differing part)."""
    if a is None or a == b:
        return None
    start = _common_prefix(a, b)
    return start, max(len(b) - _common_suffix(a, b), start)


def _header_start(full: str, messages: list[dict], k: int, head: str | None, data_start: int, render) -> int | None:
    """Where answer k's trained part starts when messages[:k] render differently alone than in the full text.

    The template's answer header (what add_generation_prompt appends; taken from a one-user-turn probe when
    messages[:k] cannot be rendered alone) is looked for just before the answer's data. A template whose
    generation prompt is empty (Mistral: "[/INST]" closes the user turn) is handled by what it writes after
    the previous message's data when that message is the last: the same text follows it in the full rendering.
    """
    bare = render(messages[:k])
    if head is None or bare is None or not head.startswith(bare):
        probe = [{"role": "user", "content": _MARK}]
        head, bare = render(probe, True), render(probe)
    if head is not None and bare is not None and head.startswith(bare) and len(head) > len(bare):
        header = head[len(bare):]
        at = full.rfind(header, 0, data_start)
        if at >= 0 and at + len(header) <= data_start:
            return at + len(header)
    if k == 0 or head is None:
        return None
    alone = _diff(render([*messages[:k - 1], _marked(messages[k - 1])], True), head)
    within = _diff(render([*messages[:k - 1], _marked(messages[k - 1]), *messages[k:]]), full)
    if alone is None or within is None:
        return None
    tail = head[alone[1]:]
    return within[1] + len(tail) if full.startswith(tail, within[1]) and within[1] + len(tail) <= data_start else None


def _turn_end(text: str, start: int, stop: int, stop_tokens: tuple[str, ...], train_eos: bool) -> int:
    """End of the trained part of a turn occupying text[start:stop]: see the module doc.

    Peels stop tokens and whitespace off the end of the turn; the one nearest the answer closes it.
    """
    end, first_stop = stop, None
    while True:
        trimmed = start + len(text[start:end].rstrip())
        tok = next((t for t in stop_tokens if t and text.startswith(t, trimmed - len(t)) and trimmed - len(t) >= start),
                   None)
        if tok is None:
            break
        end = trimmed - len(tok)
        first_stop = (end, trimmed)
    if first_stop is None:
        return stop
    return first_stop[1] if train_eos else first_stop[0]


def _common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix, in C-speed comparisons (binary search on startswith)."""
    if b.startswith(a):
        return len(a)
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if b.startswith(a[:mid]):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str) -> int:
    """Length of the longest common suffix (binary search on endswith)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if b.endswith(a[len(a) - mid:]):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _cover(length: int, trained: list[tuple[int, int]]) -> list[tuple[int, int, bool]]:
    """Contiguous (start, end, trained) spans over [0, length), merging neighbours."""
    out: list[tuple[int, int, bool]] = []
    pos = 0
    for s, e in sorted(trained):
        s, e = max(s, pos), min(e, length)
        if e <= s:
            continue
        if s > pos:
            out.append((pos, s, False))
        if out and out[-1][2] and out[-1][1] == s:
            out[-1] = (out[-1][0], e, True)
        else:
            out.append((s, e, True))
        pos = e
    if pos < length:
        out.append((pos, length, False))
    return out


@lru_cache(maxsize=64)
def _special_re(tokens: tuple[str, ...]) -> re.Pattern | None:
    toks = sorted({t for t in tokens if t}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, toks))) if toks else None


def find_special(text: str, tokens: tuple[str, ...]) -> list[tuple[int, int]]:
    pattern = _special_re(tuple(tokens))
    return [m.span() for m in pattern.finditer(text)] if pattern else []
