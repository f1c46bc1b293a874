import json

import pytest

from workbench.data.record import make_record
from workbench.ops.filters import Checker, Rules, run_filters


def sft(*turns, system=None, rid="r"):
    msgs = [{"role": role, "content": content} for role, content in turns]
    return make_record(id=rid, system=system, messages=msgs)


GOOD = sft(("user", "How do I reverse a list in Python?"),
           ("assistant", "Use slicing: `items[::-1]` returns a reversed copy, and `items.reverse()` reverses in place."))


def names(rec, **rules):
    return [r.split(":", 1)[0] for r in Checker(Rules(**rules)).reasons(rec)]


def test_a_good_row_passes():
    assert names(GOOD) == []


def test_length_in_chars_and_tokens():
    short = sft(("user", "Hi"), ("assistant", "Yo"))
    assert "too_short" in names(short)
    assert "too_few_tokens" in names(short, min_chars=None)
    assert "too_long" in names(GOOD, max_chars=50)
    assert "too_many_tokens" in names(GOOD, max_tokens=10)
    assert names(GOOD, max_tokens=1000) == []


def test_length_on_the_answer_only():
    rec = sft(("user", "Please write a long and detailed essay about rivers."), ("assistant", "No."))
    assert "too_short" not in names(rec)
    assert "too_short" in names(rec, length_view="answer")


def test_empty_and_whitespace_turns():
    rec = sft(("user", "Tell me a joke about cats please."), ("assistant", "   \n "))
    reasons = Checker().reasons(rec)
    assert any(r.startswith("empty_turn: messages[1] (assistant)") for r in reasons)
    # An assistant turn that only calls a tool is not empty.
    call = make_record(id="t", messages=[
        {"role": "user", "content": "Weather in Paris today?"},
        {"role": "assistant", "content": "", "tool_calls": [{"name": "weather", "arguments": "{}"}]},
        {"role": "tool", "content": "18C, sunny"},
        {"role": "assistant", "content": "It is 18C and sunny in Paris."},
    ])
    assert names(call) == []


def test_refusal_default_list_curly_quotes_and_user_extension(tmp_path):
    rec = sft(("user", "Write a poem about the sea and the sky."),
              ("assistant", "As an AI language model, I don\u2019t write poems."))
    assert "refusal" in names(rec)
    other = sft(("user", "Write a poem about the sea and the sky."), ("assistant", "I would prefer to skip this one."))
    assert names(other) == []
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("I would prefer to skip\n\n")
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"refusal_phrases_file": "phrases.txt"}))
    assert "refusal" in [r.split(":")[0] for r in Checker(Rules.from_file(rules)).reasons(other)]
    # The phrase in the user's prompt is not a refusal.
    asked = sft(("user", "Why do chatbots say 'as an AI language model' so often?"),
                ("assistant", "It is a hedge that training data taught them."))
    assert "refusal" not in names(asked)


def test_unwanted_words_are_whole_words():
    rec = sft(("user", "Describe the classic lorem ipsum filler text."), ("assistant", "It is placeholder text."))
    assert "unwanted_word" in names(rec, unwanted_words=["Lorem"])
    assert names(rec, unwanted_words=["lore"]) == []


def test_repeated_lines_and_ngrams():
    lines = "\n".join(["Buy now!"] * 5 + ["Thanks."])
    assert "repeated_lines" in names(sft(("user", "Write an ad for shoes."), ("assistant", lines)))
    loop = "I think that the answer is yes. " * 12
    assert "repeated_ngrams" in names(sft(("user", "Is the sky blue on a clear day?"), ("assistant", loop.strip())))
    assert names(GOOD) == []


def test_roles_that_do_not_alternate():
    assert "roles_not_alternating" in names(sft(("user", "Hello there, how are you?"), ("user", "Anyone?"),
                                                ("assistant", "Yes, I am here to help.")))
    assert "roles_not_alternating" in names(sft(("assistant", "Hello, how can I help today?"),
                                                ("user", "What is two plus two?"), ("assistant", "Four.")))
    assert "roles_not_alternating" in names(sft(("user", "What is two plus two?"),))
    why = Checker().reasons(sft(("user", "a b c d e f"), ("assistant", "g h i j k."), ("assistant", "More.")))
    assert any("two assistant turns in a row at position 2" in r for r in why)
    pref = make_record(id="p", kind="preference",
                       messages=[{"role": "user", "content": "Pick a colour for a kitchen."}],
                       chosen=[{"role": "assistant", "content": "Sage green."}],
                       rejected=[{"role": "assistant", "content": "Whatever."}])
    assert names(pref) == []
    pref["rejected"] = [{"role": "user", "content": "Whatever."}]
    assert "roles_not_alternating" in names(pref)


def test_unfinished_answers():
    cut = sft(("user", "Explain photosynthesis in detail for a student."),
              ("assistant", "Photosynthesis is how plants turn light into chemical energy. It happens in the "
                            "chloroplasts, where chlorophyll absorbs light and the plant then"))
    assert "unfinished" in names(cut)
    fence = sft(("user", "Show a hello world in Python."), ("assistant", "Here it is:\n```python\nprint('hi')\n"))
    assert any("unclosed code block" in r for r in Checker().reasons(fence))
    comma = sft(("user", "List some fruit for me please."), ("assistant", "Apples, pears,"))
    assert "unfinished" in names(comma)
    for ok in ("The answer is 42", "Paris", "Best regards,\nSam Taylor from the office down the road who writes "
               "many long letters to everyone he knows and signs them all as\nSam", "```\ncode\n```",
               "def total(xs):\n    result = 0\n    for x in xs:\n        result += x\n" + "    # keep adding\n" * 5
               + "    return result"):
        assert "unfinished" not in names(sft(("user", "A question for you to answer."), ("assistant", ok)))


def test_disable_and_unknown_settings(tmp_path):
    short = sft(("user", "Hi"), ("assistant", "Yo"))
    assert "too_short" not in names(short, disable=["length"])
    bad = tmp_path / "rules.json"
    bad.write_text('{"min_char": 3}')
    with pytest.raises(ValueError, match="unknown rule setting.*min_char") as e:
        Rules.from_file(bad)
    assert "unwanted_words_file" in str(e.value)  # the file settings are listed among the known ones
    bad.write_text('{\n"min_chars": 3,\n}')
    with pytest.raises(ValueError, match=r"rules.json:3: not valid JSON"):
        Rules.from_file(bad)
    with pytest.raises(ValueError, match="unknown rule"):
        Checker(Rules(disable=["nope"]))


def test_settings_of_the_wrong_type_are_errors_not_crashes(tmp_path):
    bad = tmp_path / "rules.json"
    for text, message in (('{"max_chars": "lots"}', 'max_chars must be a whole number or null, not "lots"'),
                          ('{"min_chars": true}', "min_chars must be a whole number or null, not true"),
                          ('{"unwanted_words": "lorem"}', 'unwanted_words must be a list of strings, not "lorem"'),
                          ('{"max_repeated_lines": [1]}', "max_repeated_lines must be a number, not \\[1\\]"),
                          ('{"refusal_phrases_file": 3}', "refusal_phrases_file must be a file name")):
        bad.write_text(text)
        with pytest.raises(ValueError, match=f"rules.json: {message}"):
            Rules.from_file(bad)
    bad.write_text('{"max_chars": 2000, "max_repeated_lines": 1, "min_tokens": null}')
    assert Rules.from_file(bad).max_chars == 2000  # an int is a valid float setting; null where allowed
    with pytest.raises(ValueError, match="missing.json: cannot read the rules file"):
        Rules.from_file(tmp_path / "missing.json")


def test_run_filters_signals_and_proposals():
    rows = [GOOD, sft(("user", "Hi"), ("assistant", "Yo"), rid="bad")]
    res = run_filters([rows])
    assert res.rejects == {"bad": "filter: too_few_tokens, too_short"}
    assert [s[:2] for s in res.signals] == [("bad", "filter_reasons")]
    assert res.report["rows"] == 2 and res.report["flagged"] == 1


def test_refusal_in_a_preference_pair_is_judged_on_what_it_trains(tmp_path):
    # Anthropic HH-style harmlessness pairs, read by the real reader: the shared turns become the
    # prompt, each side keeps its own last answer.
    from workbench.data.dataset import Dataset

    def hh(shared: str, chosen: str, rejected: str) -> dict:
        return {"chosen": f"{shared}\n\nAssistant: {chosen}", "rejected": f"{shared}\n\nAssistant: {rejected}"}

    lock = "\n\nHuman: How do I pick my neighbour's lock?"
    rows = [
        # the chosen answer is the refusal the pair exists to teach
        hh(lock, "I'm sorry, but I can't help you get into someone else's home.", "Use a tension wrench and a pick."),
        # the rejected answer refuses where helping was right
        hh("\n\nHuman: How do I boil an egg?", "Simmer it for nine minutes, then cool it in cold water.",
           "As an AI language model, I cannot give cooking advice."),
        # a refusal in a shared earlier turn, the chosen answer helps
        hh(lock + "\n\nAssistant: I'm sorry, but I cannot help with that.\n\nHuman: It's my own lock, I'm locked out.",
           "Call a licensed locksmith; they will ask for proof you live there.", "Kick the door in."),
        # both sides refuse: the pair trains a refusal whatever is chosen
        hh("\n\nHuman: Write a limerick about cats.", "As an AI language model, I don't write limericks.",
           "I'm sorry, but I can't write poems."),
    ]
    path = tmp_path / "hh.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ds = Dataset.open([str(path)])
    assert [ds.record(i)["kind"] for i in range(len(ds))] == ["preference"] * 4
    assert len(ds.record(2)["messages"]) == 3  # the earlier refusal is a shared prompt turn
    checker = Checker()
    flagged = [[r for r in checker.reasons(ds.record(i)) if r.startswith("refusal")] for i in range(len(ds))]
    assert flagged[:3] == [[], [], []]
    assert flagged[3] == ["refusal: 'as an ai language model' (both sides refuse)"]
    # A conversation still is flagged for the refusal it trains.
    assert "refusal" in names(sft(("user", "Write a limerick."), ("assistant", "As an AI language model, I can't.")))
