"""Encoder attention patterns against PyTorch's masked softmax.

A random-weight BERT (MiniLM's vocabulary, 2 layers, positions up to 4,224) runs in heed with a
sliding window, Longformer-style global tokens (the first k, or listed positions) and BigBird-style
block-sparse patterns (local, global, strided and seeded random blocks), both stored in the file
(`heed convert --attention SPEC`) and as a session override (`heed embed --attention SPEC`). The
reference is transformers' BertModel (eager attention) given the pattern as a 3-D boolean mask that
this file computes pair by pair from the rules in schemas/heed.fbs, i.e. dense attention with the
masked scores at -inf; the embedding is the mean over tokens of the last layer.

Lengths hit the patterns' edges (1, w-1, w, w+1, block multiples +-1) and go past 4k tokens.
Each check also shows it can fail: the masked reference is far from the dense one.
"""

import json
import random

import numpy as np
import pytest

from conftest import parse_floats, record

pytestmark = pytest.mark.heed

FP32_TOL = 1e-5          # max |heed - ref| / max |ref| of the mean-pooled embedding
MAX_POS = 4224
HIDDEN = 64


def mix(seed, qb, t):
    """attention_block_mix of kernels/attention/attention-mask.h (splitmix64 finalizer)."""
    m = (1 << 64) - 1
    z = ((((seed << 32) | (qb & 0xFFFFFFFF)) * 0x9E3779B97F4A7C15) + (t + 1) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    return z ^ (z >> 31)


def parse_spec(spec):
    out = {}
    for item in spec.split(","):
        k, _, v = item.partition("=")
        out[k] = v
    return out


def pattern_mask(spec, n):
    """Boolean [n, n]: key j visible from query i under SPEC (schemas/heed.fbs AttentionOptions)."""
    p = parse_spec(spec)
    i = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    if "block" in p:
        b = int(p["block"])
        local, gblocks = int(p.get("local", 1)), int(p.get("global-blocks", 0))
        stride, rnd, seed = int(p.get("stride", 0)), int(p.get("random", 0)), int(p.get("seed", 0))
        qb, kb = i // b, j // b
        dist = np.abs(qb - kb)
        vis = (dist <= local) | (qb < gblocks) | (kb < gblocks)
        if stride > 0:
            vis |= dist % stride == 0
        nb = (n + b - 1) // b
        for q in range(nb):
            for t in range(rnd):
                k = mix(seed, q, t) % nb
                vis[q * b:(q + 1) * b, k * b:(k + 1) * b] = True
    elif "window" in p:
        vis = np.abs(i - j) <= int(p["window"])
    else:
        vis = np.ones((n, n), dtype=bool)
    g = np.zeros(n, dtype=bool)
    g[:int(p.get("global", 0))] = True
    if "global-at" in p:
        pos = [int(x) for x in p["global-at"].split(":")]
        g[[x for x in pos if x < n]] = True
    vis = vis | g[:, None] | g[None, :]
    return vis


@pytest.fixture(scope="module")
def bert(work_dir, model_dir):
    """A random BERT with MiniLM's tokenizer, saved in fp32."""
    import shutil
    import torch
    from transformers import BertConfig, BertModel
    d = work_dir / "sparse-bert"
    if not (d / "model.safetensors").is_file():
        torch.manual_seed(8)
        cfg = BertConfig(vocab_size=30522, hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=128, max_position_embeddings=MAX_POS, attn_implementation="eager")
        m = BertModel(cfg, add_pooling_layer=False).eval()
        with torch.no_grad():  # sharper attention than the 0.02 init: the mask shows in every row
            for layer in m.encoder.layer:
                layer.attention.self.query.weight.mul_(12.0)
                layer.attention.self.key.weight.mul_(12.0)
        m.save_pretrained(d, safe_serialization=True)
        for f in ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
            if (model_dir / f).is_file():
                shutil.copy(model_dir / f, d / f)
    return d


@pytest.fixture(scope="module")
def words(model_dir):
    """Vocabulary entries that are whole lowercase words: each is one token."""
    vocab = (model_dir / "vocab.txt").read_text(encoding="utf-8").split("\n")
    return [w for w in vocab[2000:] if w.isascii() and w.isalpha() and w.islower() and len(w) > 2]


def text_of(words, n, seed):
    """A text that tokenizes to exactly n tokens with [CLS] and [SEP] (n >= 2)."""
    rnd = random.Random(seed)
    return " ".join(rnd.choice(words) for _ in range(n - 2))


@pytest.fixture(scope="module")
def ref(bert):
    import torch
    from transformers import AutoTokenizer, BertModel
    tok = AutoTokenizer.from_pretrained(str(bert))
    model = BertModel.from_pretrained(str(bert), attn_implementation="eager").eval()
    cache = {}

    def embed(text, spec):
        key = (text, spec)
        if key not in cache:
            ids = tok(text, truncation=False, return_tensors="pt")["input_ids"]
            n = ids.shape[1]
            mask = torch.ones(1, n, n) if spec is None else torch.from_numpy(pattern_mask(spec, n)).float()[None]
            with torch.no_grad():
                h = model(input_ids=ids, attention_mask=mask).last_hidden_state[0].double()
            cache[key] = (h.mean(0).numpy(), n)
        return cache[key]
    return embed


@pytest.fixture(scope="module")
def files(heed, bert, work_dir):
    out = {}
    for prec in ("fp32", "int8"):
        f = work_dir / f"sparse-bert-{prec}.heed"
        heed.run("convert", bert, "-o", f, "--precision", prec, "-q")
        out[prec] = f
    f = work_dir / "sparse-bert-bigbird-fp32.heed"
    heed.run("convert", bert, "-o", f, "--precision", "fp32", "-q", "--attention", BIGBIRD)
    out["bigbird-file"] = f
    return out


def heed_embed(heed, model, texts, *extra):
    lines, _ = heed.per_line("embed", model, texts, *extra)
    return [parse_floats(l) for l in lines]


def rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


W = 32
BIGBIRD = "block=16,local=1,global-blocks=1,random=2,seed=7"
CASES = [
    # (spec, lengths)
    (f"window={W}", [2, 3, W - 1, W, W + 1, W + 2, 2 * W + 1, 2 * W + 2, 300, 4100]),
    ("window=16,global=2", [2, 3, 17, 18, 19, 33, 35, 300, 4100]),
    ("window=8,global-at=0:5:64:200", [2, 6, 9, 10, 65, 66, 201, 300]),
    (BIGBIRD, [2, 15, 16, 17, 31, 32, 33, 47, 48, 49, 300, 4095, 4096, 4097]),
    ("block=32,local=0,stride=4", [31, 32, 33, 127, 128, 129, 1000]),
    ("block=64,local=1,global-blocks=1,random=3,seed=11,global-at=100", [63, 64, 65, 640, 4100]),
]


@pytest.mark.parametrize("spec,lengths", CASES, ids=[c[0] for c in CASES])
def test_pattern_equals_masked_softmax(heed, files, words, ref, spec, lengths):
    texts = [text_of(words, n, seed=n) for n in lengths]
    got = heed_embed(heed, files["fp32"], texts, "--attention", spec)
    worst, sensitivity = 0.0, []
    for n, t, g in zip(lengths, texts, got):
        want, n_ref = ref(t, spec)
        assert n_ref == n, f"the test text has {n_ref} tokens, not {n}"
        err = rel(g, want)
        worst = max(worst, err)
        assert err <= FP32_TOL, f"{spec} n={n}: rel err {err:.2e}"
        if not pattern_mask(spec, n).all():
            # The check can fail: where the pattern hides keys, dense attention is farther from
            # the reference than heed is (by far at the longer lengths).
            dense, _ = ref(t, None)
            sensitivity.append(rel(dense, want))
            assert sensitivity[-1] > 10 * err, (n, sensitivity[-1], err)
    record("sparse encoder fp32", **{spec: {"worst_rel_err": worst, "lengths": lengths,
                                            "max_masked_vs_dense": max(sensitivity)}})
    assert sensitivity and max(sensitivity) > 100 * FP32_TOL


def test_pattern_in_the_file_equals_the_session_override(heed, files, words, ref):
    lengths = [17, 48, 49, 1000]
    texts = [text_of(words, n, seed=n + 1) for n in lengths]
    from_file = heed_embed(heed, files["bigbird-file"], texts)
    override = heed_embed(heed, files["fp32"], texts, "--attention", BIGBIRD)
    for n, t, a, b in zip(lengths, texts, from_file, override):
        assert np.array_equal(a, b), n
        assert rel(a, ref(t, BIGBIRD)[0]) <= FP32_TOL
    # The file says which pattern it holds.
    p = heed.run("inspect", files["bigbird-file"], "--json")
    j = json.loads(p.stdout)
    assert j["attention"] == [{"layers": [0, 1], "pattern": "BLOCK_SPARSE block=16,local=1,global-blocks=1,stride=0,random=2,seed=7"}]
    # `--window dense` on the block-sparse file gives dense attention back.
    dense = heed_embed(heed, files["bigbird-file"], texts[-1:], "--window", "dense")[0]
    assert rel(dense, ref(texts[-1], None)[0]) <= FP32_TOL


def test_int8_patterns_within_the_dense_int8_tolerance(heed, files, words, ref):
    lengths = [33, 300, 2000]
    texts = [text_of(words, n, seed=n + 2) for n in lengths]

    def cos(a, b):
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

    dense_int8 = heed_embed(heed, files["int8"], texts)
    dense_cos = min(cos(g, ref(t, None)[0]) for t, g in zip(texts, dense_int8))
    result = {"dense": dense_cos}
    for spec in (f"window={W}", "window=16,global=2", BIGBIRD):
        got = heed_embed(heed, files["int8"], texts, "--attention", spec)
        c = min(cos(g, ref(t, spec)[0]) for t, g in zip(texts, got))
        result[spec] = c
        # int8 error comes from the GEMMs, not the pattern: as close as dense int8 is to dense fp32.
        assert c >= dense_cos - 2e-4, (spec, c, dense_cos)
    record("sparse encoder int8 cosine to the fp32 masked reference", **result)


@pytest.mark.parametrize("args,message", [
    (["--attention", "window=0"], "window needs a value"),
    (["--attention", "block=16,local=-1"], "local needs a value"),
    (["--attention", "sinks=4"], "sinks"),
    (["--attention", "block=16,window=3"], "conflicts"),
    (["--attention", "global-at=5:3"], "ascend"),
    (["--attention", "frobnicate=1"], "unknown key"),
    (["--global", "3"], "global tokens need"),  # the file is dense: no window to add them to
    (["--attention", "random=2"], "go with block"),
])
def test_bad_specs_are_refused(heed, files, args, message):
    p = heed.run("embed", files["fp32"], "some text", *args, check=False)
    assert p.returncode != 0
    assert message in p.stderr.decode(), p.stderr.decode()


@pytest.mark.parametrize("spec,n", [(BIGBIRD, 200), ("window=16,global=2,global-at=50:51", 130),
                                    ("block=32,local=0,stride=4", 500)])
def test_attention_map_draws_the_pattern(heed, files, work_dir, spec, n):
    from test_attention_map import attention_map, check_against
    out = work_dir / f"map-sparse-{n}.svg"
    root, cells, title, texts, _ = attention_map(heed, files["fp32"], out, "--seq", n, "--attention", spec)
    check_against(root, cells, texts, pattern_mask(spec, n))
    assert "(session override)" in title
    # The file's own pattern when no flag is given.
    root, cells, title, texts, _ = attention_map(heed, files["bigbird-file"], out, "--seq", n)
    check_against(root, cells, texts, pattern_mask(BIGBIRD, n))
    assert "BLOCK_SPARSE (block 16: local 1, global blocks 1, stride 0, random 2 (seed 7))" in title
