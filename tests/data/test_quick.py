"""The quick path for plain OpenAI-messages rows builds exactly the record the general decoder builds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.data.formats import decode
from workbench.data.quick import openai_record
from workbench.data.readers import raw_rows

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(p for d in ("sample_data", "tests/data/cases", "tests/data/public_shapes")
               for p in (ROOT / d).rglob("*") if p.suffix in (".jsonl", ".json"))

HAND = [
    {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]},
    {"id": 7, "messages": [{"role": "system", "content": ""}, {"role": "user", "content": "q"}], "score": 1.5},
    {"messages": [{"role": "user", "content": "q"}, {"role": "system", "content": "late"}], "id": None, "x": [1]},
    {"id": True, "messages": [{"role": "tool", "content": "r"}]},
    {"source": "a", "messages": [{"role": "assistant", "content": "no think here"}], "id": "abc"},
]
# Rows the quick path must leave to the decoder.
DECLINED = [
    {"messages": [{"content": "q", "role": "user"}]},  # key order to restore
    {"messages": [{"role": "assistant", "content": "<think>\nr\n</think>\n\na"}]},
    {"messages": [{"role": "user", "content": "q", "name": "n"}]},
    {"messages": [{"role": "human", "content": "q"}]},
    {"messages": [{"role": "user", "content": None}]},
    {"messages": [{"role": "user", "content": "q"}], "label": True},
    {"messages": [{"role": "user", "content": "q"}], "tools": []},
    {"messages": [{"role": "user", "content": "q"}], "images": ["a.png"]},
    {"messages": []},
    {"messages": "q"},
]


def _rows() -> list[dict]:
    rows = list(HAND)
    for f in FILES:
        try:
            rows += [r for _, _, r in raw_rows(str(f)) if isinstance(r, dict)]
        except Exception:  # a case file that is bad on purpose
            continue
    return rows


def test_quick_record_equals_decoder() -> None:
    taken = 0
    for i, row in enumerate(_rows()):
        quick = openai_record(row, id=f"f:{i}", source="f", row_index=i)
        if quick is None:
            continue
        taken += 1
        full = decode("openai", row, id=f"f:{i}", source="f", row_index=i)
        assert json.dumps(quick) == json.dumps(full), row  # same values, key order and types
    assert taken >= len(HAND) + 5  # the sample files hold plain rows too


@pytest.mark.parametrize("row", DECLINED)
def test_quick_path_declines_other_shapes(row: dict) -> None:
    assert openai_record(row, id="f:0", source="f", row_index=0) is None


def test_large_file_quick_equals_decoder(tmp_path: Path) -> None:
    out = tmp_path / "large.jsonl"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_large.py"), "-o", str(out), "-n", "2000"],
                   check=True, capture_output=True)
    taken = 0
    for line, idx, row in raw_rows(str(out)):
        quick = openai_record(row, id=f"large:{idx}", source="s", row_index=idx)
        if quick is not None:
            taken += 1
            assert json.dumps(quick) == json.dumps(decode("openai", row, id=f"large:{idx}", source="s",
                                                          row_index=idx)), line
    assert taken > 1500


def test_jsonl_lines_orjson_would_misread_take_the_standard_parser(tmp_path: Path) -> None:
    f = tmp_path / "big.jsonl"
    f.write_text('{"messages": [{"role": "user", "content": "q"}], "n": 12345678901234567890123}\n'
                 '{"messages": [{"role": "user", "content": "q"}], "n": -9223372036854775809}\n'
                 '{"messages": [{"role": "user", "content": "q"}], "n": 1e999}\n')
    rows = [r for _, _, r in raw_rows(str(f))]
    assert rows[0]["n"] == 12345678901234567890123 and type(rows[0]["n"]) is int
    assert rows[1]["n"] == -9223372036854775809 and type(rows[1]["n"]) is int
    assert "beyond any float" in str(rows[2])
