"""score-heuristics: length ratio, MTLD, prompt complexity, language id, PII (no model)."""

from __future__ import annotations

import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.ops import registry
from workbench.ops.base import Context
from workbench.ops.heuristics import luhn, mtld, pii_kinds, ttr, words


def row(i, prompt, answer):
    return make_record(id=f"r{i}", messages=[{"role": "user", "content": prompt},
                                             {"role": "assistant", "content": answer}])


def test_mtld_and_ttr():
    assert mtld(words("the the the the the the the the the the")) == 2.0  # a factor every two words
    diverse = words("quick brown foxes jump over lazy dogs while seven wizards quietly hex bold judges")
    assert mtld(diverse) == len(diverse) and ttr(diverse) == 1.0
    assert mtld([]) is None and ttr([]) is None


@pytest.mark.parametrize("text,kinds", [
    ("write to jane.doe@example.com today", {"email": 1}),
    ("call me on +44 20 7946 0958 tomorrow", {"phone": 1}),
    ("ring (415) 555-2671 or 650-253-0000", {"phone": 2}),  # read as US numbers (phone_region)
    ("order 123-456-7890 shipped on 2024-01-15", {}),  # not a valid number, nor is a date
    ("write to a@b.io from 10.0.0.1", {"email": 1, "ip_address": 1}),
    ("card 4111 1111 1111 1111 exp 12/30", {"credit_card": 1}),
    ("card 4111 1111 1111 1112 is a typo", {}),  # fails the Luhn check
    ("server at 192.168.1.20 answers", {"ip_address": 1}),
    ("in 1999 there were 3.5 million cats", {}),
])
def test_pii(text, kinds):
    assert pii_kinds(text) == kinds


def test_luhn():
    assert luhn("79927398713") and not luhn("79927398710")


def test_the_operation_writes_signals():
    rows = [row(0, "Write exactly three bullet points about tea. Use markdown. Do not mention coffee.",
                "- Green tea is steamed.\n- Black tea is oxidised.\n- Oolong sits in between."),
            row(1, "Bonjour, comment faire une omelette ?", "Battez les oeufs, puis faites-les cuire dans une poêle "
                "avec du beurre. Mon courriel est marie@exemple.fr si besoin."),
            row(2, "hi", "hello")]
    res = registry.get("score-heuristics").run(Dataset.from_records(rows), registry.get("score-heuristics")
                                               .default_params(), Context())
    got = {(rid, name): v for rid, name, v in res.signals}
    assert got[("r0", "heuristic.language")] == "en" and got[("r1", "heuristic.language")] == "fr"
    assert got[("r1", "heuristic.pii")] == ["email"] and got[("r0", "heuristic.pii_count")] == 0
    assert got[("r0", "heuristic.instruction_constraints")] > got[("r2", "heuristic.instruction_constraints")] == 0
    assert got[("r2", "heuristic.length_ratio")] == 1.0 and got[("r0", "heuristic.instruction_words")] == 13
    assert res.report["rows_with_pii"] == 1


def test_heuristic_signals_filter_and_rank(ws):
    from workbench.ops.base import ParamError, apply_result
    from workbench.ops.select import scores_of
    from workbench.session import Session

    rows = [row(0, "List three teas. Use a table.", "Green, black and oolong tea."),
            row(1, "Comment faire une omelette ?", "Battez les oeufs. Écrivez à marie@exemple.fr ou au "
                "+33 1 42 68 53 00."),
            row(2, "hi", "hello there, friend")]
    ds = Dataset.from_records(rows)
    op = registry.get("score-heuristics")
    apply_result(ws, op.run(ds, op.default_params(), Context()))
    s = Session(ds, ws)
    assert s.select("heuristic.language=fr") == ["r1"]
    assert s.select("heuristic.pii=phone") == ["r1"] and s.select("heuristic.pii!=email") == ["r0", "r2"]
    assert s.select("heuristic.pii_count>=2") == ["r1"]
    assert s.select("heuristic.instruction_constraints>=2") == ["r0"]
    assert s.select("heuristic.length_ratio>1 heuristic.mtld>0") == ["r1", "r2"]
    # numeric heuristics are scores select ranks by; the language is not a number
    assert scores_of(ws, "score:heuristic.length_ratio", ["r2", "r0"]) == ("heuristic.length_ratio", [3.0, 0.8333])
    assert scores_of(ws, "score:heuristic.language", ["r0"]) == ("heuristic.language", [None])
    with pytest.raises(ParamError, match="phone_region must be an ISO 3166"):
        op.params_from_dict({"phone_region": "Mars"})
