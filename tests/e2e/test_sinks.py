"""Attention sinks (StreamingLLM) and streaming decoders: a window that keeps the first k tokens,
so a causal LM runs past its context in an arena that does not grow.

The reference is StreamingLLM's rule computed in PyTorch from transformers' own Llama modules
(projections, RMSNorm, rotary embedding, apply_rotary_pos_emb, repeat_kv, MLP): each token's keys and
values are computed once, when it arrives; the query at position p attends the sinks 0..k-1 and the
window p-w..p, with rotary positions counted inside that cache (sinks at 0..k-1, window keys at
k..k+w, the query last), as StreamingLLM and transformers' SinkCache do. (transformers 4.40's
SinkCache itself cannot serve: its update() slices the rotary table by the cache length, but 4.40's
Llama passes cos/sin of the current positions only.) The reference is checked against
LlamaForCausalLM's own forward where nothing is evicted.

Gates: fp32 logits within FP32_REL at every position to 4x the model's context; int8 at cosine >=
INT8_COS; the greedy continuation 4x past the context equals the reference's, with the arena of a
short run; the sinks and the in-cache positions are shown to matter (a window without sinks, or
sinks scored at their true positions, land far outside the gate); the trained decoder's streamed
perplexity with sinks matches the reference's and stays near its dense perplexity inside the
context (docs/benchmarks.md).
"""

import json
import math

import numpy as np
import pytest
import torch

from conftest import REPO, record
from test_decoder import FP32_REL, INT8_COS, cos_rows, rel_err_rows

pytestmark = pytest.mark.heed

CTX = 64  # the random model's max_position_embeddings
LENGTH = 4 * CTX
# (window, sinks)
CASES = ((20, 4), (37, 1), (48, 16))


def build_llama(max_pos):
    import transformers
    torch.manual_seed(11)
    cfg = transformers.LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
                                   num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=max_pos,
                                   rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
                                   initializer_range=0.1)
    model = transformers.LlamaForCausalLM(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.add_(torch.randn_like(p) * 0.2)
    return model.eval()


def streaming_reference(model, ids, window, sinks, positions="cache"):
    """Logits [len(ids), vocab] in float64 of StreamingLLM's rule (module docstring). positions=
    "absolute" scores every key at its true position instead (the rule without the re-positioning)."""
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb, repeat_kv
    cfg = model.config
    H, KV = cfg.num_attention_heads, cfg.num_key_value_heads
    D = cfg.hidden_size // H
    layers = model.model.layers
    keys = [[] for _ in layers]  # per token: [1, KV, 1, D] before the rotation
    values = [[] for _ in layers]
    out = []
    with torch.no_grad():
        for p, tok in enumerate(ids):
            keep = [j for j in range(p + 1) if j < sinks or j >= p - window]
            pos = torch.arange(len(keep)) if positions == "cache" else torch.tensor(keep)
            x = model.model.embed_tokens(torch.tensor([[tok]]))
            for li, layer in enumerate(layers):
                a = layer.self_attn
                h = layer.input_layernorm(x)
                q = a.q_proj(h).view(1, 1, H, D).transpose(1, 2)
                keys[li].append(a.k_proj(h).view(1, 1, KV, D).transpose(1, 2))
                values[li].append(a.v_proj(h).view(1, 1, KV, D).transpose(1, 2))
                k = torch.cat([keys[li][j] for j in keep], dim=2)
                v = torch.cat([values[li][j] for j in keep], dim=2)
                cos, sin = a.rotary_emb(v, pos[None])
                q, _ = apply_rotary_pos_emb(q, q, cos[:, -1:], sin[:, -1:])
                _, k = apply_rotary_pos_emb(k, k, cos, sin)
                k, v = repeat_kv(k, H // KV), repeat_kv(v, H // KV)
                w = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(D), dim=-1)
                x = x + a.o_proj((w @ v).transpose(1, 2).reshape(1, 1, H * D))
                x = x + layer.mlp(layer.post_attention_layernorm(x))
            out.append(model.lm_head(model.model.norm(x))[0, 0].double().numpy())
    return np.stack(out)


def heed_stream_logits(heed, path, ids, *extra):
    p = heed.run("logits", path, "--ids", ",".join(map(str, ids)), "--incremental", "--json", *extra)
    j = json.loads(p.stdout)
    a = np.array(j["logits"], dtype=np.float64)
    assert a.shape == (len(ids), j["vocab"])
    return a


def ids_of(n, seed=3):
    return [int(x) for x in np.random.default_rng(seed).integers(0, 256, size=n)]


@pytest.fixture(scope="module")
def llama(heed, work_dir):
    d = work_dir / "sinks-llama"
    if not d.exists():
        build_llama(CTX).save_pretrained(d, safe_serialization=True)
    files = {}
    for prec in ("fp32", "int8"):
        f = work_dir / f"sinks-llama-{prec}.heed"
        if not f.exists():
            heed.run("convert", d, "-o", f, "--precision", prec)
        files[prec] = f
    import transformers
    return transformers.LlamaForCausalLM.from_pretrained(d, torch_dtype=torch.float32).eval(), files


def test_reference_is_transformers_while_nothing_is_evicted(llama):
    model, _ = llama
    ids = ids_of(CTX)
    with torch.no_grad():
        hf = model(input_ids=torch.tensor([ids])).logits[0].double().numpy()
    ref = streaming_reference(model, ids, window=CTX, sinks=4)
    assert rel_err_rows(ref, hf).max() < 1e-5
    # and the reference's eviction changes it once p > sinks + window
    cut = streaming_reference(model, ids, window=20, sinks=4)
    assert rel_err_rows(cut[:25], hf[:25]).max() < 1e-5
    assert rel_err_rows(cut[40:], hf[40:]).max() > 100 * FP32_REL


@pytest.mark.parametrize("window,sinks", CASES)
def test_sinks_logits_match_the_reference_to_4x_the_context(heed, llama, window, sinks):
    model, files = llama
    ids = ids_of(LENGTH)
    spec = ("--window", str(window), "--sinks", str(sinks))
    got = heed_stream_logits(heed, files["fp32"], ids, *spec)
    ref = streaming_reference(model, ids, window, sinks)
    err = rel_err_rows(got, ref)
    record(f"sinks fp32 w={window} k={sinks}", tokens=LENGTH, context=CTX, worst_rel=float(err.max()))
    assert err.max() <= FP32_REL, (int(err.argmax()), float(err.max()))
    # The check can fail: without the sinks, or with the sinks at their true positions, the
    # logits past sinks + window leave the gate.
    tail = slice(sinks + window + 8, None)
    plain = streaming_reference(model, ids, window, 0)
    assert rel_err_rows(got[tail], plain[tail]).min() > 10 * FP32_REL
    absolute = streaming_reference(model, ids, window, sinks, positions="absolute")
    assert rel_err_rows(got[tail], absolute[tail]).max() > 100 * FP32_REL

    q = heed_stream_logits(heed, files["int8"], ids, *spec)
    cos = cos_rows(q, ref)
    record(f"sinks int8 w={window} k={sinks}", worst_cos=float(cos.min()))
    assert cos.min() >= INT8_COS


def generate(heed, path, ids, n, *extra):
    p = heed.run("generate", path, "--ids", ",".join(map(str, ids)), "-n", str(n), "--temp", "0", "--ignore-eos",
                 "--json", *extra)
    return json.loads(p.stdout)


def test_generation_runs_4x_past_the_context_in_the_same_arena(heed, llama):
    model, files = llama
    window, sinks = 20, 4
    prompt = ids_of(10, seed=8)
    spec = ("--window", str(window), "--sinks", str(sinks))
    short = generate(heed, files["fp32"], prompt, 8, *spec)
    j = generate(heed, files["fp32"], prompt, LENGTH, *spec)
    assert j["streams"] and j["stop"] == "max_tokens" and j["generated_tokens"] == LENGTH
    assert j["context"] == len(prompt) + LENGTH - 1 > 4 * CTX
    assert j["arena_bytes"] == short["arena_bytes"]
    # Greedy: each id is the argmax of the reference's logits after the ids before it.
    seq = prompt + j["ids"]
    ref = streaming_reference(model, seq[:-1], window, sinks)
    want = ref[len(prompt) - 1:].argmax(1).tolist()
    assert j["ids"] == want
    # Without sinks or a ring the context ends at max_seq.
    dense = generate(heed, files["fp32"], prompt, LENGTH)
    assert not dense["streams"] and dense["stop"] == "context_full" and dense["context"] == CTX - 1
    record("sinks generation", generated=LENGTH, context=j["context"], max_seq=j["max_seq"],
           arena_bytes=j["arena_bytes"], dense_arena_bytes=dense["arena_bytes"])


def test_window_ring_streams_without_sinks(heed, work_dir, llama):
    model, files = llama
    # window 16: a ring of 80 slots, smaller than max_seq 128 of a session on a longer model
    d = work_dir / "sinks-llama-128"
    if not d.exists():
        build_llama(128).save_pretrained(d, safe_serialization=True)
    f = work_dir / "sinks-llama-128-fp32.heed"
    if not f.exists():
        heed.run("convert", d, "-o", f, "--precision", "fp32")
    import transformers
    m = transformers.LlamaForCausalLM.from_pretrained(d, torch_dtype=torch.float32).eval()
    ids = ids_of(300)
    got = heed_stream_logits(heed, f, ids, "--window", "16")
    ref = streaming_reference(m, ids, 16, 0)
    assert rel_err_rows(got, ref).max() <= FP32_REL


@pytest.mark.parametrize("args,needle", [
    (("--window", "8", "--sinks", "9"), "exceed the window"),
    (("--sinks", "4"), "sinks need a causal layer with a window"),
    (("--window", "dense", "--sinks", "4"), "sinks"),
])
def test_bad_sinks_are_refused(heed, llama, args, needle):
    _, files = llama
    p = heed.run("logits", files["fp32"], "--ids", "1,2,3", *args, check=False)
    assert p.returncode != 0 and needle in p.stderr.decode(), p.stderr
    assert b"Segmentation" not in p.stderr


def test_sinks_need_rotary_positions(heed, work_dir):
    import transformers
    d = work_dir / "sinks-gpt2"
    if not d.exists():
        torch.manual_seed(2)
        cfg = transformers.GPT2Config(vocab_size=256, n_positions=64, n_embd=64, n_layer=1, n_head=4)
        transformers.GPT2LMHeadModel(cfg).save_pretrained(d, safe_serialization=True)
    f = work_dir / "sinks-gpt2.heed"
    if not f.exists():
        heed.run("convert", d, "-o", f, "--precision", "fp32")
    p = heed.run("logits", f, "--ids", "1,2,3", "--window", "8", "--sinks", "2", check=False)
    assert p.returncode != 0 and "rotary positions" in p.stderr.decode(), p.stderr
    # and a window alone does not stream past the learned positions
    p = heed.run("logits", f, "--ids", ",".join(["5"] * 80), "--incremental", "--window", "8", check=False)
    assert p.returncode != 0 and b"--ids" in p.stderr


def test_stream_perplexity_needs_a_streaming_session(heed, work_dir, llama):
    _, files = llama
    ids_file = work_dir / "sinks-ids.txt"
    ids_file.write_text(" ".join(map(str, ids_of(200))) + "\n")
    p = heed.run("perplexity", files["fp32"], "--ids-file", ids_file, "--stream", check=False)
    assert p.returncode == 2 and b"--stream over 200 tokens" in p.stderr
    j = json.loads(heed.run("perplexity", files["fp32"], "--ids-file", ids_file, "--stream", "--window", "20",
                            "--sinks", "4", "--json").stdout)
    assert j["stream"] and j["scored"] == 199


# ---------------------------------------------------------------------------- trained decoder

WORDNET = REPO / "tests" / "data" / "wordnet-llama"
PPL_TOKENS = 8 * 128  # 8x the trained decoder's context
PPL_WINDOW, PPL_SINKS = 48, 4
# The streamed perplexity with sinks may exceed the dense one inside the context by this factor.
PPL_SINKS_MAX_RATIO = 1.25


def _perplexity(logits, ids):
    logp = torch.log_softmax(torch.tensor(logits[:-1]), -1)
    return math.exp(-float(logp.gather(1, torch.tensor(ids[1:])[:, None]).mean()))


def test_trained_decoder_streams_past_its_context(heed, work_dir):
    import importlib.util

    import transformers
    spec = importlib.util.spec_from_file_location("train_decoder", REPO / "tools" / "train-decoder.py")
    td = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(td)
    with open(WORDNET / "train-report.json", encoding="utf-8") as f:
        report = json.load(f)
    _, heldout = td.build_corpus(td.WORDNET_DIR, report["args"]["heldout"])
    tok = transformers.AutoTokenizer.from_pretrained(WORDNET)
    ids = []
    for line in heldout:  # each line as in training: <s> line </s>, one after the other
        ids += tok(line)["input_ids"] + [tok.eos_token_id]
        if len(ids) >= PPL_TOKENS:
            break
    ids = ids[:PPL_TOKENS]
    ids_file = work_dir / "sinks-wordnet-ids.txt"
    ids_file.write_text(" ".join(map(str, ids)) + "\n")
    model = transformers.LlamaForCausalLM.from_pretrained(WORDNET, torch_dtype=torch.float32).eval()
    ctx = model.config.max_position_embeddings
    got = {}
    for prec in ("fp32", "int8"):
        f = work_dir / f"sinks-wordnet-{prec}.heed"
        if not f.exists():
            heed.run("convert", WORDNET, "-o", f, "--precision", prec)
        run = lambda *a: json.loads(heed.run("perplexity", f, "--ids-file", ids_file, "--ctx", str(ctx), "--json",
                                             *a).stdout)
        got[prec] = {"dense in context": run(),
                     "stream window+sinks": run("--stream", "--window", str(PPL_WINDOW), "--sinks", str(PPL_SINKS)),
                     "stream window": run("--stream", "--window", str(PPL_WINDOW))}
    ref = streaming_reference(model, ids, PPL_WINDOW, PPL_SINKS)
    ref_ppl = _perplexity(ref, ids)
    ppl = {p: {k: v["perplexity"] for k, v in g.items()} for p, g in got.items()}
    record("trained decoder streamed perplexity", tokens=len(ids), context=ctx, window=PPL_WINDOW,
           sinks=PPL_SINKS, reference_window_sinks=ref_ppl, **{f"{p} {k}": v for p, g in ppl.items()
                                                                for k, v in g.items()})
    s = got["fp32"]["stream window+sinks"]
    assert s["stream"] and s["scored"] == len(ids) - 1
    assert abs(ppl["fp32"]["stream window+sinks"] - ref_ppl) / ref_ppl <= 1e-4
    for p in ("fp32", "int8"):
        assert ppl[p]["stream window+sinks"] <= PPL_SINKS_MAX_RATIO * ppl[p]["dense in context"]
