"""The `workbench` command: `workbench PATH` opens the TUI; sub-commands run headless.

Each module of this package registers its sub-commands (a `register(subparsers)` function);
no core package imports this one. Command
modules import nothing heavy at top level: `workbench --help` must stay instant.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

COMMAND_MODULES = (
    "workbench.cli.data",  # info, convert
    "workbench.cli.store",  # decide, status, jobs, export
    "workbench.cli.review",  # review-policy, agreement, assign
    "workbench.cli.templates",  # template list | render | lint
    "workbench.cli.ops",  # one per operation in the registry: filter, decontam, judge, generate ..., embed, map
    "workbench.cli.quality",  # dedup --method exact|minhash|embedding
    "workbench.cli.explore",  # similar, stats
    "workbench.cli.recipe",  # recipe, run
    "workbench.cli.completion",  # completion bash|zsh|tcsh
)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; with `argv`, only the operation command it names gets its flags
    (the others are listed, and `--help` imports no operation), and for `open ...` only `open`."""
    from workbench.cli.common import add_dataset_args, add_user_arg

    parser = argparse.ArgumentParser(
        prog="workbench",
        description="A terminal workbench for LLM post-training datasets. "
        "`workbench PATH` opens the TUI on a file or directory.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {_version()}")  # OWN_OPTIONS
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("open", help="open the TUI on a dataset (the default command)")
    add_dataset_args(p)
    p.add_argument("--theme", help="theme name (dark, light, high-contrast, or one from themes/)")
    add_user_arg(p)
    p.add_argument("--ask-user", action="store_true", help=argparse.SUPPRESS)  # `serve`'s sessions
    p.set_defaults(func=_open)
    if argv and argv[0] == "open":
        return parser  # `workbench PATH` opens the TUI: the other commands' modules are not imported
    p = sub.add_parser("serve", help="serve the TUI to browsers (textual-serve): one app per browser "
                                     "session, each asking for an annotator name")
    add_dataset_args(p)
    p.add_argument("--theme", help="theme name (dark, light, high-contrast, or one from themes/)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1, this machine only; reach it from "
                        "elsewhere through `ssh -L`); 0.0.0.0 listens on every interface")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.set_defaults(func=_serve)
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        if name == "workbench.cli.ops":
            module.register(sub, argv)
        else:
            module.register(sub)
    return parser


# workbench's own options (argparse's help and --version): any other option before the first
# positional belongs to the default command, as in `workbench --theme light FILE`
OWN_OPTIONS = ("-h", "--help", "--version")


def _opens(arg: str) -> bool:
    """Whether `workbench ARG ...` means `workbench open ARG ...`, from ARG alone: ARG names a file
    or folder (holds "." or "/", as no command name does) or standard input (-), or it is an
    option other than OWN_OPTIONS (or their abbreviations, which argparse takes)."""
    if not arg.startswith("-"):
        return any(c in arg for c in "./" + os.sep)
    return arg == "-" or not (arg in OWN_OPTIONS or len(arg) > 2 and any(o.startswith(arg) for o in OWN_OPTIONS))


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line `argv` parsed; `workbench [OPEN-OPTIONS] PATH...` reads as `workbench open
    ...`, and so does a first word that names no command (a folder `data`), so a file named like a
    command opens with options first, as `./NAME` or after `open`. Exits (argparse's SystemExit)
    on a usage error, --help, --version, or no command (printing the help, status 2)."""
    if argv and _opens(argv[0]):
        argv = ["open", *argv]
    parser = build_parser(argv)
    commands = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    if argv and not argv[0].startswith("-") and argv[0] not in commands:
        argv = ["open", *argv]
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        parser.exit(2)
    return args


def _version() -> str:
    from workbench import __version__

    return __version__


def _open(args: argparse.Namespace) -> int:
    from workbench.cli.common import read_options
    from workbench.tui.app import run

    args.options = read_options(args)  # the TUI takes them parsed: it imports nothing from the CLI
    return run(args)


def _serve(args: argparse.Namespace) -> int:
    from workbench.cli.common import input_paths, load_dataset
    from workbench.tui.serve import serve

    if "-" in args.paths:
        print("workbench: serve reads files, not standard input", file=sys.stderr)
        return 2
    ds = load_dataset(args)  # a bad path fails here, once; the sessions reuse the converted copy
    app_args = [os.path.abspath(p) if os.path.exists(p) else p for p in input_paths(args)]
    for flag, value in (("--format", args.format), ("--split", args.split), ("--theme", args.theme),
                        ("--workspace", args.workspace and os.path.abspath(args.workspace))):
        if value:
            app_args += [flag, value]
    app_args += [x for item in args.map for x in ("--map", item)]
    app_args += [x for item in args.roles for x in ("--roles", item)]
    app_args += ["--on-error", args.on_error]
    serve(app_args, host=args.host, port=args.port, title=f"workbench · {ds.name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from workbench.terminal import VisibleStream

    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = VisibleStream(out), VisibleStream(err)  # no row reaches the terminal raw
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    finally:
        sys.stdout, sys.stderr = out, err


def _main(argv: list[str]) -> int:
    args = parse_args(argv)
    from workbench.store.errors import WorkspaceError

    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except WorkspaceError as e:  # disk full, read-only, damaged or foreign workspace: one line naming it
        print(f"workbench: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # disk full or a read-only place while writing an output or a cache
        where = f": {e.filename}" if e.filename else ""
        print(f"workbench: {e.strerror or e}{where}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
