"""Render a canonical record through a chat template and work out which characters are trained.

Masks come from incremental prefix rendering: message k occupies the text between where the
rendering of messages[:k] and of messages[:k+1] stop agreeing with the full rendering (the
longest common prefix, so templates that append something after the last turn, like Phi-3's
trailing EOS, still line up). An assistant message starts where the rendering of messages[:k]
with `add_generation_prompt=True` stops agreeing, i.e. after its header; the trained part runs
from there to the end of the turn, closed by the first stop token (included when `train_eos`),
and whatever follows the stop token (newlines, a document EOS) is not trained. That is one
extra render per message; if the prefixes do not line up (a template that rewrites earlier
turns as the conversation grows), each turn's text is searched for instead, with a warning.

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

from workbench.data.record import Record
from workbench.templates.messages import Conversation, conversations
from workbench.templates.registry import GENERATION_TAG, MASK_POLICIES, Template, get_template
from workbench.templates.sandbox import DEFAULT_TIME_LIMIT, TemplateFailure, compile_template, deadline, render_messages



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
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> Rendering:
    """Render one side of a record ("chosen" by default for preference rows). Never raises for template faults."""
    sides = render_sides(record, template, add_generation_prompt=add_generation_prompt, mask_policy=mask_policy,
                         train_eos=train_eos, time_limit=time_limit)
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
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> list[Rendering]:
    """Every rendering of a record: one for SFT/KTO rows, chosen and rejected for preference rows."""
    tpl = get_template(template)
    check_policy(tpl, mask_policy)
    if record.get("kind") == "text":
        text = record.get("text") or ""
        return [Rendering(text, [(0, len(text), True)] if text else [], side="text", template=tpl.name,
                          warnings=["a plain-text row: no chat template applies, the text is trained as is"])]
    try:
        convs = conversations(record)
    except ValueError as e:
        return [Rendering("", error=str(e), error_kind="error", template=tpl.name)]
    try:
        with deadline(time_limit):
            return [_render_conversation(c, tpl, add_generation_prompt, mask_policy, train_eos) for c in convs]
    except TemplateFailure as e:  # the time limit, which covers every side of the row
        return [Rendering("", error=str(e), error_kind=e.kind, side=c.side, template=tpl.name) for c in convs]


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
            return _render_conversation(conv, tpl, add_generation_prompt, mask_policy, train_eos)
    except TemplateFailure as e:
        return Rendering("", error=str(e), error_kind=e.kind, template=tpl.name)


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
        base.error, base.error_kind = str(e), e.kind
        return base
    base.text = full
    base.special = find_special(full, tpl.special_tokens)
    if track:
        if not GENERATION_TAG.search(source):  # the other of a default / tool_use pair has them
            base.warnings.append("this conversation's template has no {% generation %} blocks: nothing is trained")
        base.spans = _cover(len(full), generation)
        return base

    def prefix_len(msgs: list[dict], gen_prompt: bool) -> int | None:
        try:
            text, _ = render_messages(compiled, msgs, add_generation_prompt=gen_prompt, **ctx)
        except TemplateFailure:
            return None
        b = _common_prefix(text, full)
        # "<|end|>\n<|endoftext|>" and "<|end|>\n<|user|>" agree up to "<|": never split a control token
        for s, e in base.special:
            if s < b < e:
                return s
        return b

    n = len(messages)
    bounds = [0]
    for k in range(1, n):
        b = None
        if messages[k].get("role") == "assistant":  # an answer's region starts after its header
            b = prefix_len(messages[:k], True)
        if b is None:
            b = prefix_len(messages[:k], False)
        if b is None:
            base.warnings.append(f"could not render the first {k} messages alone; turn {k - 1} merges into the next")
            b = bounds[-1]
        bounds.append(max(b, bounds[-1]))
    end = prefix_len(messages, False) if agp else None  # the generation prompt is nobody's turn
    bounds.append(max(len(full) if end is None else end, bounds[-1]))

    enders = tuple(t for t in dict.fromkeys((*tpl.stop_tokens, tpl.eos_token)) if t)
    located = None
    if not _regions_hold_their_text(full, messages, bounds):
        # The template renders a turn differently once more turns follow (Mistral v3 folds the system
        # prompt into the last user turn): prefixes do not line up, so find each turn's own text instead.
        located = _locate(full, messages)
        base.warnings.append("this template renders earlier turns differently as the conversation grows; "
                             "trained spans were located by searching for each turn's text")
    assistants = [k for k, m in enumerate(messages) if m.get("role") == "assistant"]
    trained: list[tuple[int, int]] = []
    for k, msg in enumerate(messages):
        start, stop = bounds[k], bounds[k + 1]
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
        if on and located is not None:
            span = _located_span(full, located, k, enders, train_eos) if policy != "all" else (start, stop)
        elif on and (policy == "all" or msg.get("role") != "assistant"):
            span = (start, stop)  # a trained prompt turn (by weight) is trained whole: it has no answer header
        elif on:
            span = (start, _turn_end(full, start, stop, enders, train_eos))
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


def _own_text(msg: dict) -> list[str]:
    """The strings a message contributes that any faithful rendering contains."""
    out = []
    content = msg.get("content")
    if isinstance(content, str) and content.strip():
        out.append(content.strip())
    for call in msg.get("tool_calls") or ():
        name = (call.get("function") or call).get("name")
        if isinstance(name, str) and name:
            out.append(name)
    return out


def _regions_hold_their_text(full: str, messages: list[dict], bounds: list[int]) -> bool:
    """Does each turn's text lie in its own region? (System prompts may move: many templates fold them forward.)"""
    for k, msg in enumerate(messages):
        if msg.get("role") == "system":
            continue
        region = full[bounds[k]:bounds[k + 1]]
        for piece in _own_text(msg):
            if piece in full and piece not in region:
                return False
    return True


def _locate(full: str, messages: list[dict]) -> list[tuple[int, int] | None]:
    """Each message's own text, searched in order: (start of its first piece, end of its last) or None."""
    out: list[tuple[int, int] | None] = []
    cursor = 0
    for msg in messages:
        first = last = None
        for piece in _own_text(msg):
            at = full.find(piece, cursor)
            if at < 0:
                continue
            first = at if first is None else first
            last = cursor = at + len(piece)
        out.append(None if first is None else (first, last))
    return out


def _located_span(full: str, located: list, k: int, enders: tuple[str, ...], train_eos: bool):
    """A turn's trained span from its located text, extended to the first stop token before the next turn."""
    if located[k] is None:
        return None
    start, end = located[k]
    limit = next((loc[0] for loc in located[k + 1:] if loc is not None), len(full))
    hits = [(full.find(t, end, limit), t) for t in enders]
    hits = [(at, t) for at, t in hits if at >= 0]
    if hits:
        at, tok = min(hits)
        end = at + len(tok) if train_eos else at
    return (start, end)


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
