"""Shell completion comes from the parser itself: bash completes sub-commands (the generated
operation commands too) and each command's flags."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest


def _complete(script: str, words: list[str]) -> set[str]:
    line = " ".join(words)
    body = (f"source {script}\nCOMP_WORDS=({line})\nCOMP_CWORD={len(words) - 1}\n"
            f'COMP_LINE="{line}"\nCOMP_POINT={len(line)}\n_shtab_workbench\necho "${{COMPREPLY[@]}}"\n')
    out = subprocess.run(["bash", "-c", body], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash completion needs bash")
def test_bash_completion_script(tmp_path):
    out = subprocess.run([sys.executable, "-m", "workbench", "completion", "bash"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    script = tmp_path / "workbench.bash"
    script.write_text(out.stdout)
    assert {"export"} <= _complete(str(script), ["workbench", "exp"])
    assert {"mix"} <= _complete(str(script), ["workbench", "mi"])
    assert {"--for", "--format"} <= _complete(str(script), ["workbench", "export", "x", "--fo"])
    assert "--fail-on-hit" in _complete(str(script), ["workbench", "decontam", "x", "--fail"])


def test_fail_on_flags_for_ci_scripts(tmp_path, capsys):
    from workbench.cli import main

    data = tmp_path / "d.jsonl"
    data.write_text('{"instruction": "What is 2+2?", "output": "As an AI language model, I cannot answer."}\n'
                    '{"instruction": "Name a colour.", "output": "Blue is a colour of the sky."}\n')
    ws = ["--workspace", str(tmp_path / "ws.sqlite")]
    assert main(["filter", str(data), *ws]) == 0
    assert main(["filter", str(data), "--fail-on-flag", *ws]) == 3
    assert "flagged (--fail-on-flag)" in capsys.readouterr().err
    bench = tmp_path / "bench.jsonl"
    bench.write_text('{"question": "Name a colour.", "answer": "Blue is a colour of the sky."}\n')
    clean = tmp_path / "clean.jsonl"
    clean.write_text('{"instruction": "Say hello to the team today", "output": "Hello to the whole team, have a good day"}\n')
    assert main(["decontam", str(clean), "--against", str(bench), "--ngram", "3", "--fail-on-hit",
                 "--workspace", str(tmp_path / "ws2.sqlite")]) == 0
    assert main(["decontam", str(data), "--against", str(bench), "--ngram", "3", "--fail-on-hit", *ws]) == 3
