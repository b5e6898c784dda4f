"""Causal LMs: heed's logits at every position against transformers' LlamaForCausalLM and
GPT2LMHeadModel on random-initialized tiny models (built from a config here, saved with
save_pretrained(safe_serialization=True), converted with `heed convert`, run with `heed logits`).

Gates: fp32 files within FP32_REL of the reference at every position (max |diff| / max |ref| of
that position's logits); int8 files (the converter's default) at cosine >= INT8_COS at every
position. Each gate is also shown to fail against a deliberately different reference.
"""

import copy
import json

import numpy as np
import pytest
import torch

from conftest import REPO, record

FP32_REL = 1e-4
INT8_COS = 0.99
LENGTHS = (1, 7, 64, 200)
VOCAB = 256

pytestmark = pytest.mark.heed

LLAMA_BASE = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                  rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
                  initializer_range=0.1)

# name -> (family, config overrides)
MODELS = {
    "llama-gqa-untied": ("llama", {}),
    "llama-mqa-tied": ("llama", dict(num_key_value_heads=1, tie_word_embeddings=True, rope_theta=500000.0)),
    "llama-mha-linear-bias": ("llama", dict(num_key_value_heads=4, attention_bias=True,
                                            rope_scaling={"type": "linear", "factor": 2.0})),
    # max_position_embeddings 64: lengths 64 and 200 run past it, where dynamic NTK changes theta.
    "llama-gqa-dynamic": ("llama", dict(max_position_embeddings=64,
                                        rope_scaling={"type": "dynamic", "factor": 2.0})),
    # Head size 64 as in real checkpoints, 3 layers, MQA-to-GQA ratio 4.
    "llama-d64": ("llama", dict(hidden_size=256, intermediate_size=512, num_hidden_layers=3,
                                num_attention_heads=4, num_key_value_heads=1)),
    "gpt2": ("gpt2", {}),
    "gpt2-layer-scaled": ("gpt2", dict(scale_attn_by_inverse_layer_idx=True, n_inner=96)),
}


def build_model(family, overrides, seed=0):
    import transformers
    torch.manual_seed(seed)
    if family == "llama":
        cfg = transformers.LlamaConfig(**{**LLAMA_BASE, **overrides})
        model = transformers.LlamaForCausalLM(cfg)
    else:
        cfg = transformers.GPT2Config(vocab_size=VOCAB, n_embd=64, n_layer=2, n_head=4, n_positions=256,
                                      initializer_range=0.1, **overrides)
        model = transformers.GPT2LMHeadModel(cfg)
    # Norm weights and biases away from 1 and 0, so that a swapped or missing one shows.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or ".ln_" in name or name.endswith("ln_f.weight") or name.endswith("ln_f.bias"):
                p.add_(torch.randn_like(p) * 0.2)
            elif name.endswith(".bias"):
                p.copy_(torch.randn_like(p) * 0.1)
    return model.eval()


def reference_logits(model_dir, family, ids):
    """Logits [S, V] of the saved model, loaded afresh (dynamic NTK changes its state per call)."""
    import transformers
    cls = transformers.LlamaForCausalLM if family == "llama" else transformers.GPT2LMHeadModel
    model = cls.from_pretrained(model_dir, torch_dtype=torch.float32).eval()
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids])).logits[0].double().numpy()


def id_sequences():
    rng = np.random.default_rng(7)
    return {n: [int(x) for x in rng.integers(0, VOCAB, size=n)] for n in LENGTHS}


@pytest.fixture(scope="module")
def checkpoints(work_dir):
    out = {}
    for name, (family, overrides) in MODELS.items():
        d = work_dir / f"dec-{name}"
        if not d.exists():
            build_model(family, overrides).save_pretrained(d, safe_serialization=True)
        out[name] = (family, d)
    return out


@pytest.fixture(scope="module")
def converted(heed, checkpoints, work_dir):
    files = {}
    for name, (family, d) in checkpoints.items():
        for prec in ("fp32", "int8"):
            f = work_dir / f"dec-{name}-{prec}.heed"
            if not f.exists():
                heed.run("convert", d, "-o", f, "--precision", prec)
            files[(name, prec)] = f
    return files


@pytest.fixture(scope="module")
def references(checkpoints):
    seqs = id_sequences()
    return {name: {n: reference_logits(d, family, ids) for n, ids in seqs.items()}
            for name, (family, d) in checkpoints.items()}


def heed_logits(heed, model, ids, *extra):
    p = heed.run("logits", model, "--ids", ",".join(map(str, ids)), "--json", *extra)
    j = json.loads(p.stdout)
    a = np.array(j["logits"], dtype=np.float64)
    assert a.shape == (j["rows"], j["vocab"])
    return a, j


def rel_err_rows(got, ref):
    return np.abs(got - ref).max(1) / np.abs(ref).max(1)


def cos_rows(got, ref):
    return (got * ref).sum(1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(ref, axis=1))


@pytest.mark.parametrize("name", list(MODELS))
def test_fp32_logits_match_transformers(heed, converted, references, name):
    seqs = id_sequences()
    worst = 0.0
    for n, ids in seqs.items():
        got, j = heed_logits(heed, converted[(name, "fp32")], ids)
        assert got.shape == (n, VOCAB)
        err = rel_err_rows(got, references[name][n])
        worst = max(worst, float(err.max()))
        assert err.max() <= FP32_REL, f"{name} length {n}: position {int(err.argmax())} rel. error {err.max():.3g}"
    record(f"decoder fp32 {name}", max_rel_err=worst)


@pytest.mark.parametrize("name", list(MODELS))
def test_int8_logits_cosine(heed, converted, references, name):
    seqs = id_sequences()
    worst = 1.0
    for n, ids in seqs.items():
        got, _ = heed_logits(heed, converted[(name, "int8")], ids)
        c = cos_rows(got, references[name][n])
        worst = min(worst, float(c.min()))
        assert c.min() >= INT8_COS, f"{name} length {n}: position {int(c.argmin())} cosine {c.min():.5f}"
    record(f"decoder int8 {name}", min_cosine=worst)


def test_threads_give_the_same_bytes(heed, converted):
    ids = id_sequences()[64]
    for prec in ("fp32", "int8"):
        one = heed.run("logits", converted[("llama-gqa-untied", prec)], "--ids", ",".join(map(str, ids)))
        two = heed.run("logits", converted[("llama-gqa-untied", prec)], "--ids", ",".join(map(str, ids)),
                       "--threads", "2")
        assert one.stdout == two.stdout


@pytest.mark.parametrize("name", list(MODELS))
def test_incremental_decode_gives_the_same_bytes(heed, converted, name):
    # Token by token through the key/value cache (heed_session_decode) against one run over all
    # ids: the same bytes, fp32 and int8 weights, float and int8 caches, past the 16-key block edges.
    ids = id_sequences()[64][:40]
    for prec in ("fp32", "int8"):
        for kv in ("f32", "int8"):
            full = heed.run("logits", converted[(name, prec)], "--ids", ",".join(map(str, ids)), "--kv", kv)
            inc = heed.run("logits", converted[(name, prec)], "--ids", ",".join(map(str, ids)), "--incremental",
                           "--kv", kv)
            assert full.stdout == inc.stdout, (name, prec, kv)


@pytest.mark.parametrize("name", list(MODELS))
def test_kv_cache_choice_is_measured(heed, converted, references, name):
    # The converter keeps the int8 key/value cache as the default only where it measured it to cost
    # <= 0.001 of the worst position's cosine; where it chose float, forcing int8 is indeed worse.
    info = json.loads(heed.run("inspect", converted[(name, "int8")], "--json").stdout)
    assert info["kv_cache"] in ("int8", "f32") and "int8 cache" in info["kv_cache_report"]
    ids = id_sequences()[64]
    ref = references[name][64]
    cos = {}
    for kv in ("f32", "int8"):
        got, _ = heed_logits(heed, converted[(name, "int8")], ids, "--kv", kv)
        cos[kv] = cos_rows(got, ref).min()
    record(f"decoder int8 {name} by kv cache", default=info["kv_cache"], min_cos_f32_kv=cos["f32"],
           min_cos_int8_kv=cos["int8"], report=info["kv_cache_report"])
    if info["kv_cache"] == "f32":
        assert cos["int8"] < cos["f32"]
    # fp32 weights keep a float cache by default.
    assert json.loads(heed.run("inspect", converted[(name, "fp32")], "--json").stdout)["kv_cache"] == "auto"


def test_last_row_flag(heed, converted):
    ids = id_sequences()[7]
    full, _ = heed_logits(heed, converted[("llama-gqa-untied", "fp32")], ids)
    last, j = heed_logits(heed, converted[("llama-gqa-untied", "fp32")], ids, "--last")
    assert j["rows"] == 1 and j["first_position"] == 6
    assert np.array_equal(last[0], full[-1])


@pytest.mark.parametrize("name", list(MODELS))
def test_last_logits_only_session_gives_the_last_rows_bytes(heed, converted, name):
    # `heed logits --last` runs on a last_logits_only session (the layers after the last
    # attention on the last row alone, one row of logits): its text is the last line of a
    # full session's, byte for byte, fp32 and int8, in one run and token by token.
    for prec in ("fp32", "int8"):
        for n, ids in id_sequences().items():
            arg = ",".join(map(str, ids))
            full = heed.run("logits", converted[(name, prec)], "--ids", arg).stdout.splitlines()
            assert len(full) == n
            last = heed.run("logits", converted[(name, prec)], "--ids", arg, "--last").stdout.splitlines()
            assert last == full[-1:], (name, prec, n)
            if n <= 64:
                inc = heed.run("logits", converted[(name, prec)], "--ids", arg, "--last",
                               "--incremental").stdout.splitlines()
                assert inc == full[-1:], (name, prec, n)


@pytest.mark.parametrize("name", list(MODELS))
def test_tied_heads_are_stored_once(heed, checkpoints, converted, name):
    # A tied LM head's matrix is one tensor (the EMBEDDING reads the head's packed GEMM
    # weights): the fp32 file's float bytes are the checkpoint's parameters (transformers
    # counts a tied matrix once) and the int8 file has one int8 tensor per GEMM, plus the
    # word table when untied.
    import transformers
    family, d = checkpoints[name]
    cls = transformers.LlamaForCausalLM if family == "llama" else transformers.GPT2LMHeadModel
    model = cls.from_pretrained(d, torch_dtype=torch.float32)
    tied = model.config.tie_word_embeddings
    j32 = json.loads(heed.run("inspect", converted[(name, "fp32")], "--json").stdout)
    assert j32["bytes_by_dtype"]["f32"]["bytes"] == 4 * model.num_parameters(), name
    j8 = json.loads(heed.run("inspect", converted[(name, "int8")], "--json").stdout)
    gemms = j8["ops"]["FULLY_CONNECTED"]
    assert j8["bytes_by_dtype"]["i8"]["tensors"] == gemms + (0 if tied else 1), name
    assert j8["packed_weights"] == gemms


def wrong_reference(checkpoints, work_dir, name, change):
    """The checkpoint of `name` with its config or weights changed by `change`, saved apart."""
    import transformers
    family, d = checkpoints[name]
    cls = transformers.LlamaForCausalLM if family == "llama" else transformers.GPT2LMHeadModel
    model = cls.from_pretrained(d, torch_dtype=torch.float32)
    model = change(model) or model
    out = work_dir / f"dec-{name}-wrong"
    model.save_pretrained(out, safe_serialization=True)
    return family, out


def swap_kv_heads(model):
    with torch.no_grad():
        for layer in model.model.layers:
            for proj in (layer.self_attn.k_proj, layer.self_attn.v_proj):
                w = proj.weight.view(2, -1, proj.weight.shape[1])
                proj.weight.copy_(torch.cat([w[1], w[0]]).view_as(proj.weight))


def other_theta(model):
    cfg = copy.deepcopy(model.config)
    cfg.rope_theta = 20000.0
    import transformers
    m2 = transformers.LlamaForCausalLM(cfg)
    m2.load_state_dict(model.state_dict())
    return m2


def test_gates_fail_on_a_wrong_model(heed, converted, checkpoints, work_dir):
    """The same comparisons against a reference with another rope_theta (fp32 gate) and with the
    two key/value heads swapped (fp32 and int8 gates) must fail."""
    ids = id_sequences()[64]
    family, d = wrong_reference(checkpoints, work_dir, "llama-gqa-untied", other_theta)
    ref = reference_logits(d, family, ids)
    got, _ = heed_logits(heed, converted[("llama-gqa-untied", "fp32")], ids)
    theta_err = float(rel_err_rows(got, ref).max())
    assert theta_err > FP32_REL
    family, d = wrong_reference(checkpoints, work_dir, "llama-gqa-untied", swap_kv_heads)
    ref = reference_logits(d, family, ids)
    swap_err = float(rel_err_rows(got, ref).max())
    assert swap_err > FP32_REL
    got8, _ = heed_logits(heed, converted[("llama-gqa-untied", "int8")], ids)
    swap_cos = float(cos_rows(got8, ref).min())
    assert swap_cos < INT8_COS
    record("decoder gates vs wrong models", theta_rel_err=theta_err, swapped_kv_rel_err=swap_err,
           swapped_kv_int8_min_cos=swap_cos)


@pytest.mark.parametrize("ids,code", [("", 2), ("1,,2", 2), ("-1", 2), ("1,2,x", 2), ("256", 1), ("0," * 300 + "0", 2)])
def test_bad_ids(heed, converted, ids, code):
    p = heed.run("logits", converted[("llama-gqa-untied", "fp32")], "--ids", ids, check=False)
    assert p.returncode == code, p.stderr
    assert p.stderr.startswith(b"heed logits: ")
    assert p.stdout == b""


def config_variant(checkpoints, work_dir, name, tag, edit):
    """A copy of checkpoint `name` whose config.json was changed by `edit(dict)`."""
    import shutil
    _, d = checkpoints[name]
    out = work_dir / f"dec-{name}-{tag}"
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(d, out)
    cfg = json.loads((out / "config.json").read_text())
    edit(cfg)
    (out / "config.json").write_text(json.dumps(cfg))
    return out


BAD_CONFIGS = [
    ("llama", "rope-llama3", lambda c: c.update(rope_scaling={"rope_type": "llama3", "factor": 8.0,
                                                              "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                                              "original_max_position_embeddings": 8192}),
     "rope_scaling type 'llama3' is not supported (linear and dynamic"),
    ("llama", "rope-yarn", lambda c: c.update(rope_scaling={"type": "yarn", "factor": 4.0}),
     "rope_scaling type 'yarn' is not supported"),
    ("llama", "rope-factor", lambda c: c.update(rope_scaling={"type": "linear", "factor": 0.5}),
     "rope_scaling factor 0.5 is outside (1, 1e6]"),
    ("llama", "rope-extra", lambda c: c.update(rope_scaling={"type": "linear", "factor": 2.0, "x": 1}),
     "field 'rope_scaling' must hold exactly 'type' and 'factor'"),
    ("llama", "kv3", lambda c: c.update(num_key_value_heads=3),
     "field 'num_key_value_heads' must divide num_attention_heads"),
    ("llama", "kv8", lambda c: c.update(num_key_value_heads=8),
     "field 'num_key_value_heads' is 8, outside 1..4"),
    ("llama", "act", lambda c: c.update(hidden_act="gelu"), "hidden_act 'gelu' is not supported (silu only)"),
    ("llama", "headdim", lambda c: c.update(head_dim=32), "head_dim 32 differs from hidden_size / num_attention_heads = 16"),
    ("llama", "theta", lambda c: c.update(rope_theta=-1.0), "field 'rope_theta' is -1, outside (1, 1e30]"),
    ("llama", "eps", lambda c: c.update(rms_norm_eps=0), "field 'rms_norm_eps' is 0, outside 1e-30..1"),
    ("llama", "mlpbias", lambda c: c.update(mlp_bias=True), "mlp_bias true is not supported"),
    ("llama", "tie-string", lambda c: c.update(tie_word_embeddings="yes"), "tie_word_embeddings"),
    ("llama", "hidden", lambda c: c.update(hidden_size=65), "field 'num_attention_heads' must divide hidden_size"),
    # hidden 128 with 4 heads: q_proj is then [128, 128], not the [64, 64] the file has.
    ("llama", "shapes", lambda c: c.update(hidden_size=128), "has shape [256, 64], expected [256, 128]"),
    ("llama", "arch", lambda c: c.update(architectures=["LlamaForSequenceClassification"]),
     "architecture 'LlamaForSequenceClassification' is not supported (LlamaForCausalLM)"),
    ("gpt2", "act", lambda c: c.update(activation_function="swish"), "activation_function 'swish' is not supported"),
    ("gpt2", "untied", lambda c: c.update(tie_word_embeddings=False), "tie_word_embeddings false is not supported"),
    ("gpt2", "positions", lambda c: c.update(n_positions=100000), "field 'n_positions' is 100000, outside 2..65536"),
    ("gpt2", "cross", lambda c: c.update(add_cross_attention=True), "add_cross_attention true is not supported"),
]


@pytest.mark.parametrize("family,tag,edit,message", BAD_CONFIGS, ids=[f"{f}-{t}" for f, t, _, _ in BAD_CONFIGS])
def test_bad_config_is_refused_naming_the_field(heed, checkpoints, work_dir, family, tag, edit, message):
    name = "llama-gqa-untied" if family == "llama" else "gpt2"
    d = config_variant(checkpoints, work_dir, name, tag, edit)
    out = work_dir / f"dec-{name}-{tag}.heed"
    p = heed.run("convert", d, "-o", out, "--precision", "fp32", check=False)
    assert p.returncode == 1, p.stderr
    assert message in p.stderr.decode(), p.stderr.decode()
    assert not out.exists()


def test_calib_texts_refused_for_a_decoder(heed, checkpoints, work_dir):
    calib = work_dir / "dec-calib.txt"
    calib.write_text("some text\n")
    out = work_dir / "dec-calib.heed"
    p = heed.run("convert", checkpoints["llama-gqa-untied"][1], "-o", out, "--calib", calib, check=False)
    assert p.returncode == 1
    assert "--calib takes texts, and llama models are converted without a tokenizer" in p.stderr.decode()
    assert not out.exists()


def test_embed_refuses_a_decoder(heed, converted):
    p = heed.run("embed", converted[("gpt2", "fp32")], "hello", check=False)
    assert p.returncode == 1
    assert b"is a causal language (use heed logits) model" in p.stderr


@pytest.mark.parametrize("source,message", [
    ("trained", "tokenizer.json has 4096 tokens but config.json vocab_size is 256"),
    ("minilm", "a WordPiece tokenizer.json with a llama decoder is not supported"),
])
def test_decoder_tokenizer_refusals(heed, checkpoints, work_dir, model_dir, source, message):
    # A decoder's tokenizer.json must be BPE and fit the embedding rows.
    import shutil
    d = work_dir / f"dec-tok-{source}"
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(checkpoints["llama-gqa-untied"][1], d)
    src = REPO / "tests" / "data" / "wordnet-llama" if source == "trained" else model_dir
    shutil.copy(src / "tokenizer.json", d / "tokenizer.json")
    out = work_dir / f"dec-tok-{source}.heed"
    p = heed.run("convert", d, "-o", out, "--precision", "fp32", check=False)
    assert p.returncode == 1, p.stderr
    assert message in p.stderr.decode(), p.stderr.decode()
    assert not out.exists()
