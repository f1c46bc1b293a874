"""`workbench PATH` goes straight to the TUI: its parser is built without the other commands'
modules (the operations registry among them), which only cost start-up time there. The open
command's options may come before the path (`workbench --theme light FILE`)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHECK = r"""
import json, sys
from workbench.cli import parse_args
args = parse_args(sys.argv[1:])
print(json.dumps({"command": args.command, "paths": getattr(args, "paths", None),
                  "workspace": getattr(args, "workspace", None), "theme": getattr(args, "theme", None),
                  "registry": "workbench.ops.registry" in sys.modules}))
"""


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHECK, *argv], capture_output=True, text=True)


def _parse(*argv: str) -> dict:
    out = _run(*argv)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_a_path_opens_without_importing_the_other_commands():
    got = _parse("data/chat.jsonl", "--workspace", "w.sqlite")
    assert got["command"] == "open" and got["paths"] == ["data/chat.jsonl"] and got["workspace"] == "w.sqlite"
    assert not got["registry"]


def test_a_command_name_still_builds_every_command():
    got = _parse("info", "x.jsonl")
    assert got["command"] == "info" and got["paths"] == ["x.jsonl"] and got["registry"]


def test_the_open_options_may_come_before_the_path():
    got = _parse("--theme", "light", "sample_data/")
    assert (got["command"], got["paths"], got["theme"]) == ("open", ["sample_data/"], "light")
    assert not got["registry"]
    got = _parse("--workspace", "w.sqlite", "--theme=dark", "a.jsonl", "b.jsonl")
    assert (got["command"], got["paths"], got["workspace"], got["theme"]) == ("open", ["a.jsonl", "b.jsonl"],
                                                                              "w.sqlite", "dark")
    assert _parse("--the", "light", "a.jsonl")["theme"] == "light"  # argparse's abbreviations
    assert _parse("-", "--theme", "light")["paths"] == ["-"]  # standard input


def test_a_file_named_like_a_command_opens_after_an_option_or_open():
    assert _parse("--theme", "light", "info")["paths"] == ["info"]
    assert _parse("open", "stats")["paths"] == ["stats"]
    assert _parse("data")["paths"] == ["data"]  # a bare word that names no command is a path


def test_workbench_own_options_and_errors():
    for flag in ("--help", "-h"):
        out = _run(flag)
        assert out.returncode == 0 and out.stdout.startswith("usage: workbench [-h] [--version] COMMAND")
    for flag in ("--version", "--vers"):
        out = _run(flag)
        assert out.returncode == 0 and out.stdout.startswith("workbench ")
    out = _run("open", "--help")
    assert out.returncode == 0 and out.stdout.startswith("usage: workbench open") and "--theme" in out.stdout
    out = _run()  # no command: the help, status 2
    assert out.returncode == 2 and "COMMAND" in out.stdout
    out = _run("--theme", "light")  # options, no path
    assert out.returncode == 2 and "the following arguments are required: PATH" in out.stderr
    out = _run("--bogus", "a.jsonl")
    assert out.returncode == 2 and "unrecognized arguments: --bogus" in out.stderr


def test_a_dry_run_in_a_pipe_imports_no_progress_bar_and_no_workspace(tmp_path):
    # nobody sees a bar in a pipe, and a dry run writes no workspace: both would be start-up cost
    code = ("import json, sys, workbench.cli as c\n"
            "code = c.main(['dedup', 'workbench/bundled/sample_data', '--method', 'exact', '--dry-run'])\n"
            "print(json.dumps([code, [m for m in ('rich', 'workbench.store.workspace', 'sqlite3') if m in sys.modules]]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "WORKBENCH_HOME": str(tmp_path)}, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "1 duplicates proposed" in out.stdout
    assert json.loads(out.stdout.splitlines()[-1]) == [0, []]
