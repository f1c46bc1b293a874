"""Where chat templates come from: built-ins, a Hugging Face tokenizer directory, a Jinja file, a GGUF file.

A template spec is one of
    NAME            a built-in (see BUILTINS; the .jinja texts live in builtin/)
    tokenizer:DIR   a Hugging Face tokenizer directory (chat_template.jinja, chat_template.json
                    or tokenizer_config.json for the template; bos/eos and added tokens from
                    tokenizer_config.json / tokenizer.json)
    jinja:FILE      a template file; bos/eos are empty, control tokens are guessed from its text
    gguf:FILE       the `tokenizer.chat_template` inside a GGUF model file
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

BUILTIN_DIR = Path(__file__).parent / "builtin"

# What each built-in knows besides its text: the tokens it writes, and which of them end a turn
# (trained with the answer when the mask policy trains on EOS). `tokenizer` is the tokenizer
# that counts tokens for it when none is given; only SmolLM2's ships with Workbench.
_CHATML = ("<|im_start|>", "<|im_end|>")
BUILTINS: dict[str, dict] = {
    "chatml": dict(bos="", eos="<|im_end|>", special=_CHATML, stop=("<|im_end|>",),
                   description="ChatML (<|im_start|>role ... <|im_end|>), as used by many fine-tunes"),
    "alpaca": dict(bos="", eos="</s>", special=("</s>",), stop=("</s>",),
                   description="Stanford Alpaca: ### Instruction / ### Response, default preamble"),
    "vicuna": dict(bos="", eos="</s>", special=("</s>",), stop=("</s>",),
                   description="Vicuna v1.1: USER: ... ASSISTANT: ...</s>"),
    "llama-2": dict(bos="<s>", eos="</s>", special=("<s>", "</s>", "[INST]", "[/INST]", "<<SYS>>", "<</SYS>>"),
                    stop=("</s>",), description="Llama 2 chat: <s>[INST] <<SYS>> ... [/INST] answer </s>"),
    "llama-3": dict(bos="<|begin_of_text|>", eos="<|eot_id|>",
                    special=("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
                             "<|end_of_text|>"),
                    stop=("<|eot_id|>",), description="Llama 3 instruct: header ids and <|eot_id|>"),
    "mistral": dict(bos="<s>", eos="</s>", special=("<s>", "</s>", "[INST]", "[/INST]"), stop=("</s>",),
                    description="Mistral instruct v0.2: [INST] ... [/INST] answer</s>, system folded into turn 1"),
    "gemma": dict(bos="<bos>", eos="<eos>", special=("<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>"),
                  stop=("<end_of_turn>",), description="Gemma: <start_of_turn>user/model, no system role"),
    "zephyr": dict(bos="<s>", eos="</s>", special=("<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"),
                   stop=("</s>",), description="Zephyr: <|user|> ... </s> <|assistant|> ... </s>"),
    "phi-3": dict(bos="<s>", eos="<|endoftext|>",
                  special=("<s>", "<|endoftext|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"),
                  stop=("<|end|>",), description="Phi-3: <|user|> ... <|end|> <|assistant|> ... <|end|>"),
    "qwen2.5": dict(bos="", eos="<|im_end|>",
                    special=_CHATML + ("<|endoftext|>", "<tool_call>", "</tool_call>"),
                    stop=("<|im_end|>",),
                    description="Qwen2.5 instruct: ChatML with a default system prompt and tool calls"),
    "smollm2": dict(bos="<|im_start|>", eos="<|im_end|>", special=_CHATML + ("<|endoftext|>",),
                    stop=("<|im_end|>",), extra={"unk_token": "<|endoftext|>", "pad_token": "<|im_end|>"},
                    description="SmolLM2 instruct (the bundled model's own template, from its GGUF)"),
}
PREFIXES = ("tokenizer:", "jinja:", "gguf:")
MASK_POLICIES = ("assistant", "last", "all", "template")  # what a rendering trains: see render.py
GENERATION_TAG = re.compile(r"\{%-?\s*generation\s*-?%\}")


@dataclass(frozen=True)
class Template:
    """A chat template and the tokens it needs. `source` is the Jinja text."""

    name: str
    source: str
    bos_token: str = ""
    eos_token: str = ""
    special_tokens: tuple[str, ...] = ()  # control tokens the template writes (highlighted in previews)
    stop_tokens: tuple[str, ...] = ()  # tokens that close an assistant turn
    description: str = ""
    tokenizer: str | None = None  # tokenizer spec that matches this template, if known
    extra: dict = field(default_factory=dict)  # other special tokens passed to the template (unk_token ...)
    tool_source: str | None = None  # a separate "tool_use" template, used when a row has tools

    def context(self) -> dict:
        """The variables transformers passes besides messages: its special-tokens map."""
        return {"bos_token": self.bos_token, "eos_token": self.eos_token, **self.extra}

    def source_for(self, tools) -> str:
        return self.tool_source if tools and self.tool_source else self.source

    @property
    def has_generation(self) -> bool:
        """Does the template mark what the model generates with `{% generation %}` blocks (HF's assistant mask)?"""
        return any(GENERATION_TAG.search(s) for s in (self.source, self.tool_source) if s)


class TemplateNotFound(ValueError):
    pass


def list_templates() -> list[Template]:
    """The built-ins, in a stable order."""
    return [get_template(name) for name in BUILTINS]


def get_template(spec: str | Template) -> Template:
    """A Template from a spec (see the module doc). Raises TemplateNotFound with what was expected."""
    if isinstance(spec, Template):
        return spec
    return _load(spec)


@lru_cache(maxsize=32)
def _load(spec: str) -> Template:
    kind, sep, rest = spec.partition(":")
    if sep and kind + ":" in PREFIXES:
        path = Path(rest).expanduser()
        if not path.exists():
            raise TemplateNotFound(f"{spec}: {path} does not exist")
        if kind == "tokenizer":
            return _from_tokenizer_dir(path, spec)
        if kind == "jinja":
            return _from_text(spec, _read_text(path), description=f"template file {path}")
        return _from_gguf(path, spec)
    if spec in BUILTINS:
        info = BUILTINS[spec]
        return Template(
            name=spec, source=(BUILTIN_DIR / f"{spec}.jinja").read_text(encoding="utf-8"),
            bos_token=info["bos"], eos_token=info["eos"], special_tokens=tuple(info["special"]),
            stop_tokens=tuple(info["stop"]), description=info["description"], tokenizer="smollm2",
            extra=dict(info.get("extra", {})),
        )
    raise TemplateNotFound(
        f"unknown template {spec!r}; expected one of {', '.join(BUILTINS)}, or tokenizer:DIR, jinja:FILE, gguf:FILE"
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise TemplateNotFound(f"{path}: cannot read the template: {e}") from None


_TOKEN_RE = re.compile(r"<\|[^|<>\s]{1,40}\|>|</?s>|\[/?INST\]|<(?:bos|eos|start_of_turn|end_of_turn)>")
_STOP_RE = re.compile(r"end|eot|eos|</s>", re.I)


def _guess_tokens(source: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_TOKEN_RE.findall(source)))


def _from_text(name: str, source: str, *, description: str, bos: str = "", eos: str = "",
               special: tuple[str, ...] = (), tokenizer: str | None = None, extra: dict | None = None,
               tool_source: str | None = None) -> Template:
    special = tuple(dict.fromkeys((*special, *_guess_tokens(source), *(t for t in (bos, eos) if t))))
    stop = tuple(t for t in special if _STOP_RE.search(t) and t != bos)
    if eos and eos not in stop:
        stop = (eos, *stop)
    return Template(name=name, source=source, bos_token=bos, eos_token=eos, special_tokens=special,
                    stop_tokens=stop, description=description, tokenizer=tokenizer, extra=extra or {},
                    tool_source=tool_source)


def _token_text(value) -> str:
    """tokenizer_config.json spells a token as a string or as an AddedToken dict."""
    if isinstance(value, dict):
        return value.get("content") or ""
    return value or ""


def _pick(templates, spec: str) -> tuple[str | None, str | None]:
    """A chat_template value is a string or a list of {name, template}; returns (default, tool_use)."""
    if isinstance(templates, str) or templates is None:
        return templates, None
    if isinstance(templates, dict):
        named = templates
    elif isinstance(templates, list):
        named = {t.get("name"): t.get("template") for t in templates if isinstance(t, dict)}
    else:
        named = {None: templates}
    default = named.get("default") or next(iter(named.values()), None)
    tool_use = named.get("tool_use")
    for value in (default, tool_use):
        if value is not None and not isinstance(value, str):
            raise TemplateNotFound(f"{spec}: chat_template must be a string or a list of "
                                   f"{{name, template}} strings, not {json.dumps(value)[:60]}")
    return default, tool_use


def _from_tokenizer_dir(path: Path, spec: str) -> Template:
    if not path.is_dir():
        raise TemplateNotFound(f"{spec}: {path} is not a directory")
    config = _read_json(path / "tokenizer_config.json")
    source, tool_source = _pick(config.get("chat_template"), spec)
    if (path / "chat_template.json").exists():
        source, tool_source = _pick(_read_json(path / "chat_template.json").get("chat_template"), spec)
    if (path / "chat_template.jinja").exists():
        source = _read_text(path / "chat_template.jinja")
    if not source:
        raise TemplateNotFound(f"{spec}: no chat template in {path} (looked in chat_template.jinja, "
                               "chat_template.json, tokenizer_config.json)")
    special: list[str] = []
    for tok in (config.get("added_tokens_decoder") or {}).values():
        if tok.get("special"):
            special.append(tok["content"])
    for tok in _read_json(path / "tokenizer.json").get("added_tokens") or ():
        if tok.get("special"):
            special.append(tok["content"])
    extra = {k: _token_text(config[k]) for k in ("unk_token", "pad_token", "sep_token", "cls_token", "mask_token")
             if config.get(k)}
    return _from_text(spec, source, description=f"tokenizer {path}", bos=_token_text(config.get("bos_token")),
                      eos=_token_text(config.get("eos_token")), special=tuple(special), tokenizer=str(path),
                      extra=extra, tool_source=tool_source)


def _read_json(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise TemplateNotFound(f"{path}: line {e.lineno}: invalid JSON: {e.msg}") from None
    except OSError as e:
        raise TemplateNotFound(f"{path}: {e}") from None


def _from_gguf(path: Path, spec: str) -> Template:
    meta = read_gguf_tokenizer(path)
    if not meta.get("chat_template"):
        raise TemplateNotFound(f"{spec}: {path} has no tokenizer.chat_template")
    return _from_text(spec, meta["chat_template"], description=f"GGUF {path.name}", bos=meta.get("bos", ""),
                      eos=meta.get("eos", ""), tokenizer=f"gguf:{path}")


def read_gguf_tokenizer(path: Path) -> dict:
    """The chat template and bos/eos strings stored in a GGUF file's metadata."""
    from workbench.templates.gguf_meta import GGUFError, read_metadata

    try:
        fields = read_metadata(path, "tokenizer.")
    except (GGUFError, OSError) as e:
        raise TemplateNotFound(str(e) if isinstance(e, GGUFError) else f"{path}: {e.strerror}") from None
    out: dict = {}
    if "tokenizer.chat_template" in fields:
        out["chat_template"] = fields["tokenizer.chat_template"]
    tokens = fields.get("tokenizer.ggml.tokens")
    for key, name in (("bos", "tokenizer.ggml.bos_token_id"), ("eos", "tokenizer.ggml.eos_token_id")):
        if tokens is not None and name in fields:
            out[key] = tokens[int(fields[name])]
    return out
