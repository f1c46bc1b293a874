"""Rule filters: cheap checks that flag rows with a reason each (never removing anything).

Rules and their parameters come from `Rules`; a JSON rules file overrides any of them:

    {
      "min_chars": 10, "max_chars": 100000,       # length of the `length_view` text
      "min_tokens": 3, "max_tokens": null,        # tokens = words and punctuation marks
      "length_view": "all",                       # prompt | answer | all
      "refusal_phrases": ["I'd rather not"],      # added to the default list
      "refusal_phrases_file": "phrases.txt",      # one phrase per line, added too
      "default_refusals": true,                   # false: only your phrases
      "unwanted_words": ["lorem"], "unwanted_words_file": "words.txt",
      "max_repeated_lines": 0.3,                  # share of non-blank lines that repeat an earlier one
      "max_repeated_ngrams": 0.3, "repeat_ngram": 3,   # share of word n-grams seen before
      "min_unfinished_chars": 100,                # answers shorter than this may end without a period
      "disable": ["alternation"]                  # rule names to skip (see RULES)
    }

Preference pairs whose chosen side equals the rejected one, or one side is a prefix of the
other, are flagged as `degenerate_pair` (they teach the trainer nothing, or to stop early).

Paths in the file are relative to it. Phrases and words match case-insensitively; words match
whole words. Refusals are looked for in what a row trains: the assistant turns of a
conversation, the text of a plain-text row, and for a preference pair the chosen side's turns
(never the shared prompt turns before them, never the rejected side). A pair whose chosen side
refuses and whose rejected side complies teaches refusing (harmlessness data such as Anthropic
HH): it is flagged only when both sides refuse.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Iterable

from workbench.data.record import Record, alternation_problem, degenerate_pair, view_text
from workbench.ops.base import Context, Operation, Params, ParamError, Result, records_of

RULES = ("length", "tokens", "empty_turn", "refusal", "unwanted_words", "repetition", "alternation", "unfinished",
         "degenerate_pair")

DEFAULT_REFUSALS = (
    "as an ai language model",
    "as a language model",
    "as an ai model",
    "as an ai assistant, i",
    "as a large language model",
    "i'm just an ai",
    "i am just an ai",
    "i cannot assist with",
    "i can't assist with",
    "i cannot help with that",
    "i can't help with that",
    "i'm sorry, but i cannot",
    "i'm sorry, but i can't",
    "i am sorry, but i cannot",
    "i'm unable to provide",
    "i am unable to provide",
    "i cannot fulfill",
    "i can't fulfill",
    "i cannot provide assistance",
    "i'm not able to provide",
    "it is not appropriate for me",
    "it's not appropriate for me",
    "i don't have personal opinions",
    "i do not have personal opinions",
    "my knowledge cutoff",
    "as of my last knowledge update",
    "openai's content policy",
    "against my programming",
)

_TOKEN_RE = re.compile(r"\w+|[^\w\s]")
_FENCE_RE = re.compile(r"^\s*(```|~~~)", re.M)
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
# An answer that stops on one of these was cut off, whatever its length.
_DANGLING = ",:(-[{\u2013\u2014"
# The settings' types (as annotated on Rules): a check and how an error names it.
_TYPES = {
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
    "float": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "str": (lambda v: isinstance(v, str), "a string"),
    "list[str]": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "a list of strings"),
}


@dataclass
class Rules(Params):
    min_chars: int | None = 10
    max_chars: int | None = 100_000
    min_tokens: int | None = 3
    max_tokens: int | None = None
    length_view: str = "all"
    refusal_phrases: list[str] = field(default_factory=list)
    default_refusals: bool = True
    unwanted_words: list[str] = field(default_factory=list)
    max_repeated_lines: float = 0.3
    max_repeated_ngrams: float = 0.3
    repeat_ngram: int = 3
    min_unfinished_chars: int = 100
    disable: list[str] = field(default_factory=list)

    @classmethod
    def from_file(cls, path: str | Path) -> "Rules":
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{e.lineno}: not valid JSON: {e.msg}") from None
        except OSError as e:
            raise ValueError(f"{path}: cannot read the rules file: {e.strerror}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}:1: the rules file must hold one JSON object")
        for key, target in (("refusal_phrases_file", "refusal_phrases"), ("unwanted_words_file", "unwanted_words")):
            if key in data:
                if not isinstance(data[key], str):
                    raise ValueError(f"{path}: {key} must be a file name, not {data[key]!r}")
                listed = path.parent / data.pop(key)
                try:
                    lines = listed.read_text(encoding="utf-8").splitlines()
                except OSError as e:
                    raise ValueError(f"{path}: {key}: cannot read {listed}: {e.strerror}") from None
                data[target] = list(data.get(target, [])) + [ln.strip() for ln in lines if ln.strip()]
        known = {f.name for f in fields(cls)} | {"refusal_phrases_file", "unwanted_words_file"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{path}: unknown rule setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        rules = cls(**data)
        rules.validate(str(path))
        return rules

    def validate(self, where: str = "rules") -> None:
        """Raises ParamError (a ValueError) naming `where` and the setting."""
        for f in fields(self):  # a rules file holds any JSON: "max_chars": "lots" must not crash a check
            value, nullable = getattr(self, f.name), f.type.endswith(" | None")
            check, name = _TYPES[f.type.removesuffix(" | None")]
            if not (check(value) or (nullable and value is None)):
                raise ParamError(f"{where}: {f.name} must be {name}{' or null' if nullable else ''}, "
                                 f"not {json.dumps(value)}")
        bad = sorted(set(self.disable) - set(RULES))
        if bad:
            raise ParamError(f"{where}: unknown rule(s) in disable: {', '.join(bad)}; rules are {', '.join(RULES)}")
        view_text({}, self.length_view)
        if self.repeat_ngram < 1:
            raise ParamError(f"{where}: repeat_ngram must be >= 1")


class Checker:
    """Rules compiled once (phrase and word regexes), applied to one record at a time."""

    def __init__(self, rules: Rules | None = None):
        self.rules = r = rules or Rules()
        r.validate()
        phrases = (list(DEFAULT_REFUSALS) if r.default_refusals else []) + [p.lower() for p in r.refusal_phrases]
        self._refusal = re.compile("|".join(re.escape(p.translate(_QUOTES)) for p in phrases)) if phrases else None
        words = [w.lower() for w in r.unwanted_words if w.strip()]
        self._unwanted = re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b") if words else None
        self._on = set(RULES) - set(r.disable)

    def _refused(self, texts: Iterable[str]) -> str | None:
        """The first refusal phrase in `texts`, or None."""
        for t in texts:
            m = self._refusal.search(t.lower().translate(_QUOTES))
            if m:
                return m.group(0)
        return None

    def _refusal_reason(self, rec: Record, answers: list[str]) -> list[str]:
        if not _is_pair(rec):
            phrase = self._refused(answers)
            return [f"refusal: {phrase!r}"] if phrase else []
        phrase = self._refused(_side_answers(rec, "chosen"))
        if phrase is None or self._refused(_side_answers(rec, "rejected")) is None:
            return []  # the pair teaches refusing over complying (or trains no refusal)
        return [f"refusal: {phrase!r} (both sides refuse)"]

    def reasons(self, rec: Record) -> list[str]:
        """Why the row should go, one reason per failed rule; empty when it passes."""
        r, on, out = self.rules, self._on, []
        text = view_text(rec, r.length_view)
        if "length" in on:
            if r.min_chars is not None and len(text) < r.min_chars:
                out.append(f"too_short: {len(text)} chars < {r.min_chars}")
            if r.max_chars is not None and len(text) > r.max_chars:
                out.append(f"too_long: {len(text)} chars > {r.max_chars}")
        if "tokens" in on and (r.min_tokens is not None or r.max_tokens is not None):
            n = len(_TOKEN_RE.findall(text))
            if r.min_tokens is not None and n < r.min_tokens:
                out.append(f"too_few_tokens: {n} < {r.min_tokens}")
            if r.max_tokens is not None and n > r.max_tokens:
                out.append(f"too_many_tokens: {n} > {r.max_tokens}")
        if "empty_turn" in on:
            empty = _empty_turn(rec)
            if empty:
                out.append(f"empty_turn: {empty}")
        answers = [rec.get("text") or ""] if rec.get("kind") == "text" else _answers(rec)
        if "refusal" in on and self._refusal:
            out += self._refusal_reason(rec, answers)
        if "unwanted_words" in on and self._unwanted:
            m = self._unwanted.search(view_text(rec, "all").lower())
            if m:
                out.append(f"unwanted_word: {m.group(0)!r}")
        if "repetition" in on:
            for a in answers:
                line_ratio = repeated_line_ratio(a)
                if line_ratio > r.max_repeated_lines:
                    out.append(f"repeated_lines: {line_ratio:.2f} > {r.max_repeated_lines}")
                    break
                ngram_ratio = repeated_ngram_ratio(a, r.repeat_ngram)
                if ngram_ratio > r.max_repeated_ngrams:
                    out.append(f"repeated_ngrams: {ngram_ratio:.2f} of {r.repeat_ngram}-grams > {r.max_repeated_ngrams}")
                    break
        if "alternation" in on and rec.get("kind") != "text":
            problem = alternation_problem(rec)
            if problem:
                out.append(f"roles_not_alternating: {problem}")
        if "unfinished" in on and rec.get("kind") != "text":
            for a in _final_answers(rec):
                problem = unfinished_problem(a, r.min_unfinished_chars)
                if problem:
                    out.append(f"unfinished: {problem}")
                    break
        if "degenerate_pair" in on:
            problem = degenerate_pair(rec)
            if problem:
                out.append(f"degenerate_pair: {problem}")
        return out


def _turn_lists(rec: Record) -> Iterable[tuple[str, list]]:
    for side in ("messages", "chosen", "rejected"):
        if rec.get(side):
            yield side, rec[side]


def _empty_turn(rec: Record) -> str | None:
    if rec.get("kind") == "text":
        return None if (rec.get("text") or "").strip() else "text is empty"
    for side, turns in _turn_lists(rec):
        for i, t in enumerate(turns):
            if not (t.get("content") or "").strip() and not t.get("tool_calls"):
                return f"{side}[{i}] ({t.get('role')}) is empty"
    return None


def _answers(rec: Record) -> list[str]:
    out = [t.get("content") or "" for t in rec.get("messages") or () if t.get("role") == "assistant"]
    out += [t.get("content") or "" for t in rec.get("chosen") or () if t.get("role") == "assistant"]
    return [a for a in out if a]


def _is_pair(rec: Record) -> bool:
    return bool(rec.get("chosen") or rec.get("rejected"))


def _side_answers(rec: Record, side: str) -> list[str]:
    """The assistant turns of one side of a preference pair (its new turns, after the shared prompt)."""
    return [t.get("content") or "" for t in rec.get(side) or () if t.get("role") == "assistant" and t.get("content")]


def _final_answers(rec: Record) -> list[str]:
    """The answers a trainer learns as complete: the last assistant turn, or each preference side."""
    if _is_pair(rec):
        sides = [rec.get("chosen") or [], rec.get("rejected") or []]
    else:
        sides = [rec.get("messages") or []]
    out = []
    for turns in sides:
        last = [t for t in turns if t.get("role") == "assistant" and t.get("content")]
        if last:
            out.append(last[-1]["content"])
    return out


def repeated_line_ratio(text: str) -> float:
    """Share of non-blank lines that repeat an earlier line (0 for fewer than 4 lines)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines) < 4:
        return 0.0
    return 1 - len(set(lines)) / len(lines)


def repeated_ngram_ratio(text: str, n: int = 3) -> float:
    """Share of word n-grams that occurred earlier in the text (0 for fewer than 20 n-grams)."""
    ws = text.lower().split()
    grams = [tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)]
    if len(grams) < 20:
        return 0.0
    return 1 - len(set(grams)) / len(grams)


def unfinished_problem(answer: str, min_chars: int = 100) -> str | None:
    """Whether an answer looks cut off: an unclosed code fence, or a last character that
    cannot end a sentence (a comma, a colon, an opening bracket; a lower-case word in a long answer)."""
    if len(_FENCE_RE.findall(answer)) % 2:
        return "unclosed code block"
    end = answer.rstrip()
    if not end:
        return None
    last = end[-1]
    if last in _DANGLING:
        return f"ends with {last!r}"
    # A final all-lower-case word ending a line of prose: a sentence cut short. Names,
    # sign-offs, hashtags and numbers can end an answer without a period, and so can code
    # (an indented or short last line: `    return result`).
    line = end.splitlines()[-1]
    word = line.split()[-1]
    prose = not line[:1].isspace() and len(line.split()) >= 5
    if prose and word.isalpha() and word.islower() and len(end) >= min_chars:
        return f"ends mid-sentence: ...{end[-30:]!r}"
    return None


def run_filters(batches: Iterable[list[Record]], rules: Rules | None = None) -> Result:
    """Check every row; flagged rows get a `filter_reasons` signal and a proposed rejection."""
    checker = Checker(rules)
    flags, n = [], 0
    for batch in batches:
        for rec in batch:
            n += 1
            why = checker.reasons(rec)
            if why:
                flags.append((rec["id"], why))
    return filter_result(flags, n, checker.rules)


def filter_result(flags: Iterable[tuple[str, list[str]]], n: int, rules: Rules, *, compact: bool = False) -> Result:
    """The filter's Result from (row id, reasons) of the flagged rows, in row order, out of `n`
    rows checked (an engine that checks batches elsewhere, workbench.engine.ray, builds it too).
    `compact` (a cluster run's result): the report counts the flagged rows instead of listing
    them again beside the signals."""
    signals, rejects, by_rule = [], {}, {}
    for rid, why in flags:
        signals.append((rid, "filter_reasons", why))
        names = sorted({w.split(":", 1)[0] for w in why})
        rejects[rid] = "filter: " + ", ".join(names)
        for name in names:
            by_rule[name] = by_rule.get(name, 0) + 1
    params = asdict(rules)
    report = {
        "op": "filter",
        "params": params,
        "rows": n,
        "flagged": len(rejects),
        "by_rule": dict(sorted(by_rule.items(), key=lambda kv: -kv[1])),
        "rows_flagged": len(signals) if compact else [{"row": rid, "reasons": why} for rid, _, why in signals],
    }
    detail = ", ".join(f"{k} {v}" for k, v in report["by_rule"].items())
    summary = f"filter: {n} rows, {len(rejects)} flagged for rejection" + (f" ({detail})" if detail else "")
    return Result("filter", params, signals, rejects, report, summary)


class Filter(Operation):
    name = "filter"
    fail_on = "flag"
    Params = Rules
    scope = "row"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rules", metavar="FILE", help="JSON rules file (see workbench.ops.filters for the settings)")

    def params_from_args(self, args) -> Rules:
        return Rules.from_file(args.rules) if args.rules else Rules()

    def run(self, ds, params: Rules, ctx: Context, rows: list[str] | None = None) -> Result:
        total = len(ds) if rows is None else len(rows)

        def batches():
            done = 0
            for batch in records_of(ds, rows):
                ctx.check()
                yield batch
                done += len(batch)
                ctx.report(done, total)

        return run_filters(batches(), params)
