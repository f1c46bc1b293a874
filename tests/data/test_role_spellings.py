"""Role spellings a format does not know (capitalised, typos, other vocabularies): an error
naming the row and the --roles entry that reads it; with --roles (or a --map file's "roles"),
read as those roles and written back with the standard spelling. Every command that reads a
dataset takes --roles and --on-error skip."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli import build_parser
from workbench.data.formats import decode, encode
from workbench.data.formats.base import RowError
from workbench.data.readers import iter_records

ROOT = Path(__file__).resolve().parents[2]
CASE = Path(__file__).parent / "cases" / "role_spellings.jsonl"
ROLES = {"Human": "user", "Assistant": "assistant", "assisatant": "assistant"}


def wb(*args, home):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WORKBENCH_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "workbench", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_case_file_fails_per_row_with_the_fix_named_then_reads_with_roles():
    errors: list[dict] = []
    recs = list(iter_records(str(CASE), on_error="skip", errors=errors))
    assert len(recs) == 3 and [e["line"] for e in errors] == [3, 4]
    assert "--roles Human=user" in errors[0]["message"] and "--roles assisatant=assistant" in errors[1]["message"]
    recs = list(iter_records(str(CASE), roles=ROLES))
    assert [[t["role"] for t in r["messages"]] for r in recs] == [
        ["user", "assistant"], ["user", "assistant"], ["user", "assistant"], ["user", "assistant"],
        ["user", "user", "assistant"]]
    out = [encode(r, "sharegpt")[0] for r in recs]
    assert [t["from"] for t in out[2]["conversations"]] == ["human", "gpt"]  # the standard spelling
    assert [t["from"] for t in out[3]["conversations"]] == ["human", "gpt"]
    assert out[1]["conversations"][0]["from"] == "user"  # a known spelling, not mapped, is kept


@pytest.mark.parametrize("fmt, row, roles, want", [
    ("openai", {"messages": [{"role": "USER", "content": "q"}, {"role": "ASSISTANT", "content": "a"}]},
     {"USER": "user", "ASSISTANT": "assistant"}, ["user", "assistant"]),
    ("openai", {"messages": [{"role": "Sys", "content": "s"}, {"role": "human", "content": "q"},
                             {"role": "bot", "content": "a"}, {"role": "Tool", "content": "r"}]},
     {"Sys": "system", "human": "user", "bot": "assistant", "Tool": "tool"}, ["user", "assistant", "tool"]),
    ("sharegpt", {"conversations": [{"from": "Human", "value": "q"}, {"from": "Assistant", "value": "<think>r</think>a"}]},
     {"Human": "user", "Assistant": "assistant"}, ["user", "assistant"]),
    ("trl", {"prompt": [{"role": "Human", "content": "q"}], "chosen": [{"role": "Assistant", "content": "a"}],
             "rejected": [{"role": "Assistant", "content": "b"}]}, {"Human": "user", "Assistant": "assistant"}, ["user"]),
])
def test_role_spellings_in_every_chat_format(fmt, row, roles, want):
    with pytest.raises(RowError, match="--roles"):
        decode(fmt, row)
    rec = decode(fmt, row, roles=roles)
    assert [t["role"] for t in rec["messages"]] == want
    back, _ = encode(rec, fmt)
    assert not set(json.dumps(back).split('"')) & set(roles) - {"human"}  # no mapped spelling written back
    if fmt == "sharegpt":
        # a mapped assistant turn is an assistant turn, its <think> block kept in its text as the trainer reads it
        assert rec["messages"][1] == {"role": "assistant", "content": "<think>r</think>a"}
        assert back["conversations"][1] == {"from": "gpt", "value": "<think>r</think>a"}


def test_a_typo_suggests_the_role_it_is_close_to():
    with pytest.raises(RowError, match=r"--roles asistant=assistant\)"):
        decode("openai", {"messages": [{"role": "user", "content": "q"}, {"role": "asistant", "content": "a"}]})
    with pytest.raises(RowError, match=r"--roles gtp=assistant\)"):
        decode("sharegpt", {"conversations": [{"from": "human", "value": "q"}, {"from": "gtp", "value": "a"}]})


def test_every_dataset_command_takes_roles_and_on_error():
    parser = build_parser()
    sub = parser._subparsers._group_actions[0]
    seen = 0
    for name, p in sub.choices.items():
        for nested in ([p] + [a for a in p._actions if a.__class__.__name__ == "_SubParsersAction"]):
            parsers = nested.choices.values() if hasattr(nested, "choices") and isinstance(nested.choices, dict) else [nested]
            for q in parsers:
                opts = {o for a in q._actions for o in a.option_strings}
                if any(a.dest == "paths" for a in q._actions):
                    seen += 1
                    assert {"--roles", "--on-error", "--map"} <= opts, q.prog
    assert seen >= 15


def test_filter_skips_bad_rows_and_roles_come_from_the_command_line_or_a_map_file(tmp_path):
    r = wb("filter", CASE, "--on-error", "skip", home=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "skipped" in r.stderr and "role_spellings.jsonl:3" in r.stderr and "filter: 3 rows" in r.stdout + r.stderr
    r = wb("filter", CASE, home=tmp_path)
    assert r.returncode == 1 and "role_spellings.jsonl:3: unknown role 'Human'" in r.stderr
    r = wb("filter", CASE, "--roles", "Human=user,Assistant=assistant", "--roles", "assisatant=assistant", home=tmp_path)
    assert r.returncode == 0 and "filter: 5 rows" in r.stdout + r.stderr, r.stderr
    spec = tmp_path / "map.json"
    spec.write_text(json.dumps({"roles": ROLES}))
    out = tmp_path / "out.jsonl"
    r = wb("convert", CASE, "--map", spec, "--to", "sharegpt", "-o", out, home=tmp_path)
    assert r.returncode == 0, r.stderr
    froms = {t["from"] for line in out.read_text().splitlines() for t in json.loads(line)["conversations"]}
    assert froms == {"human", "user", "gpt"}
    r = wb("info", CASE, "--roles", "Human=usr", home=tmp_path)
    assert r.returncode == 1 and "the role must be one of" in r.stderr


@pytest.mark.parametrize("spec", [
    {"roles": {"Human": "user", "Assistant": "assistant", "assisatant": "assistant"}},
    {"roles": {"user": ["human", "Human"], "assistant": ["gpt", "Assistant", "assisatant"]}},  # axolotl's roles:
    {"tags": {"role_tag": "from", "content_tag": "value", "user_tag": "Human", "assistant_tag": "Assistant"},
     "roles": {"assisatant": "assistant"}},  # LLaMA-Factory's dataset_info tags
])
def test_map_files_in_our_axolotl_and_llama_factory_spellings(tmp_path, spec):
    from argparse import Namespace

    from workbench.cli.common import read_options

    path = tmp_path / "map.json"
    path.write_text(json.dumps(spec))
    opts = read_options(Namespace(format=None, map=[str(path)], roles=[], on_error="stop", split=None))
    assert len(list(iter_records(str(CASE), roles=opts["roles"]))) == 5


def test_a_bad_map_file_is_one_line(tmp_path):
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"tags": {"bot_tag": "AI"}}))
    r = wb("info", CASE, "--map", path, home=tmp_path)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "bot_tag" in r.stderr
