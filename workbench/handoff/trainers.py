"""The data file and config each trainer loads without edits, per kind of row.

| trainer | sft | preference | kto | text |
|---|---|---|---|---|
| llamafactory | ShareGPT `conversations` | ShareGPT + `chosen`/`rejected` turns, `ranking: true` | ShareGPT + `kto_tag` | `text`, column `prompt` |
| axolotl | `messages`, `type: chat_template` | `messages` + one `chosen`/`rejected` turn, `rl: dpo`, `type: chat_template.default` | `prompt`/`completion`/`label`, `rl: kto`, `user_defined.default` | `text`, `type: completion` |
| trl | `messages` (conversational) | `prompt`/`chosen`/`rejected` turn lists | `prompt`/`completion`/`label` | `text` |

Sources: LLaMA-Factory's data/README.md (dataset_info.json: formatting, ranking, columns, tags),
axolotl's dataset-formats and rlhf docs (chat_template, chat_template.default,
user_defined.default, completion), TRL's dataset formats (conversational, preference,
unpaired preference). Rows are written with each format's standard spellings (`human`/`gpt`,
`user`/`assistant`), whatever the source spelled, since the config names those spellings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from workbench.atomic import write_text_atomic
from workbench.data.formats import encode
from workbench.data.formats.base import RowError
from workbench.data.record import Record

TRAINERS = ("llamafactory", "axolotl", "trl")
SHAREGPT_TAGS = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
                 "observation_tag": "observation", "function_tag": "function_call", "system_tag": "system"}


@dataclass
class Plan:
    """How one trainer takes one kind: the row format, the row shaper, the file names."""
    trainer: str
    kind: str
    to: str
    shape: Callable[[Record], tuple[dict, list[str]]]
    columns: set[str] = field(default_factory=set)  # the fields the written rows hold

    def encoder(self, rec: Record) -> tuple[dict, list[str]]:
        row, lost = self.shape(rec)
        self.columns.update(row)
        return row, lost


def plan(trainer: str, kind: str) -> Plan:
    """Raises ValueError for an unknown trainer."""
    if trainer not in TRAINERS:
        raise ValueError(f"unknown trainer {trainer!r}; expected one of {', '.join(TRAINERS)}")
    if kind == "text":
        return Plan(trainer, kind, "text", lambda rec: _plain(rec, "text"))
    if trainer == "llamafactory":
        return Plan(trainer, kind, "sharegpt", _llamafactory_row)
    if trainer == "trl":
        return Plan(trainer, kind, "trl" if kind in ("preference", "kto") else "openai",
                    lambda rec: _plain(rec, "trl" if kind in ("preference", "kto") else "openai"))
    shaper = {"sft": lambda rec: _plain(rec, "openai"), "preference": _axolotl_pair, "kto": _axolotl_kto}[kind]
    return Plan(trainer, kind, "openai", shaper)


def _plain(rec: Record, fmt: str) -> tuple[dict, list[str]]:
    """The row in `fmt`'s standard spellings; the source's own id stays."""
    origin = rec.get("origin") or {}
    return encode({**rec, "origin": {"id": origin["id"]} if "id" in origin else {}}, fmt)


def _llamafactory_row(rec: Record) -> tuple[dict, list[str]]:
    """A ShareGPT row whose `tools` is the JSON string LLaMA-Factory's tool formatter parses."""
    row, lost = _plain(rec, "sharegpt")
    if isinstance(row.get("tools"), (list, dict)):
        row["tools"] = json.dumps(row["tools"], ensure_ascii=False)
    return row, lost


def _one_turn(rec: Record, side: str, layout: str) -> dict:
    turns = rec.get(side) or []
    if len(turns) != 1 or turns[0].get("role") != "assistant":
        raise RowError(f"row {rec['id']}: {layout} holds one assistant turn per side; "
                       f"its {side} side has {len(turns)} turn(s)")
    return turns[0]


def _axolotl_pair(rec: Record) -> tuple[dict, list[str]]:
    """axolotl's `chat_template.default` DPO row: `messages` (the prompt), then one `chosen`
    and one `rejected` message."""
    row, lost = _plain(rec, "openai")  # TRL layout: prompt / chosen / rejected lists
    out = {"messages": row.pop("prompt"),
           "chosen": _message(_one_turn(rec, "chosen", "axolotl's chat_template.default"), row.pop("chosen")),
           "rejected": _message(_one_turn(rec, "rejected", "axolotl's chat_template.default"), row.pop("rejected"))}
    out.update(row)
    return out, lost


def _message(turn: dict, written: list[dict]) -> dict:
    return written[0] if written else {"role": "assistant", "content": turn.get("content") or ""}


def _axolotl_kto(rec: Record) -> tuple[dict, list[str]]:
    """axolotl's `user_defined.default` KTO row: one prompt string, one completion string."""
    turns = rec.get("messages") or []
    if [t.get("role") for t in turns] != ["user", "assistant"] or any(isinstance(t.get("content"), list) for t in turns):
        raise RowError(f"row {rec['id']}: axolotl's KTO layout (user_defined.default) holds one prompt and one "
                       f"answer; this row has the turns {[t.get('role') for t in turns]}")
    out = {"prompt": turns[0].get("content") or "", "completion": turns[1].get("content") or "",
           "label": bool(rec.get("label"))}
    if rec.get("system"):
        out = {"system": rec["system"], **out}
    origin = rec.get("origin") or {}
    if "id" in origin:
        out = {"id": origin["id"], **out}
    return out, []


# --- configs ---------------------------------------------------------------------------------

def llamafactory_entry(p: Plan, file_name: str) -> dict:
    """One dataset_info.json entry naming the columns and tags the written rows use."""
    if p.kind == "text":
        return {"file_name": file_name, "columns": {"prompt": "text"}}
    columns = {"messages": "conversations"}
    for name in ("system", "tools", "images"):
        if name in p.columns:
            columns[name] = name
    entry: dict = {"file_name": file_name, "formatting": "sharegpt"}
    if p.kind == "preference":
        entry["ranking"] = True
        columns.update(chosen="chosen", rejected="rejected")
    elif p.kind == "kto":
        columns["kto_tag"] = "kto_tag"
    entry["columns"] = columns
    entry["tags"] = dict(SHAREGPT_TAGS)
    return entry


def merge_dataset_info(path: Path, entries: dict[str, dict]) -> None:
    """Add (or replace) entries in the folder's dataset_info.json, keeping the others.
    Raises ValueError when an existing file is not a JSON object."""
    info: dict = {}
    if path.exists():
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{e.lineno}: not JSON ({e.msg}); fix or remove it") from None
        if not isinstance(info, dict):
            raise ValueError(f"{path}: dataset_info.json must be a JSON object")
    info.update(entries)
    write_text_atomic(path, json.dumps(info, ensure_ascii=False, indent=2) + "\n")


def axolotl_block(p: Plan, train_path: str, test_path: str | None, chat_template: str | None) -> str:
    """The `datasets:` (and `test_datasets:`) YAML block, with `rl:` and `chat_template:`."""
    import yaml

    def dataset(path: str) -> dict:
        d: dict = {"path": path, "ds_type": "json", "split": "train"}
        if p.kind == "text":
            d.update(type="completion", field="text")
        elif p.kind == "sft":
            d.update(type="chat_template", field_messages="messages",
                     message_property_mappings={"role": "role", "content": "content"},
                     roles_to_train=["assistant"], train_on_eos="turn")
        elif p.kind == "preference":
            d.update(type="chat_template.default", field_messages="messages", field_chosen="chosen",
                     field_rejected="rejected", message_property_mappings={"role": "role", "content": "content"},
                     roles={"user": ["user"], "assistant": ["assistant"], "system": ["system"]})
        else:
            d["type"] = {"field_prompt": "prompt", "field_system": "system", "field_completion": "completion",
                         "field_label": "label", "prompt_format": "{prompt}", "completion_format": "{completion}"}
        return d

    config: dict = {}
    if p.kind == "preference":
        config["rl"] = "dpo"
    elif p.kind == "kto":
        config.update(rl="kto", remove_unused_columns=False)
    if p.kind != "text":
        if chat_template:
            config.update(chat_template="jinja", chat_template_jinja=chat_template)
        else:
            config["chat_template"] = "tokenizer_default"
    config["datasets"] = [dataset(train_path)]
    if test_path:
        config["test_datasets"] = [dataset(test_path)]
    head = ("# axolotl: merge these keys into your training config (base_model, adapter, ...).\n"
            "# Written by `workbench export --for axolotl`.\n")
    return head + yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=100)

