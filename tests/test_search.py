"""Search modes (workbench.views.Search): fuzzy, exact, regex, semantic; spans for highlighting;
next/previous match in list order."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.views import Search, next_match

PHRASE_ROWS = {2, 7, 11}


def phrase_records() -> list[dict]:
    """16 rows whose text holds every word of 'as an AI language model' (fuzzy finds them all);
    3 of them hold the phrase itself (one capitalised, one mid-sentence)."""
    recs = []
    for i in range(16):
        if i == 2:
            answer = "As an AI language model, I cannot browse."
        elif i == 7:
            answer = "Well, as an AI language model I have no opinions."
        elif i == 11:
            answer = "I speak AS AN AI LANGUAGE MODEL would."
        else:
            answer = f"An AI reads a language model paper {i} as homework, as planned."
        recs.append(make_record(id=f"p{i}", messages=[{"role": "user", "content": f"question {i}"},
                                                      {"role": "assistant", "content": answer}]))
    return recs


@pytest.fixture
def phrase_ds():
    return Dataset.from_records(phrase_records(), sources=["phrase.jsonl"])


def test_fuzzy_finds_every_row_with_the_words_exact_only_the_phrase(phrase_ds):
    fuzzy = Search.parse("as an AI language model").rows(phrase_ds)
    assert len(fuzzy) == 16
    exact = Search.parse("=as an AI language model").rows(phrase_ds)
    assert exact.tolist() == sorted(PHRASE_ROWS)


def test_regex_is_case_sensitive_as_written(phrase_ds):
    assert Search.parse("~as an AI language model").rows(phrase_ds).tolist() == [7]
    assert Search.parse("~(?i)^as an ai").rows(phrase_ds).tolist() == []  # the text starts with the question
    assert Search.parse("~(?im)^as an ai").rows(phrase_ds).tolist() == [2]


def test_parse_modes_and_errors():
    assert Search.parse("=a b ").mode == "exact" and Search.parse("=a b ").text == "a b "
    assert Search.parse("~x+").mode == "regex"
    assert Search.parse("?cooking").mode == "semantic"
    assert Search.parse("plain words").mode == "fuzzy"
    assert Search.parse("~x").label == "~x"
    with pytest.raises(ValueError, match="bad regex"):
        Search.parse("~(unclosed")
    with pytest.raises(ValueError, match="nothing"):
        Search.parse("=")


def test_spans_and_pieces():
    text = "As an AI language model, I say: as an ai language model."
    assert Search.parse("=as an ai language model").spans(text) == [(0, 23), (32, 55)]
    assert Search.parse("~AI").spans(text) == [(6, 8)]
    pieces = Search.parse("=model").pieces(text)
    assert "".join(p for p, _ in pieces) == text
    assert [p for p, m in pieces if m] == ["model", "model"]
    fuzzy = Search.parse("langauge").spans("a language model")  # a typo still lands on the word
    assert len(fuzzy) == 1 and "a language model"[fuzzy[0][0]:fuzzy[0][1]].startswith("la")
    assert Search.parse("?meaning").spans("any text") == []


def test_next_match_walks_list_order_and_wraps():
    matches = np.array([3, 8, 20])
    assert next_match(None, matches, 0, 1) == 3
    assert next_match(None, matches, 3, 1) == 8
    assert next_match(None, matches, 20, 1) == 3  # wraps
    assert next_match(None, matches, 3, -1) == 20
    view = np.array([20, 1, 8, 5])  # a sorted view: positions, not row numbers
    assert next_match(view, matches, 0, 1) == 2
    assert next_match(view, matches, 2, 1) == 0
    assert next_match(np.array([1, 5]), matches, 0, 1) is None


def test_semantic_search_finds_the_rows_about_the_meaning(tmp_path):
    """The real embedding model (slow to load: one test)."""
    topics = ["How do I bake sourdough bread at home?", "What temperature should a pizza oven reach?",
              "Best way to knead dough for baguettes?"]
    others = [f"Explain the proof of theorem {i} in group theory." for i in range(60)]
    recs = [make_record(id=f"s{i}", messages=[{"role": "user", "content": t}, {"role": "assistant", "content": "ok"}])
            for i, t in enumerate(others[:30] + topics + others[30:])]
    ds = Dataset.from_records(recs, sources=["sem.jsonl"])
    search = Search.parse("?baking bread in an oven")
    assert len(search.rows(ds)) == 50  # SEMANTIC_K nearest
    rows = replace(search, k=3).rows(ds)
    assert sorted(rows.tolist()) == [30, 31, 32]  # the three about baking, nearest first
    assert search.rows(ds)[:3].tolist() == rows.tolist()


def test_ranked_rows_keep_their_order_in_the_view(phrase_ds, ws):
    from workbench.session import Session
    from workbench.views import Filters

    s = Session(phrase_ds, ws)
    s.decide(["p9"], "reject")
    s.set_filters(Filters(rows=np.array([9, 2, 14, 5]), ranked=True))
    assert s.view.tolist() == [9, 2, 14, 5]
    s.set_filters(Filters(status="pending", rows=np.array([9, 2, 14, 5]), ranked=True))
    assert s.view.tolist() == [2, 14, 5]
    s.set_filters(Filters(rows=np.array([9, 2, 14, 5])))
    assert s.view.tolist() == [2, 5, 9, 14]
