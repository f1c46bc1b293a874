"""Verified outputs: code in a sandboxed child process, math against a reference."""

from __future__ import annotations

import pytest

from llm_rows import sft
from tests.support.loopback import LoopbackServer
from workbench.ops.base import apply_result
from workbench.ops.generation.verify import (
    extract_code, final_answer, run_python, same_answer, verify, verify_code, verify_math,
)

CODE = "Here you go:\n```python\ndef add(a, b):\n    return a + b\n```\nDone."


def test_code_passes_and_fails_its_tests():
    assert verify_code(CODE, "assert add(2, 3) == 5")["passed"]
    bad = verify_code(CODE, "assert add(2, 3) == 6")
    assert not bad["passed"] and "AssertionError" in bad["output"] and bad["detail"] == "exit status 1"
    assert extract_code("def f(): pass") == "def f(): pass"


def test_time_limit_kills_an_endless_loop():
    res = run_python("while True:\n    pass\n", timeout=1.0)
    assert not res["ok"] and res["reason"].startswith("timed out")


def test_memory_limit():
    res = run_python("x = bytearray(2_000_000_000)\n", memory_mb=256)
    assert not res["ok"] and res["reason"] == "out of memory"


def test_no_network():
    with LoopbackServer() as srv:
        res = run_python(f"import urllib.request\nurllib.request.urlopen('{srv.api_base}/models', timeout=2)\n")
        assert not res["ok"] and srv.total == 0


def test_no_secrets_in_the_child(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak")
    res = run_python("import os\nprint(sorted(os.environ))\nassert 'OPENAI_API_KEY' not in os.environ\n")
    assert res["ok"], res["output"]


@pytest.mark.parametrize("text,want", [
    ("so 3 + 4 = 7.\n#### 7", "7"), (r"The result is \boxed{\frac{1}{2}}", r"\frac{1}{2}"),
    ("Final answer: 1,234 apples", "1,234 apples"), ("we get 12 and then 15", "15"), ("no numbers", None),
    ("The answer is 42.", "42"), ("Final answer: 3.5!", "3.5"),
])
def test_final_answer(text, want):
    assert final_answer(text) == want


def test_math_comparison():
    assert same_answer("1,234 apples", "1234") and same_answer("0.5", "1/2") and same_answer("$42.", "42")
    assert not same_answer("41", "42")
    assert verify_math("The answer is 18.", "Janet sells 9 ducks... #### 18")["passed"]
    assert not verify_math("The answer is 17.", "#### 18")["passed"]
    assert verify_math("So the answer is 42.", "#### 42")["detail"] == "42 = 42"


def test_verify_op_writes_signals(ws):
    rows = [sft(0, answer=CODE, test_list=["assert add(1, 1) == 2"]),
            sft(1, answer=CODE, test="def check(f):\n    assert f(1, 2) == 4\n", entry_point="add"),
            sft(2, answer="It is 4. #### 4", reference="4"),
            sft(3, answer="nothing to check")]
    res = verify(rows, ws)
    apply_result(ws, res)
    passed = ws.signal_values("verify.passed")
    assert passed == {"row0": True, "row1": False, "row2": True}
    assert "nothing to verify" in res.errors["row3"]
