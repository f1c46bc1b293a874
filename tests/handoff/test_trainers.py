"""`export --for`: each trainer's folder loads by that trainer's own rules.

LLaMA-Factory is checked against its data README's dataset_info.json semantics (the allowed
keys, the columns and tags, the ShareGPT role order its converter accepts); axolotl's block is
YAML whose fields name real columns and roles; TRL's rows go through TRL's own data utilities
and a real transformers chat template."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from workbench.cli import main
from workbench.store.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_data"

# LLaMA-Factory's data/README.md: the keys of a dataset description, its columns and its tags.
LF_KEYS = {"hf_hub_url", "ms_hub_url", "script_url", "cloud_file_name", "file_name", "formatting", "ranking",
           "subset", "split", "folder", "num_samples", "columns", "tags"}
LF_COLUMNS = {"prompt", "query", "response", "history", "messages", "system", "tools", "images", "videos",
              "audios", "chosen", "rejected", "kto_tag"}
LF_TAGS = {"role_tag", "content_tag", "user_tag", "assistant_tag", "observation_tag", "function_tag", "system_tag"}


def _load_json_rows(path: Path):
    from datasets import load_dataset

    return load_dataset("json", data_files=str(path), split="train")


def _lf_check_sharegpt(entry: dict, rows) -> None:
    """The ShareGPT rules of LLaMA-Factory's converter, as its README states them: a system
    turn may open the list; then user/observation turns at odd positions and assistant/function
    turns at even ones; an SFT conversation ends with the assistant (even count); a ranking one
    ends with the user and its chosen/rejected are one assistant turn each."""
    cols, tags = entry["columns"], entry["tags"]
    odd = {tags["user_tag"], tags["observation_tag"]}
    even = {tags["assistant_tag"], tags["function_tag"]}
    for row in rows:
        turns = row[cols["messages"]]
        if turns and turns[0][tags["role_tag"]] == tags["system_tag"]:
            turns = turns[1:]
        for i, t in enumerate(turns):
            assert t[tags["role_tag"]] in (odd if i % 2 == 0 else even), (i, turns)
            assert isinstance(t[tags["content_tag"]], str)
        if entry.get("ranking"):
            assert len(turns) % 2 == 1
            for side in ("chosen", "rejected"):
                assert row[cols[side]][tags["role_tag"]] in even
        else:
            assert len(turns) % 2 == 0
        if "kto_tag" in cols:
            assert isinstance(row[cols["kto_tag"]], bool)
        if "tools" in cols and row[cols["tools"]] is not None:
            assert isinstance(json.loads(row[cols["tools"]]), list)


def _check_llamafactory(folder: Path) -> dict:
    info = json.loads((folder / "dataset_info.json").read_text())
    for name, entry in info.items():
        assert set(entry) <= LF_KEYS, name
        assert set(entry.get("columns", {})) <= LF_COLUMNS
        assert set(entry.get("tags", {})) <= LF_TAGS
        rows = _load_json_rows(folder / entry["file_name"])
        assert set(entry["columns"].values()) <= set(rows.column_names), (entry["columns"], rows.column_names)
        if entry.get("formatting") == "sharegpt":
            _lf_check_sharegpt(entry, rows)
        else:  # alpaca formatting: a pretraining text column
            assert all(isinstance(r[entry["columns"]["prompt"]], str) for r in rows)
    return info


def test_llamafactory_sft_with_split_and_merge_into_existing_info(tmp_path):
    folder = tmp_path / "lf"
    folder.mkdir()
    (folder / "dataset_info.json").write_text(json.dumps({"mine": {"file_name": "mine.json"}}))
    assert main(["export", str(SAMPLES / "sharegpt.json"), "--for", "llamafactory", "-o", str(folder),
                 "--name", "curated", "--test-rows", "2", "--workspace", str(tmp_path / "ws.sqlite")]) == 0
    info = _check_llamafactory_without(folder, skip={"mine"})
    assert set(info) == {"mine", "curated", "curated_test"}
    assert info["mine"] == {"file_name": "mine.json"}  # the user's own entry is kept as it was
    train = _load_json_rows(folder / info["curated"]["file_name"])
    test = _load_json_rows(folder / info["curated_test"]["file_name"])
    assert len(test) == 2 and len(train) >= 1


def _check_llamafactory_without(folder: Path, skip: set[str]) -> dict:
    saved = json.loads((folder / "dataset_info.json").read_text())
    checked = {k: v for k, v in saved.items() if k not in skip}
    tmp = folder / "dataset_info.json"
    tmp.write_text(json.dumps(checked))
    try:
        _check_llamafactory(folder)
    finally:
        tmp.write_text(json.dumps(saved))
    return saved


@pytest.mark.parametrize("source, kind", [("alpaca_preference.json", "preference"), ("trl_preference.jsonl", "preference"),
                                          ("sharegpt_kto.jsonl", "kto"), ("text.jsonl", "text"),
                                          ("openai_messages.jsonl", "sft"), ("alpaca.jsonl", "sft")])
def test_llamafactory_each_kind_loads(tmp_path, source, kind):
    folder = tmp_path / "lf"
    assert main(["export", str(SAMPLES / source), "--for", "llamafactory", "-o", str(folder), "--kind", kind,
                 "--workspace", str(tmp_path / "ws.sqlite")]) == 0
    info = _check_llamafactory(folder)
    entry = info["workbench"]
    assert bool(entry.get("ranking")) == (kind == "preference")
    assert ("kto_tag" in entry.get("columns", {})) == (kind == "kto")


def _check_axolotl(folder: Path) -> dict:
    config = yaml.safe_load((folder / "axolotl.yaml").read_text())
    for d in config["datasets"] + config.get("test_datasets", []):
        rows = _load_json_rows(Path(d["path"]))
        if d["type"] == "completion":
            assert d["field"] in rows.column_names
            continue
        if isinstance(d["type"], dict):  # user_defined.default (KTO)
            for key in ("field_prompt", "field_completion", "field_label"):
                assert d["type"][key] in rows.column_names
            assert all(isinstance(r[d["type"]["field_label"]], bool) for r in rows)
            continue
        assert d["field_messages"] in rows.column_names
        mapping = d["message_property_mappings"]
        roles = {r for rs in d.get("roles", {}).values() for r in rs} or {"system", "user", "assistant", "tool"}
        for row in rows:
            for turn in row[d["field_messages"]]:
                assert mapping["role"] in turn and mapping["content"] in turn
                assert turn[mapping["role"]] in roles
            if d["type"] == "chat_template.default":
                for side in (d["field_chosen"], d["field_rejected"]):
                    assert isinstance(row[side], dict) and row[side]["role"] in d["roles"]["assistant"]
    return config


def test_axolotl_sft_dpo_kto_text_blocks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the block's paths are the ones given, as axolotl resolves them
    for source, kind, rl in (("alpaca.jsonl", "sft", None), ("alpaca_preference.json", "preference", "dpo"),
                             ("sharegpt_kto.jsonl", "kto", "kto"), ("text.jsonl", "text", None)):
        out = f"ax_{kind}"
        assert main(["export", str(SAMPLES / source), "--for", "axolotl", "-o", out, "--kind", kind,
                     "--test-size", "0.2", "--workspace", str(tmp_path / f"{kind}.sqlite")]) == 0
        config = _check_axolotl(tmp_path / out)
        assert config.get("rl") == rl
        assert len(config["test_datasets"]) == 1


def test_axolotl_chat_template_is_the_previewed_one(tmp_path):
    from workbench.templates.registry import get_template

    assert main(["export", str(SAMPLES / "alpaca.jsonl"), "--for", "axolotl", "-o", str(tmp_path / "ax"),
                 "--chat-template", "llama-3", "--workspace", str(tmp_path / "ws.sqlite")]) == 0
    config = yaml.safe_load((tmp_path / "ax" / "axolotl.yaml").read_text())
    assert config["chat_template"] == "jinja"
    assert config["chat_template_jinja"] == get_template("llama-3").source


def test_axolotl_refuses_a_multi_turn_kto_row(tmp_path, capsys):
    src = tmp_path / "kto.jsonl"
    src.write_text(json.dumps({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                                            {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}],
                               "label": True}) + "\n")
    assert main(["export", str(src), "--for", "axolotl", "-o", str(tmp_path / "ax"),
                 "--workspace", str(tmp_path / "ws.sqlite")]) == 1
    err = capsys.readouterr().err
    assert "one prompt and one answer" in err and "kto.jsonl:0" in err
    assert not list((tmp_path / "ax").glob("*.jsonl"))  # nothing half-written


@pytest.fixture(scope="module")
def chatml_tokenizer():
    """A real transformers tokenizer (a tiny word-level vocabulary) with a ChatML template."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from workbench.templates.registry import get_template

    tok = Tokenizer(models.WordLevel({"<unk>": 0, "<|im_start|>": 1, "<|im_end|>": 2}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<|im_end|>")
    hf.chat_template = get_template("chatml").source
    return hf


@pytest.mark.parametrize("source, kind", [("alpaca.jsonl", "sft"), ("alpaca_preference.json", "preference"),
                                          ("trl_preference.jsonl", "preference"), ("sharegpt_kto.jsonl", "kto")])
def test_trl_rows_pass_trls_own_data_utilities(tmp_path, source, kind, chatml_tokenizer):
    from datasets import load_dataset
    from trl.data_utils import is_conversational, maybe_apply_chat_template

    folder = tmp_path / "trl"
    assert main(["export", str(SAMPLES / source), "--for", "trl", "-o", str(folder), "--kind", kind,
                 "--test-rows", "2", "--workspace", str(tmp_path / "ws.sqlite")]) == 0
    splits = load_dataset(str(folder))  # the folder as TRL's --dataset_name loads it
    assert set(splits) == {"train", "test"} and len(splits["test"]) == 2
    expected = {"sft": {"messages"}, "preference": {"prompt", "chosen", "rejected"},
                "kto": {"prompt", "completion", "label"}}[kind]
    for row in splits["train"]:
        assert expected <= set(row)
        assert is_conversational(row)
        text = maybe_apply_chat_template(row, chatml_tokenizer)
        rendered = next(iter(text.values()))
        assert "<|im_start|>" in rendered


def test_several_kinds_need_a_choice(tmp_path, capsys):
    assert main(["export", str(SAMPLES), "--for", "trl", "-o", str(tmp_path / "t"),
                 "--workspace", str(tmp_path / "ws.sqlite")]) == 1
    err = capsys.readouterr().err
    assert "several kinds" in err and "sft" in err and "preference" in err and "--kind" in err
    assert main(["export", str(SAMPLES), "--to", "sharegpt", "-o", str(tmp_path / "s.jsonl"),
                 "--workspace", str(tmp_path / "ws.sqlite")]) == 1
    assert "--kind" in capsys.readouterr().err
    assert main(["export", str(SAMPLES), "--to", "sharegpt", "-o", str(tmp_path / "s.jsonl"), "--kind", "kto",
                 "--workspace", str(tmp_path / "ws.sqlite")]) == 0
    rows = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert rows and all("kto_tag" in r for r in rows)


def test_signals_become_columns(tmp_path):
    src = tmp_path / "a.jsonl"
    shutil.copy(SAMPLES / "alpaca.jsonl", src)
    ws_path = tmp_path / "ws.sqlite"
    assert main(["info", str(src)]) == 0
    from workbench.data.dataset import Dataset

    ds = Dataset.open([str(src)])
    with Workspace.for_dataset(ds, ws_path) as ws:
        run = ws.start_run("judge", {})
        ws.add_signals(run, [(ds.ids[0], "score", 4), (ds.ids[1], "score", 2)])
        ws.finish_run(run, "done", {})
    out = tmp_path / "o.jsonl"
    assert main(["export", str(src), "--to", "alpaca", "-o", str(out), "--with-signals", "judge.score",
                 "--workspace", str(ws_path)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["judge.score"] for r in rows[:3]] == [4, 2, None]
    assert main(["export", str(src), "--to", "alpaca", "-o", str(out), "--with-signals", "nothing",
                 "--workspace", str(ws_path)]) == 1


def test_the_suffix_names_the_container(tmp_path, capsys):
    import pyarrow.parquet as pq

    ws = ["--workspace", str(tmp_path / "ws.sqlite")]
    assert main(["export", str(SAMPLES / "alpaca.jsonl"), "--to", "openai", "-o", str(tmp_path / "x.parquet"), *ws]) == 0
    assert pq.read_table(tmp_path / "x.parquet").column_names == ["messages"]
    assert main(["export", str(SAMPLES / "alpaca.jsonl"), "--to", "parquet", "-o", str(tmp_path / "x.jsonl"), *ws]) == 1
    assert main(["export", str(SAMPLES / "alpaca.jsonl"), "--to", "openai", "-o", str(tmp_path / "x.txt"), *ws]) == 1
    assert ".jsonl" in capsys.readouterr().err
    assert main(["export", str(SAMPLES / "alpaca.jsonl"), "--to", "openai", "-o", str(tmp_path / "x.jsonl.gz"), *ws]) == 0
    import gzip

    assert len(gzip.open(tmp_path / "x.jsonl.gz", "rt").read().splitlines()) == 16
    assert not (tmp_path / "x.txt").exists() and not (tmp_path / "x.jsonl").exists()


def test_dash_is_stdin_and_stdout_in_pipes(tmp_path):
    import subprocess
    import sys

    def wb(*args, stdin: bytes) -> bytes:
        out = subprocess.run([sys.executable, "-m", "workbench", *args], input=stdin, capture_output=True,
                             cwd=tmp_path, timeout=300)
        assert out.returncode == 0, out.stderr.decode()
        return out.stdout

    converted = wb("convert", "-", "--to", "openai", "-o", "-", stdin=(SAMPLES / "sharegpt.json").read_bytes())
    rows = [json.loads(line) for line in converted.decode().splitlines()]
    assert len(rows) == 10 and all("messages" in r for r in rows)
    exported = wb("export", "-", "--to", "alpaca", "-o", "-", "--workspace", str(tmp_path / "ws.sqlite"), stdin=converted)
    assert len(exported.decode().splitlines()) == 10
    info = json.loads(wb("info", "-", "--json", stdin=exported))
    assert info["format"] == "alpaca" and info["rows"] == 10


def test_a_folder_holding_an_export_for_llamafactory_still_opens(tmp_path):
    """Exporting into a folder of the opened data wrote dataset_info.json there; the folder
    must still open (the registry is not rows, the exported files are)."""
    from workbench.data.dataset import Dataset

    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(Path(__file__).resolve().parents[2] / "sample_data" / "alpaca.jsonl", data)
    assert main(["export", str(data / "alpaca.jsonl"), "--for", "llamafactory", "-o", str(data / "lf"),
                 "--workspace", str(tmp_path / "ws.sqlite")]) == 0
    assert (data / "lf" / "dataset_info.json").is_file()
    ds = Dataset.open(str(data))
    assert len(ds) == 2 * 16  # the source and the exported copy; no error on the registry
