"""`workbench completion bash|zsh|tcsh`: a shell completion script for every sub-command and
flag, generated from the parser itself by shtab (so it never falls behind the commands)."""

from __future__ import annotations

import argparse

SHELLS = ("bash", "zsh", "tcsh")


def register(sub) -> None:
    p = sub.add_parser("completion", help="print a shell completion script (bash, zsh, tcsh)",
                       description="bash: workbench completion bash > ~/.local/share/bash-completion/completions/workbench; "
                                   "zsh: workbench completion zsh > ~/.zfunc/_workbench")
    p.add_argument("shell", choices=SHELLS)
    p.set_defaults(func=cmd_completion)


def cmd_completion(args: argparse.Namespace) -> int:
    import shtab

    from workbench.cli import build_parser

    print(shtab.complete(build_parser(), shell=args.shell))
    return 0
