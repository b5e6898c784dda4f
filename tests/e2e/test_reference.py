"""Checks of the reference side alone (runs without a heed binary: pytest -m reference)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, record

pytestmark = pytest.mark.reference

REQUIRED_LANGS = ["fr", "de", "es", "pt", "pl", "cs", "ru", "uk", "el", "zh_CN", "ja", "ko",
                  "ar", "he", "hi", "th", "vi"]


def test_corpora_sizes_and_languages(data_dir, wordnet, i18n, i18n_langs, hf_ids):
    assert len(wordnet) >= 1200
    assert len(i18n) >= 300
    assert len(set(wordnet)) == len(wordnet)
    assert len(set(i18n)) == len(i18n)
    assert not set(wordnet) & set(i18n)
    for line in wordnet + i18n:
        assert line and line == line.strip() and "\t" not in line and "\r" not in line
    per_lang = {lang: i18n_langs.count(lang) for lang in dict.fromkeys(i18n_langs)}
    for lang in REQUIRED_LANGS:
        assert per_lang.get(lang, 0) >= 8, f"too few {lang} sentences: {per_lang}"
    lengths = [len(x) for x in hf_ids(wordnet)]
    assert sum(60 <= n <= 120 for n in lengths) >= 20, "want some 60-120 token sentences"
    record("data", wordnet_sentences=len(wordnet), i18n_sentences=len(i18n),
           i18n_languages=per_lang, wordnet_tokens_max=max(lengths),
           wordnet_tokens_mean=round(float(np.mean(lengths)), 2),
           wordnet_60_to_120_tokens=sum(60 <= n <= 120 for n in lengths))


def test_corpora_are_deterministic(data_dir, work_dir):
    again = work_dir / "data-again"
    subprocess.run([sys.executable, str(REPO / "tools" / "e2e-data.py"), str(again)], check=True,
                   stdout=subprocess.DEVNULL)
    for name in ("wordnet.txt", "i18n.txt", "calib.txt", "i18n-sources.tsv"):
        assert (again / name).read_bytes() == (data_dir / name).read_bytes(), name


def test_fast_and_slow_hf_tokenizers_agree(model_dir, hf_ids, texts, max_seq):
    """The fast tokenizer (the reference) agrees with transformers' Python BertTokenizer."""
    from transformers import BertTokenizer
    slow = BertTokenizer.from_pretrained(str(model_dir))
    slow_ids = slow(texts, truncation=True, max_length=max_seq)["input_ids"]
    fast_ids = hf_ids(texts)
    bad = [t for t, a, b in zip(texts, fast_ids, slow_ids) if a != b]
    assert not bad, f"{len(bad)} texts differ, e.g. {bad[:3]}"


def test_sentence_transformers_is_mean_pooled_bert(model_dir, hf_tokenizer, st_encode, texts,
                                                   max_seq):
    """The reference embedding = L2-normalised mean over tokens of BertModel's last layer."""
    import torch
    from transformers import AutoModel
    model = AutoModel.from_pretrained(str(model_dir)).eval()
    sample = texts[::40]
    enc = hf_tokenizer(sample, padding=True, truncation=True, max_length=max_seq,
                       return_tensors="pt")
    with torch.no_grad():
        h = model(**enc).last_hidden_state
    m = enc["attention_mask"].unsqueeze(-1).float()
    mine = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=1).double().numpy()
    ref = st_encode(sample)
    assert np.abs(mine - ref).max() < 1e-5


def test_tiny_classifier_variants(tiny_dirs, tiny_ref_logits):
    """The f16/bf16 variants hold the float32 model's weights, rounded."""
    f32 = tiny_ref_logits("float32")
    assert f32.std(axis=0).min() > 0.1, "logits barely depend on the input"
    for dtype, tol in (("float16", 0.1), ("bfloat16", 0.5)):
        d = tiny_dirs(dtype)
        header = (d / "model.safetensors").read_bytes()
        n = int.from_bytes(header[:8], "little")
        dtypes = {v["dtype"] for k, v in json.loads(header[8:8 + n]).items()
                  if k != "__metadata__"}
        assert dtypes == {"F16" if dtype == "float16" else "BF16"}
        diff = np.abs(tiny_ref_logits(dtype) - f32).max()
        assert 0 < diff < tol
    record("tiny classifier reference", logits_std_per_class=f32.std(axis=0).round(4),
           argmax_counts=np.bincount(f32.argmax(1), minlength=3))
