"""`workbench template list | render | lint`."""

from __future__ import annotations

import argparse
import os
import sys

TEMPLATE_HELP = "a built-in name (see `workbench template list`), tokenizer:DIR, jinja:FILE or gguf:FILE"
SPLIT_HELP = ("pass a leading <think> (or <|begin_of_thought|>, <reasoning>) block in an answer to the template as "
              "reasoning_content; by default the text is rendered as the source holds it, as the trainer reads it")
POLICY_HELP = "what is trained: assistant turns (default), the last one, all text, or the template's generation blocks"

# ANSI styles for --mask on a terminal: trained text on green, control tokens dimmed.
_TRAINED = "\x1b[30;42m"
_SPECIAL = "\x1b[2;35m"
_RESET = "\x1b[0m"


def register(sub) -> None:
    from workbench.cli.common import add_dataset_args
    from workbench.templates.registry import MASK_POLICIES

    p = sub.add_parser("template", help="chat templates: list, render a row, lint a dataset")
    tsub = p.add_subparsers(dest="template_command", metavar="ACTION")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    pl = tsub.add_parser("list", help="list the built-in templates")
    pl.set_defaults(func=_list)

    pr = tsub.add_parser("render", help="print one row rendered through a template")
    add_dataset_args(pr)
    pr.add_argument("--template", "-t", required=True, help=TEMPLATE_HELP)
    pr.add_argument("--row", default="0", help="row number (0-based, #N as the TUI shows it) or a row id (default 0)")
    pr.add_argument("--side", choices=("chosen", "rejected"), help="for preference rows (default chosen)")
    pr.add_argument("--mask", action="store_true", help="mark the trained spans")
    pr.add_argument("--tokens", action="store_true", help="print token counts after the rendering")
    pr.add_argument("--plain", action="store_true", help="no colours: trained spans in [[brackets]]")
    pr.add_argument("--generation-prompt", action="store_true", help="add the assistant header at the end")
    pr.add_argument("--policy", choices=MASK_POLICIES, default="assistant", help=POLICY_HELP)
    pr.add_argument("--no-eos", action="store_true", help="do not train the token that ends a turn")
    pr.add_argument("--split-reasoning", action="store_true", help=SPLIT_HELP)
    pr.add_argument("--tokenizer", help="smollm2 (default for built-ins) or a tokenizer directory")
    pr.add_argument("--max-len", type=int, help="with --tokens: say where truncation would cut")
    pr.set_defaults(func=_render)

    pn = tsub.add_parser("lint", help="find the rows a template rejects or mangles")
    add_dataset_args(pn)
    pn.add_argument("--template", "-t", required=True, help=TEMPLATE_HELP)
    pn.add_argument("--max-len", type=int, help="flag rows over this many tokens")
    pn.add_argument("--tokenizer", help="smollm2 (default for built-ins) or a tokenizer directory")
    pn.add_argument("--policy", choices=MASK_POLICIES, default="assistant", help=POLICY_HELP)
    pn.add_argument("--split-reasoning", action="store_true", help=SPLIT_HELP)
    pn.add_argument("--json", action="store_true", help="print the full report as one JSON object")
    pn.set_defaults(func=_lint)


def _template(spec: str):
    from workbench.templates.registry import TemplateNotFound, get_template

    try:
        return get_template(spec)
    except TemplateNotFound as e:
        print(f"workbench: {e}", file=sys.stderr)
        raise SystemExit(1) from None


def _list(args: argparse.Namespace) -> int:
    from workbench.templates.registry import list_templates

    for t in list_templates():
        print(f"{t.name:<10} {t.description}")
    print("\nAlso: tokenizer:DIR (a Hugging Face tokenizer directory), jinja:FILE, gguf:FILE")
    return 0


def _render(args: argparse.Namespace) -> int:
    from workbench.cli.common import load_dataset
    from workbench.templates.render import render_record

    tpl = _template(args.template)
    ds = load_dataset(args)
    from workbench.cli.common import row_position

    try:
        row = row_position(ds, args.row)
    except ValueError as e:
        print(f"workbench: {e}", file=sys.stderr)
        return 1
    rec = ds.record(row)
    try:
        r = render_record(rec, tpl, side=args.side, add_generation_prompt=args.generation_prompt,
                          mask_policy=args.policy, train_eos=not args.no_eos, split_reasoning=args.split_reasoning)
    except ValueError as e:
        print(f"workbench: {e}", file=sys.stderr)
        return 1
    if r.error:
        print(f"workbench: row {row} ({rec['id']}): {r.error}", file=sys.stderr)
        return 1
    from workbench.templates.lint import rendering_notes

    for w in rendering_notes(r, record_system=rec.get("system")):
        print(f"workbench: note: {w}", file=sys.stderr)
    from workbench.terminal import exact, visible

    # A pipe gets the exact string; a terminal sees the row's control characters, not obeys them.
    out = exact(sys.stdout)
    tty = out.isatty()
    shown = visible if tty else str
    if args.mask:
        colour = not args.plain and tty and "NO_COLOR" not in os.environ
        out.write(marked(r, colour=colour, shown=shown))
    else:
        out.write(shown(r.text))
    if args.tokens:
        from workbench.templates.tokens import tokenize

        try:
            counts = tokenize(r, args.tokenizer or tpl.tokenizer, max_len=args.max_len)
        except (ValueError, OSError, RuntimeError) as e:  # no usable tokenizer: say which, after the rendering
            out.flush()
            print(f"workbench: cannot count tokens: {e}", file=sys.stderr)
            return 1
        s = counts.summary()
        line = f"tokens {s['tokens']}  trained {s['trained']}  untrained {s['untrained']}"
        if counts.over:
            line += (f"  over max-len {args.max_len}: truncation cuts at character {s['truncated_at_char']},"
                     f" dropping {s['trained_lost']} trained tokens")
        out.write(("" if r.text.endswith("\n") else "\n") + "-- " + line + "\n")
    out.flush()
    return 0


def marked(r, *, colour: bool, shown=str) -> str:
    """The rendering with trained spans marked: ANSI colours, or [[...]] brackets when plain;
    `shown` maps each piece of the text (workbench.terminal.visible on a terminal)."""
    if not colour:
        return "".join(f"[[{shown(r.text[s:e])}]]" if t else shown(r.text[s:e]) for s, e, t in r.spans)
    # Colour by character class so that control tokens stay visible inside trained spans.
    cuts = sorted({0, len(r.text), *(p for s, e, _ in r.spans for p in (s, e)), *(p for s, e in r.special for p in (s, e))})
    trained = [(s, e) for s, e, t in r.spans if t]
    special = r.special
    parts = []
    for a, b in zip(cuts, cuts[1:]):
        style = ""
        if any(s <= a < e for s, e in trained):
            style += _TRAINED
        if any(s <= a < e for s, e in special):
            style += _SPECIAL
        piece = shown(r.text[a:b])
        parts.append(f"{style}{piece}{_RESET}" if style else piece)
    return "".join(parts)


def _open_workspace(args, ds):
    """The workspace named by --workspace, else the dataset's default one if it already exists."""
    from workbench.paths import data_dir
    from workbench.store.workspace import Workspace

    if args.workspace:
        return Workspace.open(args.workspace)
    default = data_dir() / "workspaces" / f"{ds.fingerprint}.sqlite"
    return Workspace.for_dataset(ds) if default.exists() else None


def _lint(args: argparse.Namespace) -> int:
    from workbench.cli.common import load_dataset
    from workbench.templates.lint import format_report, lint_dataset, report_json

    tpl = _template(args.template)
    ds = load_dataset(args)
    ws = _open_workspace(args, ds)
    try:
        report = lint_dataset(ds, tpl, max_len=args.max_len, tokenizer=args.tokenizer, mask_policy=args.policy,
                              split_reasoning=args.split_reasoning, ws=ws)
    except (ValueError, OSError, RuntimeError) as e:  # a policy the template cannot serve, no usable tokenizer
        print(f"workbench: {e}", file=sys.stderr)
        return 1
    finally:
        if ws is not None:
            ws.close()
    if args.json:
        print(report_json(report))
    else:
        print(format_report(report))
        if report.run_id is not None:
            print(f"signals written to the workspace (run {report.run_id})")
    return 1 if report.rows_with_issues else 0
