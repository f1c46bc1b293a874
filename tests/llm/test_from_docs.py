"""`generate from-docs`: documents -> chunks -> grounded question-answer pairs, over the loopback
server with scripted replies (good, ungrounded, off-topic, empty)."""

from __future__ import annotations

import json

import pytest

from tests.support.docs import simple_pdf
from tests.support.loopback import LoopbackServer
from workbench.cli import main
from workbench.data.documents import chunk_spans, count_tokens, html_text, read_document
from workbench.ops.generation.common import GenerationError
from workbench.ops.generation.from_docs import from_docs, lexical_support, parse_exchange, parse_verdict

TIDES = ("# Tides\n\nTides are caused mainly by the gravity of the Moon. The Sun adds a smaller pull.\n\n"
         "## Neap tides\n\nNeap tides happen at the quarter moons, when the tidal range is smallest.\n")


def test_chunks_follow_headings_and_stay_within_budget():
    spans = chunk_spans(TIDES, budget=40)
    texts = [TIDES[s:e] for s, e in spans]
    assert texts[0].startswith("# Tides") and texts[1].startswith("## Neap tides")
    assert all(count_tokens(t) <= 40 for t in texts)
    long = "\n\n".join(f"Sentence {i} is here. Another one follows {i}." for i in range(30))
    spans = chunk_spans(long, budget=25)
    assert len(spans) > 5 and all(count_tokens(long[s:e]) <= 25 for s, e in spans)
    # every block is covered, in order, and spans do not overlap
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    assert "".join(long[s:e] for s, e in spans).replace("\n", "") == long.replace("\n", "")


def test_html_and_pdf_text(tmp_path):
    page = ("<html><head><style>p{}</style><script>var x</script></head><body><nav>Home | About</nav>"
            "<h2>Moon</h2><div><p>The Moon orbits the <b>Earth</b>.</p><ul><li>27 days</li></ul></div></body></html>")
    assert html_text(page) == "## Moon\n\nThe Moon orbits the Earth.\n\n27 days"
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(simple_pdf(["Tides are caused by the Moon.", "The Sun adds a smaller effect."]))
    assert read_document(pdf) == "Tides are caused by the Moon.\nThe Sun adds a smaller effect."


def test_parsers():
    assert parse_exchange("Question: Why?\nAnswer: Because.", False) == [("Why?", "Because.")]
    turns = parse_exchange("**Question:** A?\n**Answer:** a.\nFollow-up: B?\nFollow-up answer: b.", True)
    assert turns == [("A?", "a."), ("B?", "b.")]
    with pytest.raises(GenerationError, match="no Answer:"):
        parse_exchange("Question: only a question", False)
    with pytest.raises(GenerationError, match="no Question: / Answer:"):
        parse_exchange("Here is a poem about cats.", False)
    assert parse_verdict("Verdict: UNSUPPORTED\nReason: the Sun is not named") == (False, "the Sun is not named")
    assert parse_verdict("verdict: supported") == (True, "")
    with pytest.raises(GenerationError, match="no 'Verdict:'"):
        parse_verdict("It looks fine to me.")
    score, absent = lexical_support("Mars causes tides every 12 hours", TIDES)
    assert score < 0.5 and {"mars", "12", "hours"} <= set(absent)
    assert lexical_support("The gravity of the Moon causes tides.", TIDES)[0] == 1.0


def reply(messages):
    p = messages[-1]["content"]
    if p.startswith("Passage:"):  # the grounding check
        if "Mars" in p or "volcano" in p:
            return "Verdict: UNSUPPORTED\nReason: the passage does not say that"
        return "Verdict: SUPPORTED\nReason: stated in the passage"
    chunk = p.split("Passage:\n", 1)[1]
    if "Neap" in chunk:
        if "summarising" in p:
            return ""  # empty: an error of that row
        if "reasoning" in p:
            return "Sure! Here is a fun fact about volcanoes instead."  # off-topic chatter: an error
        if "Follow-up" in p:
            return ("Question: When do neap tides happen?\nAnswer: At the quarter moons.\n"
                    "Follow-up: What is the tidal range then?\nFollow-up answer: The range is smallest.")
        return "Question: What is a volcano?\nAnswer: A mountain that erupts lava."  # off-topic, well formed
    if "reasoning" in p:  # ungrounded: facts absent from the chunk (the check and lexical score both catch it)
        return "Question: What causes tides?\nAnswer: Mars causes tides every 12 hours."
    if "summarising" in p:  # the LLM check passes but almost nothing of it is in the chunk
        return "Question: Summarise the passage.\nAnswer: Oceans rise twice daily worldwide."
    if "Follow-up" in p:
        return ("Question: What mainly causes tides?\nAnswer: The gravity of the Moon.\n"
                "Follow-up: What else pulls?\nFollow-up answer: The Sun adds a smaller pull.")
    return "Question: What mainly causes tides?\nAnswer: The gravity of the Moon causes tides."


def test_from_docs_keeps_grounded_pairs_and_says_why_others_went(make_client, ws):
    (s0, e0), (s1, e1) = chunk_spans(TIDES, 40)
    assert TIDES[s0:e0].endswith("smaller pull.") and TIDES[s1:e1].startswith("## Neap")
    A, B = f"tides.md#{s0}-{e0}", f"tides.md#{s1}-{e1}"
    srv = LoopbackServer(reply).__enter__()
    res = from_docs([("tides.md", TIDES)], make_client(srv), ws, budget=40)
    asked = srv.total
    kept = {r["id"]: r for r in res.rows}
    assert set(kept) == {f"{A}:factual", f"{B}:multi-turn"}
    assert set(res.errors) == {f"{B}:summarising", f"{B}:reasoning"}
    assert "empty" in res.errors[f"{B}:summarising"]
    assert "no Question: / Answer:" in res.errors[f"{B}:reasoning"]
    d = res.dropped
    assert "grounding check: unsupported" in d[f"{A}:reasoning"]
    assert "lexical support 0.00 < 0.5" in d[f"{A}:summarising"] and "oceans" in d[f"{A}:summarising"]
    assert "near-copy (ROUGE-L 1.00 >= 0.7) of a question seen before" in d[f"{A}:multi-turn"]
    assert "grounding check: unsupported" in d[f"{B}:factual"]
    # every item ends kept, dropped with a reason, or failed with its error
    assert len(kept) + len(d) + len(res.errors) == 8
    prov = kept[f"{B}:multi-turn"]["meta"]["provenance"]
    assert prov["document"] == "tides.md" and prov["span"] == [s1, e1] and TIDES[s1:e1] == prov["chunk"]
    assert prov["grounding"]["llm"] == "supported" and prov["question_type"] == "multi-turn"
    assert [m["role"] for m in kept[f"{B}:multi-turn"]["messages"]] == ["user", "assistant"] * 2
    # a re-run asks again only the two failed rows (no reply of theirs was cached)
    again = from_docs([("tides.md", TIDES)], make_client(srv), ws, budget=40)
    srv.__exit__(None, None, None)
    assert srv.total - asked == 2 and len(again.rows) == 2 and again.dropped == res.dropped


def test_from_docs_command_reads_a_folder_of_documents(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tides.md").write_text(TIDES)
    (docs / "moon.html").write_text("<h1>Moon</h1><p>The gravity of the Moon causes tides on Earth.</p>")
    (docs / "sun.pdf").write_bytes(simple_pdf(["The gravity of the Moon causes tides on Earth."]))
    out = tmp_path / "qa.jsonl"
    with LoopbackServer(reply) as srv:
        rc = main(["generate", "from-docs", str(docs), "--model", "openai/loopback", "--api-base", srv.api_base,
                   "--types", "factual", "--limit", "3", "-o", str(out),
                   "--workspace", str(tmp_path / "ws.sqlite")])
    err = capsys.readouterr().err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rc == 0, err
    # three chunks (--limit 3 of four): moon.html's, sun.pdf's, then the first of tides.md; the
    # same question asked of the next two is a near-copy of the first
    assert [r["provenance"]["document"] for r in rows] == [str(docs / "moon.html")]
    assert rows[0]["messages"][0] == {"role": "user", "content": "What mainly causes tides?"}
    assert f"dropped {docs / 'sun.pdf'}#0-" in err and f"dropped {docs / 'tides.md'}#0-" in err
    assert err.count("of a question seen before") == 2 and "wrote 1 rows" in err


def test_unreadable_document_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 not really")
    with pytest.raises(SystemExit) as exit_:
        main(["generate", "from-docs", str(bad), "-o", str(tmp_path / "o.jsonl")])
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and err.startswith(f"workbench: {bad}: not a readable PDF") and "Traceback" not in err


@pytest.mark.slow
def test_from_docs_with_the_local_model(tmp_path, capsys):
    """The embedded model on one short document: whatever it writes, every pair ends kept (with
    its provenance), dropped with a reason, or failed with its error."""
    doc = tmp_path / "tides.md"
    doc.write_text(TIDES)
    out = tmp_path / "qa.jsonl"
    rc = main(["generate", "from-docs", str(doc), "--types", "factual", "--limit", "1", "--max-tokens", "96",
               "--temperature", "0", "-o", str(out), "--workspace", str(tmp_path / "ws.sqlite")])
    err = capsys.readouterr().err
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    lines = err.splitlines()
    failed = [x for x in lines if x.startswith("failed ")]
    assert len(rows) + len([x for x in lines if x.startswith("dropped ")]) + len(failed) == 1, err
    assert rc == (1 if failed else 0)
    for r in rows:
        assert r["provenance"]["grounding"]["llm"] == "supported" and r["provenance"]["span"][0] == 0
