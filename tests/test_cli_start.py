"""`workbench PATH` goes straight to the TUI: its parser is built without the other commands'
modules (the operations registry among them), which only cost start-up time there."""

import json
import subprocess
import sys

CHECK = r"""
import json, sys
from workbench.cli import build_parser
argv = sys.argv[1:]
parser = build_parser(argv)
commands = set(parser._subparsers._group_actions[0].choices)
args = parser.parse_args(["open", *argv] if argv[0] not in commands else argv)
print(json.dumps({"command": args.command, "paths": args.paths, "workspace": getattr(args, "workspace", None),
                  "registry": "workbench.ops.registry" in sys.modules, "commands": sorted(commands)}))
"""


def _parse(*argv: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHECK, *argv], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_a_path_opens_without_importing_the_other_commands():
    got = _parse("data/chat.jsonl", "--workspace", "w.sqlite")
    assert got["command"] == "open" and got["paths"] == ["data/chat.jsonl"] and got["workspace"] == "w.sqlite"
    assert not got["registry"]
    assert got["commands"] == ["open"]


def test_a_command_name_still_builds_every_command():
    got = _parse("info", "x.jsonl")
    assert got["command"] == "info" and got["registry"]
    assert {"open", "info", "decontam", "dedup"} <= set(got["commands"])
