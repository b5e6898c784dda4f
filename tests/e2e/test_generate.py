"""`heed generate` on random-initialized tiny causal LMs (LlamaForCausalLM with grouped-query
and with multi-query attention, and a GPT2LMHeadModel, built and converted as in test_decoder.py).

Gates: the fp32 greedy continuation of 32 tokens equals transformers' generate(do_sample=False)
id for id; a seeded sampling run gives the same ids for the same seed and other ids for another
seed; bad flags exit with status 2 and a message naming the flag.

These files carry no tokenizer; their eos ids come from config.json (Llama's default 2; GPT-2's
default 50256 is outside the tiny vocabulary of 256, so the converter records none, and
transformers never draws it either). The greedy comparison runs with --ignore-eos against a
reference told eos_token_id=None. heed decodes through its key/value cache, as transformers'
generate does through its own.

The trained decoder (tests/data/wordnet-llama, with its tokenizer and generation_config.json)
is compared with transformers' generate() as it loads it, eos included: both stop at </s>.
"""

import json
import shutil

import numpy as np
import pytest
import torch

from conftest import REPO, record
from test_decoder import build_model

pytestmark = pytest.mark.heed

NEW = 32
MODELS = {
    "llama-gqa": ("llama", {}),
    "llama-mqa": ("llama", dict(num_key_value_heads=1)),
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


# ---------------------------------------------------------------------- the trained decoder

TRAINED = REPO / "tests" / "data" / "wordnet-llama"
# Prompts whose greedy fp32 continuation (transformers' and heed's) ends with </s> within 64
# tokens, and one that does not.
EOS_PROMPTS = ["a person who", "a small", "an animal", "music", "dog: a domesticated"]
NO_EOS_PROMPT = "the act of"


@pytest.fixture(scope="module")
def trained(heed, work_dir):
    out = {}
    for precision in ("fp32", "int8"):
        f = work_dir / f"gen-wordnet-llama-{precision}.heed"
        if not f.exists():
            heed.run("convert", TRAINED, "-o", f, "--precision", precision)
        out[precision] = f
    return out


@pytest.fixture(scope="module")
def trained_ref():
    import transformers
    tok = transformers.AutoTokenizer.from_pretrained(TRAINED)
    model = transformers.LlamaForCausalLM.from_pretrained(TRAINED, torch_dtype=torch.float32).eval()
    return tok, model


def reference_generate(trained_ref, prompt, n=64):
    """transformers' greedy generate() with the generation config it loads (eos 2): new ids."""
    tok, model = trained_ref
    ids = tok(prompt)["input_ids"]
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), do_sample=False, max_new_tokens=n, pad_token_id=0,
                             attention_mask=torch.ones(1, len(ids), dtype=torch.long))
    return ids, [int(x) for x in out[0, len(ids):]]


def test_trained_decoder_records_its_generation_ids(heed, trained):
    j = json.loads(heed.run("inspect", trained["int8"], "--json").stdout)
    assert j["schema_version"] == 1004
    assert (j["bos_id"], j["eos_ids"], j["generation_ids_from"]) == (1, [2], "generation_config")
    assert "generation_config.json" in [f["name"] for f in j["source_files"]]
    text = heed.run("inspect", trained["int8"]).stdout.decode()
    assert "generation     bos 1, eos 2 (the checkpoint's generation config)" in text


def test_trained_decoder_stops_at_eos_like_transformers(heed, trained, trained_ref):
    stopped = 0
    for prompt in EOS_PROMPTS + [NO_EOS_PROMPT]:
        ids, ref = reference_generate(trained_ref, prompt)
        j, _ = heed_generate_text(heed, trained["fp32"], prompt, "-n", 64)
        assert j["prompt_ids"] == ids
        if ref[-1] == 2:  # transformers outputs the eos id; heed stops before it
            stopped += 1
            assert j["stop"] == "eos", prompt
            assert j["ids"] == ref[:-1], f"{prompt!r}\nheed {j['ids']}\nref  {ref}"
            assert "</s>" not in j["text"]
        else:
            assert prompt == NO_EOS_PROMPT
            assert j["stop"] == "max_tokens" and j["ids"] == ref
    assert stopped == len(EOS_PROMPTS)
    # --ignore-eos: </s> is an ordinary token, and generation goes on past it.
    j, _ = heed_generate_text(heed, trained["fp32"], EOS_PROMPTS[0], "-n", 64, "--ignore-eos")
    assert j["stop"] == "max_tokens" and 2 in j["ids"] and "</s>" in j["text"]
    # int8: the same stop (the greedy ids may differ from fp32 in general; for this prompt they do not).
    j8, _ = heed_generate_text(heed, trained["int8"], EOS_PROMPTS[0], "-n", 64)
    _, ref = reference_generate(trained_ref, EOS_PROMPTS[0])
    assert j8["stop"] == "eos" and j8["ids"] == ref[:-1]
    record("generate trained decoder", eos_prompts=stopped, eos_ids_equal=True)


def heed_generate_text(heed, model, prompt, *extra, check=True):
    p = heed.run("generate", model, prompt, "--json", *extra, check=check)
    return json.loads(p.stdout), p


def test_generation_config_eos_list_wins_and_out_of_range_ids_are_dropped(heed, work_dir, trained_ref):
    # A copy of the trained decoder whose generation_config.json lists eos ids: one of them
    # outside the vocabulary (noted by the converter, not written), the others both stop.
    d = work_dir / "wordnet-llama-eos-list"
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(TRAINED, d)
    _, ref = reference_generate(trained_ref, EOS_PROMPTS[0])
    word = ref[3]
    (d / "generation_config.json").write_text(json.dumps({"bos_token_id": 1, "eos_token_id": [99999, word, 2]}))
    f = work_dir / "wordnet-llama-eos-list.heed"
    p = heed.run("convert", d, "-o", f, "--precision", "fp32")
    assert "eos_token_id 99999 is outside the vocabulary [0, 4096): not recorded" in p.stderr.decode() + p.stdout.decode()
    j = json.loads(heed.run("inspect", f, "--json").stdout)
    assert j["eos_ids"] == [word, 2]
    g, _ = heed_generate_text(heed, f, EOS_PROMPTS[0], "-n", 64)
    assert g["stop"] == "eos" and g["ids"] == ref[:ref.index(word)]
    # transformers with the same list stops at the same place.
    tok, model = trained_ref
    ids = tok(EOS_PROMPTS[0])["input_ids"]
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), do_sample=False, max_new_tokens=64, pad_token_id=0,
                             eos_token_id=[99999, word, 2])
    assert [int(x) for x in out[0, len(ids):]] == ref[:ref.index(word) + 1]
    # No eos at all (null): generation runs to -n.
    (d / "generation_config.json").write_text(json.dumps({"eos_token_id": None}))
    heed.run("convert", d, "-o", f, "--precision", "fp32")
    assert json.loads(heed.run("inspect", f, "--json").stdout)["eos_ids"] == []
    g, _ = heed_generate_text(heed, f, EOS_PROMPTS[0], "-n", 30)
    assert g["stop"] == "max_tokens" and g["generated_tokens"] == 30


# Stop strings: heed's text equals transformers' greedy text (its generate() with the loaded
# generation config; 4.40.2 has no stop strings of its own) up to the first stop string, and
# heed's ids are transformers' up to the one whose text completes it.
STOP_CASES = [
    ("a person who", ["thing or"]),        # spans tokens
    ("a person who", ["erson"]),           # inside a token, first met in the 2nd "person"
    ("an animal", [";", "kind"]),          # two strings: the earlier one wins
    ("music", ["States", "United"]),
    ("a small", ["person who is not", "zzz"]),
    ("a small", ["pocket"]),               # the first generated token
    ("an animal", ["good timex"]),         # a prefix that never completes: eos as without it
    ("dog: a domesticated", ["\u00e9t\u00e9"]),  # multibyte, never generated
]


def reference_stop(trained_ref, prompt, stops, n=64, ref=None):
    """(ids, text, stop) of `ref` (default: transformers' greedy ids) cut at the first stop string."""
    tok, _ = trained_ref
    if ref is None:
        _, ref = reference_generate(trained_ref, prompt, n)
    body = ref[:-1] if ref and ref[-1] == 2 else ref
    for k in range(1, len(body) + 1):
        text = tok.decode(body[:k])
        hits = [text.find(s) for s in stops if s in text]
        if hits:
            return body[:k], text[:min(hits)], "stop_string"
    return body, tok.decode(body), "eos" if len(body) < len(ref) else "max_tokens"


@pytest.mark.parametrize("prompt, stops", STOP_CASES)
@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_stop_strings_match_transformers_text(heed, trained, trained_ref, prompt, stops, precision):
    ref = None
    if precision == "int8":
        # int8's greedy ids may part from fp32's: the reference is then heed int8's ids without
        # stop strings, cut where transformers' tokenizer decodes them to a stop string.
        plain, _ = heed_generate_text(heed, trained["int8"], prompt, "-n", 64)
        ref = plain["ids"] + ([2] if plain["stop"] == "eos" else [])
    ids, text, stop = reference_stop(trained_ref, prompt, stops, ref=ref)
    flags = [a for s in stops for a in ("--stop", s)]
    j, _ = heed_generate_text(heed, trained[precision], prompt, "-n", 64, *flags)
    assert j["stop"] == stop
    assert j["text"] == text, f"heed {j['text']!r}\nref  {text!r}"
    assert j["ids"] == ids
    for s in stops:
        assert s not in j["text"]


def test_stop_strings_stream_no_stop_text(heed, trained):
    # The text mode streams pieces as they become final: stdout is the text before the stop
    # string and a newline, and the stop reason is on stderr.
    p = heed.run("generate", trained["fp32"], "a person who", "-n", 64, "--stop", "thing or")
    assert p.stdout.decode() == "is not a person who is not a person or \n"
    assert "(stop: stop_string)" in p.stderr.decode()


@pytest.mark.parametrize("flags, message", [
    (("--stop", ""), "--stop[0] is empty"),
    (("--stop", "x" * 257), "--stop[0] is longer than 256 bytes"),
    (tuple(a for i in range(17) for a in ("--stop", f"s{i}")), "17 stop strings, at most 16"),
])
def test_bad_stop_strings_exit_2(heed, trained, flags, message):
    p = heed.run("generate", trained["int8"], "a person who", *flags, check=False)
    assert p.returncode == 2, p.stderr
    assert message in p.stderr.decode(), p.stderr


def test_stop_strings_need_a_tokenizer(heed, gen_models):
    _, _, f = gen_models["gpt2"]
    p = heed.run("generate", f, "--ids", "1,2,3", "--stop", "x", check=False)
    assert p.returncode == 1
    assert "stop strings need a model with a BPE tokenizer" in p.stderr.decode()
