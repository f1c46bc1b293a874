"""Control sequences from rows never reach the terminal raw from the CLI: field names in `info`,
row ids in `decide` / `status`, errors, `template render` on a terminal. `--json` output stays
valid JSON that decodes to the exact strings, and `template render` to a pipe is exact."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys

import pytest

from workbench.cli import main
from workbench.terminal import visible, visible_data

EVIL = "\x1b]0;PWNED\x07\x1b[2J\x1b]52;c;UFdORUQ=\x07\x9b31m\u202eevil\r\x00"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_visible_maps_every_control_to_a_visible_stand_in():
    assert visible("a\x1b]0;t\x07b") == "a␛]0;t␇b"
    assert visible("\x9b\u202e\u2066\x7f\ud800") == "\\u009b\\u202e\\u2066\\u007f\\ud800"
    assert visible("tab\tand\nnewline stay; ünïcödé too") == "tab\tand\nnewline stay; ünïcödé too"
    assert visible("\r\x00") == "␍␀"
    for code in range(0x10000):
        ch = chr(code)
        if RAW.match(ch) and ch not in "\t\n":
            assert not RAW.search(visible(ch)), hex(code)
    assert visible_data({EVIL: [EVIL, 1, None]}) == {visible(EVIL): [visible(EVIL), 1, None]}


@pytest.fixture
def hostile(tmp_path):
    path = tmp_path / "hostile.jsonl"
    rows = [{"id": f"id{EVIL}{i}", "instruction": f"do {EVIL}", "output": "ok", f"field{EVIL}": 1} for i in range(2)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _clean(text: str) -> None:
    assert not RAW.search(text.replace("\n", "")), repr(text)


def test_info_and_errors_show_controls_visibly(hostile, tmp_path, capsys):
    assert main(["info", str(hostile)]) == 0
    out = capsys.readouterr().out
    _clean(out)
    assert "field␛]0;PWNED␇" in out
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({f"what{EVIL}": 1}) + "\n", encoding="utf-8")
    assert main(["convert", str(bad), "--to", "openai", "-o", str(tmp_path / "o.jsonl")]) == 1
    err = capsys.readouterr().err
    _clean(err)
    assert "what␛]0;PWNED␇" in err
    with pytest.raises(SystemExit):  # a path that names controls
        main(["info", f"{tmp_path}/no{EVIL}.jsonl"])
    _clean(capsys.readouterr().err)


def test_json_output_is_exact_json(hostile, capsys):
    assert main(["info", str(hostile), "--json"]) == 0
    out = capsys.readouterr().out
    _clean(out)
    assert f"field{EVIL}" in json.loads(out)["fields"]  # every character survives the round trip


def test_decide_and_status_show_row_ids_visibly(hostile, tmp_path, capsys):
    ws = str(tmp_path / "ws.sqlite")
    assert main(["decide", str(hostile), "--workspace", ws, "--row", f"id{EVIL}0", "--reject"]) == 0
    out = capsys.readouterr().out
    _clean(out)
    assert "id␛]0;PWNED␇" in out
    assert main(["status", str(hostile), "--workspace", ws]) == 0
    _clean(capsys.readouterr().out)
    assert main(["status", str(hostile), "--workspace", ws, "--json"]) == 0
    out = capsys.readouterr().out
    _clean(out)
    json.loads(out)


def _render(hostile, stdout) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench", "template", "render", str(hostile), "-t", "chatml",
                           "--row", "0", *(["--mask"] if stdout is not subprocess.PIPE else [])],
                          stdout=stdout, stderr=subprocess.PIPE, timeout=120, env={**os.environ, "NO_COLOR": ""})


def test_template_render_is_exact_to_a_pipe_and_visible_on_a_terminal(hostile):
    piped = _render(hostile, subprocess.PIPE)
    assert piped.returncode == 0, piped.stderr
    assert f"do {EVIL}".encode() in piped.stdout  # the exact string, for tools that read it
    master, slave = pty.openpty()
    try:
        shown = _render(hostile, slave)
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other side closed
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
    assert shown.returncode == 0, shown.stderr
    text = b"".join(chunks).decode()
    assert "do ␛]0;PWNED␇␛[2J␛]52;c;UFdORUQ=␇\\u009b31m\\u202eevil␍␀" in text
    # Only the colours of --mask remain as escape sequences (SGR: ESC [ … m).
    assert not re.search("\x1b(?!\\[[0-9;]*m)", text) and not RAW.search(re.sub("\x1b\\[[0-9;]*m|\r?\n", "", text))
