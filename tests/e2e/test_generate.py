"""`heed generate` on random-initialized tiny causal LMs (a GQA LlamaForCausalLM and a
GPT2LMHeadModel, built and converted as in test_decoder.py).

Gates: the fp32 greedy continuation of 32 tokens equals transformers' generate(do_sample=False)
id for id; a seeded sampling run gives the same ids for the same seed and other ids for another
seed; bad flags exit with status 2 and a message naming the flag.

These files carry no tokenizer, so heed knows no eos id; the reference is told the same
(eos_token_id=None), else min_new_tokens would mask Llama's default eos id 2 in transformers
only. heed decodes through its key/value cache, as transformers' generate does through its own.
"""

import json

import numpy as np
import pytest
import torch

from conftest import record
from test_decoder import build_model

pytestmark = pytest.mark.heed

NEW = 32
MODELS = {
    "llama-gqa": ("llama", {}),
    "gpt2": ("gpt2", {}),
}


@pytest.fixture(scope="module")
def gen_models(heed, work_dir):
    out = {}
    for name, (family, overrides) in MODELS.items():
        d = work_dir / f"gen-{name}"
        if not d.exists():
            build_model(family, overrides, seed=3).save_pretrained(d, safe_serialization=True)
        f = work_dir / f"gen-{name}-fp32.heed"
        if not f.exists():
            heed.run("convert", d, "-o", f, "--precision", "fp32")
        out[name] = (family, d, f)
    return out


def prompt_ids(n=9, seed=11):
    rng = np.random.default_rng(seed)
    return [int(x) for x in rng.integers(0, 256, size=n)]


def heed_generate(heed, model, ids, *extra, check=True):
    p = heed.run("generate", model, "--ids", ",".join(map(str, ids)), "--json", *extra, check=check)
    return json.loads(p.stdout), p


def reference_greedy(family, d, ids):
    import transformers
    cls = transformers.LlamaForCausalLM if family == "llama" else transformers.GPT2LMHeadModel
    model = cls.from_pretrained(d, torch_dtype=torch.float32).eval()
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), do_sample=False, max_new_tokens=NEW, min_new_tokens=NEW,
                             eos_token_id=None, pad_token_id=0, attention_mask=torch.ones(1, len(ids),
                                                                                          dtype=torch.long))
    return [int(x) for x in out[0, len(ids):]]


@pytest.mark.parametrize("name", list(MODELS))
def test_greedy_matches_transformers(heed, gen_models, name):
    family, d, f = gen_models[name]
    ids = prompt_ids()
    j, _ = heed_generate(heed, f, ids, "-n", NEW, "--temp", "0", "--ignore-eos")
    ref = reference_greedy(family, d, ids)
    assert len(ref) == NEW
    assert j["prompt_ids"] == ids
    assert j["prompt_tokens"] == len(ids)
    assert j["generated_tokens"] == NEW
    assert j["stop"] == "max_tokens"
    assert j["prompt_ms"] >= 0 and j["generate_ms"] >= 0
    assert j["ids"] == ref, f"heed {j['ids']}\nref  {ref}"
    # Not a constant continuation (random tiny models repeat a few ids), so the ids mean something.
    assert len(set(ref)) >= 2
    record("generate", **{f"{name}_greedy_equal": True, f"{name}_generate_ms": j["generate_ms"]})


def test_seeded_sampling_is_reproducible(heed, gen_models):
    _, _, f = gen_models["llama-gqa"]
    ids = prompt_ids()
    flags = ("-n", NEW, "--temp", "1.0", "--top-k", "0", "--top-p", "0.95", "--repeat-penalty", "1.1")
    a, _ = heed_generate(heed, f, ids, *flags, "--seed", "1")
    b, _ = heed_generate(heed, f, ids, *flags, "--seed", "1")
    c, _ = heed_generate(heed, f, ids, *flags, "--seed", "2")
    assert a["generated_tokens"] == NEW
    assert a["ids"] == b["ids"]
    assert a["ids"] != c["ids"]


def test_context_full_and_stop_id(heed, gen_models):
    _, _, f = gen_models["gpt2"]
    ids = prompt_ids()
    j, _ = heed_generate(heed, f, ids, "-n", 100, "--ctx", 16, "--temp", "0")
    assert j["stop"] == "context_full"
    assert j["generated_tokens"] == 16 - len(ids) == len(j["ids"])
    greedy, _ = heed_generate(heed, f, ids, "-n", 8, "--temp", "0")
    stop = greedy["ids"][3]
    first = greedy["ids"].index(stop)
    j, _ = heed_generate(heed, f, ids, "-n", 8, "--temp", "0", "--stop-id", 99, "--stop-id", stop)
    assert j["stop"] == "stop_id"
    assert j["ids"] == greedy["ids"][:first]


@pytest.mark.parametrize("flags, message", [
    (("--temp", "-1"), "temperature"),
    (("--temp", "abc"), "--temp"),
    (("--top-p", "0"), "top_p"),
    (("--top-p", "1.5"), "top_p"),
    (("--top-k", "-3"), "--top-k"),
    (("--repeat-penalty", "0"), "repetition_penalty"),
    (("-n", "x"), "-n"),
    (("--seed", "1e3"), "--seed"),
    (("--stop-id", "-1"), "--stop-id"),
    (("--stop-id", "100000"), "--stop-id"),
    (("--threads", "0"), "--threads"),
    (("--bogus",), "--bogus"),
    (("--ids", "1,,2"), "--ids"),
])
def test_bad_flags_exit_2(heed, gen_models, flags, message):
    _, _, f = gen_models["gpt2"]
    args = ["generate", f, *flags]
    if "--ids" not in flags:
        args += ["--ids", "1,2,3"]
    p = heed.run(*args, check=False)
    assert p.returncode == 2, p.stderr
    assert message in p.stderr.decode(), p.stderr


def test_prompt_and_ids_together_is_a_usage_error(heed, gen_models):
    _, _, f = gen_models["gpt2"]
    p = heed.run("generate", f, "some text", "--ids", "1,2", check=False)
    assert p.returncode == 2
    assert "--ids" in p.stderr.decode()
