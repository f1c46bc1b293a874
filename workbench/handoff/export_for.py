"""`workbench export --for TRAINER -o DIR`: the curated rows in the layout the trainer reads best
for their kind, and beside them the trainer's own config (see workbench.handoff.trainers)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from workbench.atomic import write_text_atomic
from workbench.handoff import trainers
from workbench.handoff.splits import Split, test_ids
from workbench.store.export import export, kept_kinds, kinds_text


def export_for(ds, ws, trainer: str, out_dir: str | Path, *, name: str = "workbench", kind: str | None = None,
               only: str = "not-rejected", split: Split | None = None, signals: list[str] | None = None,
               chat_template: str | None = None, progress: Callable[[int], None] | None = None,
               merge_splits: bool = False) -> dict:
    """Write the data file(s) and config for `trainer` into the folder `out_dir`; returns the
    export summary plus {"trainer", "kind", "config": path, "next": the command to run next}.

    `chat_template`: the Jinja source the rows were previewed with (axolotl then trains with
    exactly it); None keeps the model's own. Raises ValueError for rows of several kinds
    without `kind` (naming how many of each), an unknown trainer, or a row the trainer's
    layout cannot hold."""
    if trainer not in trainers.TRAINERS:
        raise ValueError(f"unknown trainer {trainer!r}; expected one of {', '.join(trainers.TRAINERS)}")
    if kind is None:
        kinds = kept_kinds(ds, ws, only)
        if len(kinds) > 1:
            raise ValueError(f"the export holds rows of several kinds ({kinds_text(kinds)}); a trainer takes "
                             f"one: choose it with --kind")
        kind = next(iter(kinds), "sft")
    p = trainers.plan(trainer, kind)
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{out_dir}: --for writes a folder (the data and the trainer's config); this is a file")
    # TRL's loader (datasets) reads a folder and takes the splits from the file names.
    data = folder / ("data.jsonl" if trainer == "trl" else f"{name}.jsonl")
    folder.mkdir(parents=True, exist_ok=True)
    ids = test_ids(ds, ws, split, only, kind) if split else None
    summary = export(ds, ws, p.to, data, only, progress, kind=kind, signals=signals, test_ids=ids,
                     encoder=p.encoder, merge_splits=merge_splits)
    files = {f["split"]: f["out"] for f in summary["files"]}
    # the dataset's own splits (workbench.data.splits) may name evaluation rows "validation"
    train, test = files.get("train", files.get("all")), files.get("test", files.get("validation"))
    if trainer == "llamafactory":
        entries = {name: trainers.llamafactory_entry(p, Path(train).name)}
        if test:
            entries[f"{name}_test"] = trainers.llamafactory_entry(p, Path(test).name)
        config = folder / "dataset_info.json"
        trainers.merge_dataset_info(config, entries)
        stage = {"sft": "sft", "preference": "dpo", "kto": "kto", "text": "pt"}[kind]
        nxt = (f"llamafactory-cli train --stage {stage} --do_train --dataset_dir {folder} --dataset {name}"
               + (f" --eval_dataset {name}_test" if test else "") + " --model_name_or_path MODEL --output_dir OUT ...")
    elif trainer == "axolotl":
        config = folder / "axolotl.yaml"
        write_text_atomic(config, trainers.axolotl_block(p, train, test, chat_template))
        nxt = f"merge {config} into your axolotl config, then: axolotl train CONFIG.yaml"
    else:
        config = None
        command = {"sft": "sft", "preference": "dpo", "kto": "kto", "text": "sft"}[kind]
        nxt = f"trl {command} --model_name_or_path MODEL --dataset_name {folder} --output_dir OUT"
    summary.update(trainer=trainer, kind=kind, config=str(config) if config else None, next=nxt)
    return summary

