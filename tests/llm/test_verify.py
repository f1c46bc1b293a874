"""Verified outputs: code in a sandboxed child process, math against a reference."""

from __future__ import annotations

import pytest

from llm_rows import sft
from tests.support.loopback import LoopbackServer
from workbench.ops.base import apply_result
from workbench.ops.generation.verify import (
    extract_code, run_python, verify, verify_code, verify_math,
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


@pytest.mark.parametrize("answer,reference", [
    (r"The result is \boxed{0.5}", r"\frac{1}{2}"), ("So the answer is 0.5.", r"$\frac{1}{2}$"),
    (r"The answer is $\frac{1}{2}$.", "1/2"), (r"Final answer: $\dfrac{3}{4}$", "0.75"),
    (r"The set is $\{3, 2, 1\}$.", r"\{1,2,3\}"), (r"So $x \in [0, 1)$.", "[0,1)"),
    (r"The length is $5\text{ cm}$.", "5"), (r"Thus $x = 3$.", "3"),
    (r"We get $\frac{\sqrt{2}}{2}$.", r"\sqrt{2}/2"), ("so the total is 2^{10} = 1024.", "2^{10}"),
    ("Final answer: 1,234 apples", "1234"), ("The answer is 18.", "Janet sells 9 ducks... #### 18"),
])
def test_equivalent_math_forms_pass(answer, reference):
    v = verify_math(answer, reference)
    assert v["passed"], v


@pytest.mark.parametrize("answer,reference", [
    ("The answer is 17.", "#### 18"), (r"$\frac{1}{3}$", "0.5"), (r"The set is $\{1, 2\}$.", r"\{1,2,3\}"),
    ("It is 3 metres.", "4"), ("no numbers at all", "5"),
])
def test_different_math_answers_fail(answer, reference):
    assert not verify_math(answer, reference)["passed"]


def test_math_details():
    assert verify_math("So the answer is 42.", "#### 42")["detail"] == "42 = 42"
    assert verify_math("no numbers here", "7")["detail"] == "no final answer found"


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
