"""Heuristic scores with no model: cheap signals to sort, filter and select by.

Per row (signals `heuristic.<name>`):
- `length_ratio`: answer words / prompt words (the answer's length relative to the ask);
- `mtld`: lexical diversity of the answer, MTLD (McCarthy & Jarvis, 2010: the mean length of
  word runs whose type-token ratio stays above 0.72, averaged forwards and backwards; stable
  across text lengths, unlike the plain type-token ratio), and `ttr`, the plain ratio;
- `instruction_words` and `instruction_constraints`: complexity proxies of the prompt, the
  second counting constraint cues (must/should/at least/no more than/exactly/format words such
  as JSON, table, bullet; numbered or bulleted lines; each further question);
- `language`: ISO 639-1 code of the whole conversation by py3langid (langid.py's model, shipped
  inside the package: no download);
- `pii`: kinds of personal data found (email, phone, credit_card, ip_address) and `pii_count`.
  Phone numbers are found by `phonenumbers` (Google's libphonenumber: numbers valid for their
  country's numbering plan, so "123-456-7890" or a date is not one; a number without a country
  code is read as one of `phone_region`). The full PII detectors need what does not install
  here without downloads (Presidio: a spaCy model; scrubadub: textblob, nltk, faker and an
  unmaintained release; datafog: young, with telemetry code), so emails, IP addresses and card
  numbers (which must pass the Luhn checksum) are regular expressions. Names and street
  addresses are not found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from workbench.data.record import Record, view_text
from workbench.ops.base import Context, Operation, ParamError, Params, Result, param, records_of

OP = "score-heuristics"
MTLD_THRESHOLD = 0.72
_WORD = re.compile(r"\w+(?:'\w+)?", re.U)
_CUES = re.compile(
    r"\b(must|should|exactly|at least|at most|no more than|no less than|only|without|do not|don't|never|always|"
    r"each|every|json|yaml|csv|table|bullet|list|markdown|format|words?|sentences?|paragraphs?|steps?)\b", re.I)
_ITEM_LINE = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+", re.M)
PII_PATTERNS = {
    "email": re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b"),
    "ip_address": re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"),
}
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def ttr(tokens: Sequence[str]) -> float | None:
    return len(set(tokens)) / len(tokens) if tokens else None


def _mtld_pass(tokens: Sequence[str]) -> float:
    factors, types, count = 0.0, set(), 0
    for t in tokens:
        types.add(t)
        count += 1
        if len(types) / count <= MTLD_THRESHOLD:
            factors, types, count = factors + 1, set(), 0
    if count:  # the partial factor of the remainder
        factors += (1 - len(types) / count) / (1 - MTLD_THRESHOLD)
    return len(tokens) / factors if factors else float(len(tokens))


def mtld(tokens: Sequence[str]) -> float | None:
    """MTLD of a token list (higher: more diverse); None for an empty text."""
    if not tokens:
        return None
    return (_mtld_pass(tokens) + _mtld_pass(list(reversed(tokens)))) / 2


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def pii_kinds(text: str, phone_region: str = "US") -> dict[str, int]:
    """{kind: count} of the personal data found in `text`; `phone_region`: the ISO 3166 country
    whose numbering plan reads a phone number written without a country code."""
    import phonenumbers

    cards = [re.sub(r"\D", "", m) for m in _CARD.findall(text)]
    rest = _CARD.sub(" ", text)  # a long digit run (a card, valid or not) is not also a phone number
    found = {k: len(p.findall(rest)) for k, p in PII_PATTERNS.items()}
    found["phone"] = sum(1 for _ in phonenumbers.PhoneNumberMatcher(rest, phone_region,
                                                                    leniency=phonenumbers.Leniency.VALID))
    found["credit_card"] = sum(1 for c in cards if 13 <= len(c) <= 19 and luhn(c))
    return {k: v for k, v in found.items() if v}


def language(text: str) -> str | None:
    if not text.strip():
        return None
    import py3langid

    return py3langid.classify(text)[0]


def instruction_constraints(prompt: str) -> int:
    return len(_CUES.findall(prompt)) + len(_ITEM_LINE.findall(prompt)) + max(0, prompt.count("?") - 1)


def row_scores(rec: Record, phone_region: str = "US") -> dict:
    prompt, answer = view_text(rec, "prompt"), view_text(rec, "answer")
    if rec.get("kind") == "text":
        prompt, answer = "", rec.get("text") or ""
    p_words, a_words = words(prompt), words(answer)
    pii = pii_kinds(view_text(rec, "all"), phone_region)
    return {
        "length_ratio": round(len(a_words) / len(p_words), 4) if p_words else None,
        "mtld": round(m, 2) if (m := mtld(a_words)) is not None else None,
        "ttr": round(t, 4) if (t := ttr(a_words)) is not None else None,
        "instruction_words": len(p_words),
        "instruction_constraints": instruction_constraints(prompt),
        "language": language(view_text(rec, "all")),
        "pii": sorted(pii),
        "pii_count": sum(pii.values()),
    }


@dataclass
class HeuristicParams(Params):
    phone_region: str = param("US", help="country (ISO 3166 code) of phone numbers written without a country code")

    def validate(self) -> None:
        super().validate()
        import phonenumbers

        if self.phone_region not in phonenumbers.SUPPORTED_REGIONS:
            raise ParamError(f"phone_region must be an ISO 3166 country code such as US, GB or DE, "
                             f"not {self.phone_region!r}")


class ScoreHeuristics(Operation):
    name = OP
    Params = HeuristicParams
    scope = "row"

    def run(self, ds, params, ctx: Context, rows=None) -> Result:
        signals, n, langs, with_pii = [], 0, {}, 0
        for batch in records_of(ds, rows):
            ctx.check()
            for rec in batch:
                scores = row_scores(rec, params.phone_region)
                signals += [(rec["id"], f"heuristic.{k}", v) for k, v in scores.items() if v is not None]
                langs[scores["language"]] = langs.get(scores["language"], 0) + 1
                with_pii += bool(scores["pii_count"])
            n += len(batch)
            ctx.report(n)
        top = ", ".join(f"{k} {v}" for k, v in sorted(langs.items(), key=lambda kv: -kv[1])[:5] if k)
        return Result(OP, params.to_dict(), signals=signals,
                      report={"op": OP, "rows": n, "languages": langs, "rows_with_pii": with_pii},
                      summary=f"scored {n} rows: languages {top or 'none'}; {with_pii} rows with PII")
