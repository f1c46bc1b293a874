"""A corpus of malformed and odd inputs run through `info`, `convert` and `template lint` (in
process, so a few hundred files stay quick): every format's fields given wrong types or
removed, truncations, encodings, deep nesting, NaN, duplicate keys, BOM/CRLF, odd containers.

Each input must end with an exit code and a one-line error at most: no traceback, no hang
(SIGALRM), `--json` output that is strict JSON, a converted file of strict JSON Lines, and
the source bytes unchanged."""

from __future__ import annotations

import codecs
import gzip
import hashlib
import json
import signal
from pathlib import Path

import pytest

from workbench.cli import main

SEEDS = {  # one good row per format, the shapes the readers detect
    "alpaca": {"instruction": "Add 2 and 3.", "input": "", "output": "5", "system": "Be brief.", "history": []},
    "sharegpt": {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}],
                 "system": "s", "tools": "[]"},
    "openai": {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"},
                            {"role": "assistant", "content": "a", "tool_calls": [
                                {"type": "function", "function": {"name": "f", "arguments": "{}"}}]}]},
    "trl_pref": {"prompt": [{"role": "user", "content": "q"}], "chosen": [{"role": "assistant", "content": "y"}],
                 "rejected": [{"role": "assistant", "content": "n"}]},
    "trl_kto": {"prompt": "q", "completion": "a", "label": True},
    "hh": {"chosen": "\n\nHuman: q\n\nAssistant: y", "rejected": "\n\nHuman: q\n\nAssistant: n"},
    "glaive": {"system": "SYSTEM: tools", "chat": "USER: q\n\n\nASSISTANT: a <|endoftext|>"},
    "sharegpt_kto": {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}],
                     "kto_tag": False},
    "text": {"text": "plain text"},
}
WRONG = [None, 0, 1.5, True, "", "str", [], [None], [1], [[]], [{}], {}, {"a": 1}, [{"role": 1}],
         [{"from": None, "value": None}], [{"role": "user", "content": ["x", {"type": "text", "text": 3}]}]]
ODD_TEXTS = {  # whole files
    "empty.jsonl": b"", "blank.jsonl": b"\n \n\t\n", "null.json": b"null", "string.json": b'"x"',
    "number.json": b"42", "empty_array.json": b"[]", "nulls.json": b"[null, null]", "nested_arrays.json": b"[[], [[]]]",
    "obj_empty.json": b"{}", "arrays.jsonl": b"[1]\n[2]\n", "strings.jsonl": b'"a"\n"b"\n',
    "bom_crlf.jsonl": codecs.BOM_UTF8 + b'{"instruction": "q", "output": "a"}\r\n{"instruction": "r", "output": "b"}\r\n',
    "latin1.jsonl": '{"instruction": "caf\xe9", "output": "a"}\n'.encode("latin-1"),
    "utf16.jsonl": '{"instruction": "q", "output": "a"}\n'.encode("utf-16"),
    "surrogate.jsonl": b'{"instruction": "\\udc80", "output": "a"}\n',
    "dupkeys.jsonl": b'{"instruction": "a", "instruction": "b", "output": "c"}\n',
    "nan.jsonl": b'{"instruction": "q", "output": "a", "score": NaN}\n{"instruction": "q", "output": "a", "s": 1e999}\n',
    "deep.jsonl": b'{"instruction": "q", "output": "a", "x": ' + b"[" * 3000 + b"]" * 3000 + b"}\n",
    "deep_ok.jsonl": b'{"instruction": "q", "output": "a", "x": ' + b"[" * 300 + b"]" * 300 + b"}\n",
    "two_arrays.json": b'[{"text": "a"}]\n[{"text": "b"}]\n', "trailing.json": b'[{"text": "a"}] tail',
    "unclosed.json": b'[{"text": "a"},', "layout.json": b'{"data": [{"text": "a"}], "version": 1}',
    "layout_bad.json": b'{"data": [1, "x", null], "version": 1}', "huge_int.jsonl": b'{"text": "a", "n": ' + b"9" * 5000 + b"}\n",
    "bigint.jsonl": b'{"text": "a", "n": 123456789012345678901234567890}\n',
    "ctrl.jsonl": b'{"instruction": "\\u001b]0;T\\u0007", "output": "\\u009b"}\n',
    "header.csv": b"instruction,output\n", "ragged.csv": b"instruction,output\nq,a,extra\nq\n",
    "unclosed.csv": b'instruction,output\nq,"a\n', "noheader.csv": b"q,a\n", "nul.csv": b"instruction,output\nq\x00,a\n",
    "json_cells.csv": b'messages,label\n"[{""role"": ""user"", ""content"": 1}]",1\n"{bad",true\n',
    "crlf.csv": b"instruction,output\r\nq,a\r\n", "notgzip.jsonl.gz": b"not gzip at all",
    "notparquet.parquet": b"PAR1 not really", "weird.txt": b"hello",
}


def _rows_files() -> dict[str, bytes]:
    """Every top-level field of every seed set to each wrong value (or removed); one file per case."""
    out = {}
    for name, seed in SEEDS.items():
        for field in seed:
            for k, value in enumerate([*WRONG, "<removed>"]):
                row = dict(seed)
                if value == "<removed>":
                    del row[field]
                else:
                    row[field] = value
                out[f"{name}-{field}-{k}.jsonl"] = (json.dumps(seed) + "\n" + json.dumps(row) + "\n").encode()
    # wrong types inside turns
    for k, value in enumerate(WRONG):
        for key in ("role", "content", "tool_calls", "name", "reasoning_content", "weight", "tool_call_id"):
            row = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", key: value}]}
            out[f"turn-{key}-{k}.jsonl"] = (json.dumps(row) + "\n").encode()
        call = {"type": "function", "function": {"name": value, "arguments": value}}
        row = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "", "tool_calls": [call]}]}
        out[f"call-{k}.jsonl"] = (json.dumps(row) + "\n").encode()
        row = {"conversations": [{"from": "human", "value": value}, {"from": "gpt", "value": "a"}]}
        out[f"sg-turn-{k}.jsonl"] = (json.dumps(row) + "\n").encode()
    return out


def _truncations() -> dict[str, bytes]:
    good = "".join(json.dumps(SEEDS[n]) + "\n" for n in ("alpaca", "openai"))
    arr = json.dumps([SEEDS["openai"], SEEDS["openai"]], indent=1)
    out = {}
    for cut in (1, 7, len(good) // 2, len(good) - 2):
        out[f"cut{cut}.jsonl"] = good[:cut].encode()
        out[f"cut{cut}.json"] = arr[:cut].encode()
    gz = gzip.compress(good.encode())
    out["cut.jsonl.gz"] = gz[: len(gz) // 2]
    return out


def corpus() -> dict[str, bytes]:
    return {**_rows_files(), **ODD_TEXTS, **_truncations()}


def _parquet_files(d: Path) -> list[Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = {
        "mixed.parquet": pa.table({"instruction": ["q", None], "output": ["a", "b"], "score": [float("nan"), 1.0]}),
        "structs.parquet": pa.table({"messages": [[{"role": "user", "content": "q"}], None]}),
        "ints.parquet": pa.table({"prompt": ["q"], "completion": ["a"], "label": [7]}),
        "bytes.parquet": pa.table({"text": ["a"], "img": [b"\x00\x01"]}),
        "nocols.parquet": pa.table({"x": [1, 2]}),
    }
    out = []
    for name, t in tables.items():
        pq.write_table(t, d / name)
        out.append(d / name)
    cut = d / "cut.parquet"
    data = (d / "mixed.parquet").read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    return out + [cut]


def _strict_json(text: str):
    def refuse(token):
        raise ValueError(f"non-JSON token {token}")

    return json.loads(text, parse_constant=refuse)


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang()


def _run(argv: list[str], capsys) -> tuple[int | None, str, str, str | None]:
    """(exit code, stdout, stderr, what went wrong or None)."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(60)  # a generous bound only to turn a hang into a failure; no speed is measured
    problem = None
    code = None
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except _Hang:
        problem = "hang"
    except BaseException as e:  # noqa: BLE001 - a traceback would reach the user
        problem = f"traceback {type(e).__name__}: {e}"[:300]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    out, err = capsys.readouterr()
    if problem is None and "Traceback" in err:
        problem = "traceback on stderr"
    return code, out, err, problem


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> list[Path]:
    d = tmp_path_factory.mktemp("fuzz")
    paths = []
    for name, data in corpus().items():
        (d / name).write_bytes(data)
        paths.append(d / name)
    return paths + _parquet_files(d)


def _json_lines(text: str) -> None:
    for line in text.splitlines():
        _strict_json(line)


def test_fuzz_corpus_runs_clean(files, tmp_path, capsys):
    assert len(files) >= 300
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    failures = []

    def check(path: Path, argv: list[str], output) -> None:
        """Run one command; `output()` reads what it printed or wrote, which must be strict JSON."""
        code, out, err, problem = _run(argv, capsys)
        if problem is None:
            try:
                text = output(out)
                if text:
                    _json_lines(text)
            except ValueError as e:
                problem = f"no strict JSON: {e}"
        if problem:
            failures.append((path.name, argv[0], problem, err[-300:]))

    for i, path in enumerate(files):
        dest = tmp_path / f"out{i}.jsonl"
        check(path, ["info", str(path), "--json"], lambda out: out)
        check(path, ["convert", str(path), "--to", "openai", "-o", str(dest), "--on-error", "skip"],
              lambda out: dest.read_text(encoding="utf-8") if dest.exists() else "")
        check(path, ["template", "lint", str(path), "-t", "chatml", "--json", "--on-error", "skip",
                     "--workspace", str(tmp_path / "ws.sqlite")], lambda out: out)
    assert not failures, "\n".join(map(str, failures))
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files} == before  # sources never change
