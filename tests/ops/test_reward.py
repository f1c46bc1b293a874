"""score --reward-model: a tiny sequence-classification model built and saved here."""

from __future__ import annotations

import pytest

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.ops import registry
from workbench.ops.base import Context, ParamError

WORDS = "user assistant system : what is two plus the answer four five good bad hello".split()


@pytest.fixture(scope="module")
def reward_dir(tmp_path_factory):
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    path = tmp_path_factory.mktemp("rm")
    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", *WORDS])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]").save_pretrained(path)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=64, num_labels=1, pad_token_id=0)
    BertForSequenceClassification(cfg).save_pretrained(path)
    return path


def expected(path, text: str) -> float:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    with torch.inference_mode():
        return float(model(**tok(text, return_tensors="pt")).logits[0, 0])


@pytest.mark.slow
def test_reward_scores_equal_the_models_own_output(reward_dir):
    rows = [make_record(id="s", messages=[{"role": "user", "content": "what is two plus two"},
                                          {"role": "assistant", "content": "the answer is four"}]),
            make_record(id="p", kind="preference", messages=[{"role": "user", "content": "hello"}],
                        chosen=[{"role": "assistant", "content": "hello good"}],
                        rejected=[{"role": "assistant", "content": "bad bad"}]),
            make_record(id="q", messages=[{"role": "user", "content": "hello"}])]
    op = registry.get("score")
    out = {}
    for bs in (1, 3):
        res = op.run(Dataset.from_records(rows), op.params_from_dict({"reward_model": str(reward_dir),
                                                                      "batch_size": bs}), Context())
        out[bs] = {(rid, n): v for rid, n, v in res.signals}
    got = out[3]
    assert got[("s", "reward.score")] == pytest.approx(
        expected(reward_dir, "user: what is two plus two\nassistant: the answer is four"), abs=1e-5)
    assert got[("p", "reward.rejected")] == pytest.approx(expected(reward_dir, "user: hello\nassistant: bad bad"), abs=1e-5)
    assert got[("p", "reward.margin")] == pytest.approx(got[("p", "reward.score")] - got[("p", "reward.rejected")])
    assert out[1] == pytest.approx(out[3], abs=1e-5)  # padding in a batch changes nothing
    assert "no answer" in res.errors["q"]
    with pytest.raises(ParamError, match="reward_model is required"):
        op.params_from_dict({})
