"""Sliding-window decoders: a random-initialized MistralForCausalLM whose sliding_window is
shorter than the test sequences, converted with `heed convert` (ATTENTION pattern CAUSAL_WINDOW,
a ring of window + 64 or more key/value positions) against transformers' own MistralForCausalLM.

Gates: fp32 logits within FP32_REL at every position; int8 at cosine >= INT8_COS; token-by-token
decoding gives one run's bytes (also past the ring's size, where slots are reused); the fp32
greedy continuation equals transformers' generate(); and the window is shown to matter: the same
weights without the window give logits far outside the gate past the window.
"""

import json

import numpy as np
import pytest
import torch

from conftest import record
from test_decoder import FP32_REL, INT8_COS, LLAMA_BASE, cos_rows, heed_logits, rel_err_rows

pytestmark = pytest.mark.heed

# Lengths around the window (w - 1, w, w + 1), block edges and past the ring (w + 64 -> 96 slots
# for w = 20, so 150 and 300 run in chunks and reuse slots).
WINDOWS = {"mistral-w20": 20, "mistral-w37-mqa": 37}
LENGTHS = (1, 19, 20, 21, 33, 64, 150, 300)


def build_mistral(window, **overrides):
    import transformers
    torch.manual_seed(5)
    base = {k: v for k, v in LLAMA_BASE.items() if k != "tie_word_embeddings"}
    cfg = transformers.MistralConfig(**{**base, "max_position_embeddings": 512, "sliding_window": window,
                                        **overrides})
    model = transformers.MistralForCausalLM(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.add_(torch.randn_like(p) * 0.2)
    return model.eval()


def reference(model_dir, ids):
    import transformers
    model = transformers.MistralForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32).eval()
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids])).logits[0].double().numpy()


def sequences():
    rng = np.random.default_rng(13)
    return {n: [int(x) for x in rng.integers(0, 256, size=n)] for n in LENGTHS}


@pytest.fixture(scope="module")
def models(heed, work_dir):
    out = {}
    for name, w in WINDOWS.items():
        d = work_dir / f"win-{name}"
        if not d.exists():
            extra = dict(num_key_value_heads=1) if "mqa" in name else {}
            build_mistral(w, **extra).save_pretrained(d, safe_serialization=True)
        files = {}
        for prec in ("fp32", "int8"):
            f = work_dir / f"win-{name}-{prec}.heed"
            if not f.exists():
                heed.run("convert", d, "-o", f, "--precision", prec)
            files[prec] = f
        out[name] = (d, files)
    return out


@pytest.mark.parametrize("name", list(WINDOWS))
def test_window_logits_match_transformers(heed, models, name):
    d, files = models[name]
    info = json.loads(heed.run("inspect", files["fp32"], "--json").stdout)
    assert info["architecture"] == "MistralForCausalLM"
    worst_rel, worst_cos = 0.0, 1.0
    for n, ids in sequences().items():
        ref = reference(d, ids)
        got, _ = heed_logits(heed, files["fp32"], ids)
        worst_rel = max(worst_rel, rel_err_rows(got, ref).max())
        got8, _ = heed_logits(heed, files["int8"], ids)
        worst_cos = min(worst_cos, cos_rows(got8, ref).min())
    record(f"window decoder {name}", window=WINDOWS[name], fp32_max_rel=worst_rel, int8_min_cos=worst_cos)
    assert worst_rel <= FP32_REL
    assert worst_cos >= INT8_COS


def test_window_matters(heed, models, work_dir):
    # The same weights with the window removed: transformers' dense logits differ from heed's
    # windowed ones beyond the gate once positions pass the window.
    _, files = models["mistral-w20"]
    dense = dense_copy(models, work_dir)
    ids = sequences()[64]
    got, _ = heed_logits(heed, files["fp32"], ids)
    err = rel_err_rows(got, reference(dense, ids))
    assert err[:21].max() <= FP32_REL  # within the window the two agree
    assert err[21:].max() > 100 * FP32_REL


@pytest.mark.parametrize("prec", ["fp32", "int8"])
def test_window_incremental_gives_the_same_bytes(heed, models, prec):
    _, files = models["mistral-w20"]
    ids = sequences()[150]  # past the 96-slot ring: every slot is reused
    for kv in ("f32", "int8"):
        full = heed.run("logits", files[prec], "--ids", ",".join(map(str, ids)), "--kv", kv)
        inc = heed.run("logits", files[prec], "--ids", ",".join(map(str, ids)), "--incremental", "--kv", kv)
        assert full.stdout == inc.stdout, (prec, kv)


def test_window_greedy_equals_transformers(heed, models):
    import transformers
    d, files = models["mistral-w37-mqa"]
    ids = sequences()[64]
    model = transformers.MistralForCausalLM.from_pretrained(d, torch_dtype=torch.float32).eval()
    with torch.no_grad():
        # An explicit mask: generate() would otherwise mask the prompt's ids equal to pad_token_id.
        out = model.generate(torch.tensor([ids]), do_sample=False, max_new_tokens=32, min_new_tokens=32,
                             eos_token_id=None, pad_token_id=0, attention_mask=torch.ones(1, len(ids), dtype=torch.long))
    want = [int(x) for x in out[0][len(ids):]]
    j = json.loads(heed.run("generate", files["fp32"], "--ids", ",".join(map(str, ids)), "-n", "32", "--temp", "0",
                            "--ignore-eos", "--json").stdout)
    record("window decoder greedy", equal=j["ids"] == want)
    assert j["ids"] == want


def dense_copy(models, work_dir):
    import transformers
    d, _ = models["mistral-w20"]
    dense = work_dir / "win-mistral-w20-dense"
    if not dense.exists():
        m = transformers.MistralForCausalLM.from_pretrained(d, torch_dtype=torch.float32)
        m.config.sliding_window = None
        m.save_pretrained(dense, safe_serialization=True)
    return dense


def test_window_arena_is_bounded(heed, models, work_dir):
    # The ring keeps min(context, window + 64 rounded to 16) positions: from 128 to 512 tokens the
    # windowed model's arena grows by the activations only, the dense one's also by its caches
    # (2 layers x keys and values x 2 kv heads x 16 x (512 - 128) positions x 4 bytes, fp32).
    _, files = models["mistral-w20"]
    dense = work_dir / "win-mistral-w20-dense-fp32.heed"
    if not dense.exists():
        heed.run("convert", dense_copy(models, work_dir), "-o", dense, "--precision", "fp32")
    a_win = json.loads(heed.run("inspect", files["fp32"], "--json").stdout)["arena_bytes"]
    a_dense = json.loads(heed.run("inspect", dense, "--json").stdout)["arena_bytes"]
    grow_win = a_win["512"] - a_win["128"]
    grow_dense = a_dense["512"] - a_dense["128"]
    cache_growth = 2 * 2 * 2 * 16 * (512 - 128) * 4
    record("window decoder arena", windowed_128=a_win["128"], windowed_512=a_win["512"], dense_128=a_dense["128"],
           dense_512=a_dense["512"])
    assert grow_dense - grow_win >= 0.9 * cache_growth


def test_session_window_override(heed, models, work_dir):
    # `--window N` (heed_session_options.attention_window) turns every causal layer of a file into
    # a sliding window: the Mistral weights saved as a dense Llama and run with --window 20 give
    # transformers' Mistral logits with sliding_window 20; `--window dense` on the Mistral file
    # gives the dense model's.
    d, files = models["mistral-w20"]
    llama = work_dir / "win-as-llama"
    if not llama.exists():
        import shutil
        shutil.copytree(d, llama)
        cfg = json.loads((llama / "config.json").read_text())
        cfg.update(model_type="llama", architectures=["LlamaForCausalLM"])
        for k in ("sliding_window",):
            cfg.pop(k, None)
        (llama / "config.json").write_text(json.dumps(cfg))
    f = work_dir / "win-as-llama-fp32.heed"
    if not f.exists():
        heed.run("convert", llama, "-o", f, "--precision", "fp32")
    ids = sequences()[150]
    want = reference(d, ids)
    got, _ = heed_logits(heed, f, ids, "--window", "20")
    assert rel_err_rows(got, want).max() <= FP32_REL
    plain, _ = heed_logits(heed, f, ids)
    assert rel_err_rows(plain, want)[21:].max() > 100 * FP32_REL  # without the flag: dense
    dense_ref = reference(dense_copy(models, work_dir), ids)
    got_dense, _ = heed_logits(heed, files["fp32"], ids, "--window", "dense")
    assert rel_err_rows(got_dense, dense_ref).max() <= FP32_REL
    for bad in ("0", "-3", "65537", "wide"):
        p = heed.run("logits", f, "--ids", "1,2,3", "--window", bad, check=False)
        assert p.returncode == 2 and b"--window" in p.stderr, bad
