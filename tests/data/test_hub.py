"""`hf:ORG/NAME[:CONFIG][:SPLIT]` opens a dataset from the local Hugging Face cache, offline:
its split shards as sources, a named split alone, and a clear error for what is not cached."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def _cache(tmp_path):
    """A hub cache laid out as huggingface_hub lays it out: refs/main -> snapshots/<commit>/."""
    repo = tmp_path / "hub" / "datasets--org--demo"
    data = repo / "snapshots" / "0123abcd" / "data"
    data.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    for split, n in (("train", 6), ("test", 2)):
        pq.write_table(pa.table({"instruction": [f"{split} question {i}" for i in range(n)],
                                 "output": [f"answer {i}" for i in range(n)]}),
                       data / f"{split}-00000-of-00001.parquet")
    return tmp_path / "hub"


def _wb(tmp_path, hub, *args):
    env = {**os.environ, "HF_HUB_CACHE": str(hub), "HF_HUB_OFFLINE": "1", "WORKBENCH_HOME": str(tmp_path / "home")}
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300)


def test_hf_spec_opens_the_cached_snapshot_by_split(tmp_path):
    hub = _cache(tmp_path)
    out = _wb(tmp_path, hub, "info", "hf:org/demo", "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["rows"] == 8
    test_only = json.loads(_wb(tmp_path, hub, "info", "hf:org/demo::test", "--json").stdout)
    assert test_only["rows"] == 2
    conv = _wb(tmp_path, hub, "convert", "hf:org/demo", "--split", "train", "--to", "openai", "-o", "-")
    assert conv.returncode == 0, conv.stderr
    assert [json.loads(line)["messages"][0]["content"] for line in conv.stdout.splitlines()] == \
        [f"train question {i}" for i in range(6)]


def test_what_is_not_cached_is_a_clear_error(tmp_path):
    hub = _cache(tmp_path)
    missing = _wb(tmp_path, hub, "info", "hf:org/other")
    assert missing.returncode == 1 and "not in the local Hugging Face cache" in missing.stderr
    assert "Traceback" not in missing.stderr
    config = _wb(tmp_path, hub, "info", "hf:org/demo:nope")
    assert config.returncode == 1 and "no config 'nope'" in config.stderr and "data" in config.stderr
    bad = _wb(tmp_path, hub, "info", "hf:demo")
    assert bad.returncode == 1 and "hf:ORG/NAME" in bad.stderr
