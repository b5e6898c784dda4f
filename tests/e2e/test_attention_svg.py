"""heed embed --attention-svg: one head's attention weights for one text, read back from the SVG's
<metadata id="attention-weights"> JSON and compared with transformers' output_attentions=True for
the same layer and head: all-MiniLM-L6-v2 (a trained BERT) converted fp32 and int8, and the random
tiny BertForSequenceClassification of tools/make-tiny-classifier.py (fp32); session patterns (a
window with a global token, block-sparse) against transformers given the same pattern as a 3-D
attention mask. A neighbouring layer's
weights must not match (the comparison can fail). Bad arguments: a non-zero exit, a message naming
the problem, and no file (nor a changed one) left behind.
"""

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch

from conftest import convert, record
from test_decoder import build_model

pytestmark = pytest.mark.heed

SVG = "{http://www.w3.org/2000/svg}"
FP32_ATOL = 1e-5
# int8 weights (and activations) against the fp32 reference: measured max abs difference 0.013,
# mean 7e-4 on these texts and heads (docs/decisions.md 30); the gates leave room for other
# CPUs' kernels and int8 schemes.
INT8_ATOL = 0.05
INT8_MEAN_ATOL = 3e-3

TEXTS = [
    "The cat sat on the mat, <and> purred.",
    "A river is a large natural stream of water flowing in a channel to the sea.",
    "heed runs transformer models on small devices & prints \"attention\" maps.",
]


@pytest.fixture(scope="module")
def tiny_fp32(heed, tiny_dirs, work_dir):
    return convert(heed, tiny_dirs("float32"), work_dir / "tiny-classifier-svg-fp32.heed", "fp32",
                   name="tiny-classifier-svg")


def hf_attentions(model_dir, cls_name):
    import transformers
    tok = transformers.AutoTokenizer.from_pretrained(str(model_dir))
    model = getattr(transformers, cls_name).from_pretrained(
        str(model_dir), torch_dtype=torch.float32, attn_implementation="eager").eval()
    cache = {}

    def attentions(text):
        if text not in cache:
            enc = tok(text, return_tensors="pt")
            with torch.no_grad():
                out = model(**enc, output_attentions=True)
            ids = enc["input_ids"][0].tolist()
            cache[text] = (ids, tok.convert_ids_to_tokens(ids),
                           [a[0].double().numpy() for a in out.attentions])
        return cache[text]
    return attentions


@pytest.fixture(scope="module")
def minilm_ref(model_dir):
    return hf_attentions(model_dir, "BertModel")


@pytest.fixture(scope="module")
def tiny_ref(tiny_dirs):
    return hf_attentions(tiny_dirs("float32"), "BertForSequenceClassification")


def attention_svg(heed, model, out, text, *extra):
    p = heed.run("embed", model, "--attention-svg", out, *extra, text)
    root = ET.parse(out).getroot()  # well-formed XML or this raises
    assert root.tag == SVG + "svg"
    meta = json.loads(root.find(SVG + "metadata").text)
    n = meta["n"]
    w = np.array([[np.nan if x is None else x for x in row] for row in meta["weights"]], dtype=float)
    assert w.shape == (n, n)
    labels = {}
    for t in root.iter(SVG + "text"):
        if t.get("class") == "token":
            labels[(t.get("data-axis"), int(t.get("data-i")))] = "".join(t.itertext())
    title = root.find(SVG + "title").text
    return meta, w, labels, title, p


def check_against(meta, w, labels, ref, layer, head):
    ids, tokens, atts = ref
    assert meta["ids"] == ids
    assert meta["layer"] == layer and meta["head"] == head
    n = len(ids)
    for i in range(n):  # every token labelled on both axes at this length
        assert labels[("q", i)] == tokens[i] and labels[("k", i)] == tokens[i]
    assert not np.isnan(w).any()  # DENSE: no masked pair
    assert np.allclose(w.sum(axis=1), 1.0, atol=1e-9)
    return np.abs(w - atts[layer][head]).max()


@pytest.mark.parametrize("layer,head", [(None, None), (2, 3), (5, 11)])
def test_minilm_fp32_equals_transformers(heed, minilm_fp32, minilm_ref, tmp_path, layer, head):
    extra = [] if layer is None else ["--layer", layer, "--head", head]
    layer, head = layer or 0, head or 0  # the defaults
    worst = 0.0
    for k, text in enumerate(TEXTS):
        out = tmp_path / f"a{k}.svg"
        meta, w, labels, title, p = attention_svg(heed, minilm_fp32, out, text, *extra)
        assert meta["pattern"] == "DENSE" and meta["layers"] == 6 and meta["heads"] == 12
        assert title == (f"Attention weights: BertModel, layer layer.{layer}.attn (ATTENTION {layer} of 6), "
                         f"head {head} of 12, DENSE, N = {meta['n']} tokens")
        assert meta["check_max_abs"] <= 1e-5
        worst = max(worst, check_against(meta, w, labels, minilm_ref(text), layer, head))
        assert f"head {head} of 12, DENSE, {meta['n']} tokens".encode() in p.stdout
    record(f"attention-svg MiniLM fp32 layer {layer} head {head} vs transformers", texts=len(TEXTS),
           max_abs_diff=worst)
    assert worst <= FP32_ATOL


def test_wrong_layer_or_head_does_not_match(heed, minilm_fp32, minilm_ref, tmp_path):
    text = TEXTS[1]
    ids, tokens, atts = minilm_ref(text)
    _, w, _, _, _ = attention_svg(heed, minilm_fp32, tmp_path / "l2.svg", text, "--layer", 2, "--head", 3)
    assert np.abs(w - atts[2][3]).max() <= FP32_ATOL
    for other in (atts[3][3], atts[1][3], atts[2][4]):
        assert np.abs(w - other).max() > 0.05


def pattern_mask(n, window=None, global_first=0, block=None, local=1, global_blocks=0, stride=0):
    """Visible (query i, key j) pairs from the patterns' definitions (no random blocks)."""
    i = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    if block is not None:
        qb, kb = i // block, j // block
        m = (np.abs(qb - kb) <= local) | (qb < global_blocks) | (kb < global_blocks)
        if stride:
            m |= np.abs(qb - kb) % stride == 0
    elif window is not None:
        m = np.abs(i - j) <= window
    else:
        m = np.ones((n, n), dtype=bool)
    return m | (i < global_first) | (j < global_first)


@pytest.mark.parametrize("flags,mask_args", [
    (["--window", 2, "--global", 1], dict(window=2, global_first=1)),
    (["--attention", "block=4,local=1,global-blocks=1,stride=3"],
     dict(block=4, local=1, global_blocks=1, stride=3)),
])
def test_session_pattern_equals_transformers_with_that_mask(heed, minilm_fp32, model_dir, tmp_path, flags,
                                                            mask_args):
    """A session pattern (every layer) against transformers with the same pattern as a 3-D attention mask:
    the masked pairs are drawn as masked (null), the rest equal transformers' weights."""
    import transformers
    tok = transformers.AutoTokenizer.from_pretrained(str(model_dir))
    model = transformers.BertModel.from_pretrained(str(model_dir), torch_dtype=torch.float32,
                                                   attn_implementation="eager").eval()
    text = TEXTS[1]
    enc = tok(text, return_tensors="pt")
    n = enc["input_ids"].shape[1]
    vis = pattern_mask(n, **mask_args)
    assert not vis.all()
    with torch.no_grad():
        atts = model(input_ids=enc["input_ids"], attention_mask=torch.tensor(vis[None], dtype=torch.long),
                     output_attentions=True).attentions
    worst = 0.0
    for layer, head in ((0, 0), (4, 6)):
        meta, w, _, title, _ = attention_svg(heed, minilm_fp32, tmp_path / f"p{layer}.svg", text, *flags,
                                             "--layer", layer, "--head", head)
        assert meta["overridden"] is True and "(session override)" in title
        assert np.array_equal(~np.isnan(w), vis)
        ref = atts[layer][0, head].double().numpy()
        assert np.abs(ref[~vis]).max() == 0.0
        worst = max(worst, np.abs(np.nan_to_num(w) - ref).max())
    record(f"attention-svg MiniLM fp32 {' '.join(map(str, flags))} vs transformers with that mask",
           max_abs_diff=worst, n=n, visible_pairs=int(vis.sum()))
    assert worst <= FP32_ATOL


def test_minilm_int8_close_to_transformers(heed, minilm_int8, minilm_ref, tmp_path):
    worst, means = 0.0, []
    for layer, head in ((0, 0), (3, 7), (5, 2)):
        for k, text in enumerate(TEXTS):
            meta, w, labels, _, _ = attention_svg(heed, minilm_int8, tmp_path / f"q{layer}-{k}.svg", text,
                                                  "--layer", layer, "--head", head)
            assert meta["check_max_abs"] <= 1e-4 * max(1.0, meta["out_max_abs"])
            ref = minilm_ref(text)
            worst = max(worst, check_against(meta, w, labels, ref, layer, head))
            means.append(np.abs(w - ref[2][layer][head]).mean())
    record("attention-svg MiniLM int8 vs transformers fp32", max_abs_diff=worst,
           mean_abs_diff=float(np.mean(means)))
    assert worst <= INT8_ATOL and np.mean(means) <= INT8_MEAN_ATOL


def test_random_bert_classifier_fp32_equals_transformers(heed, tiny_fp32, tiny_ref, tmp_path):
    worst = 0.0
    for layer in (0, 1):
        for head in range(4):
            meta, w, labels, title, _ = attention_svg(heed, tiny_fp32, tmp_path / f"t{layer}{head}.svg",
                                                      TEXTS[0], "--layer", layer, "--head", head)
            assert title.startswith("Attention weights: BertForSequenceClassification, ")
            worst = max(worst, check_against(meta, w, labels, tiny_ref(TEXTS[0]), layer, head))
    record("attention-svg random BERT classifier fp32 vs transformers", max_abs_diff=worst)
    assert worst <= FP32_ATOL


@pytest.fixture(scope="module")
def llama_fp32(heed, work_dir):
    d = work_dir / "svg-llama"
    if not d.exists():
        build_model("llama", {}).save_pretrained(d, safe_serialization=True)
    f = work_dir / "svg-llama-fp32.heed"
    if not f.exists():
        heed.run("convert", d, "-o", f, "--precision", "fp32")
    return f


def test_bad_arguments_leave_no_file(heed, minilm_fp32, llama_fp32, tmp_path):
    keep = tmp_path / "keep.svg"
    keep.write_text("previous")
    text = TEXTS[0]
    cases = [
        (["--head", 12, text], 2, "--head: '12' is not an integer in 0..11 (layer layer.0.attn has 12 heads)"),
        (["--layer", 6, text], 2, "--layer: '6' is not an integer in 0..5 (the model has 6 ATTENTION layers)"),
        (["--layer", "-1", text], 2, "--layer"),
        ([], 2, "exactly one TEXT"),
        ([text, "another"], 2, "exactly one TEXT"),
        (["--json", text], 2, "unknown option --json"),
    ]
    for extra, code, message in cases:
        for out in (keep, tmp_path / "new.svg"):
            p = heed.run("embed", minilm_fp32, "--attention-svg", out, *extra, check=False)
            assert p.returncode == code, (extra, p.stderr)
            assert message in p.stderr.decode(), (extra, p.stderr)
        assert keep.read_text() == "previous"
        assert not (tmp_path / "new.svg").exists()

    p = heed.run("embed", llama_fp32, "--attention-svg", tmp_path / "d.svg", text, check=False)
    assert p.returncode == 1 and b"is a decoder" in p.stderr and b"encoder attention only" in p.stderr
    before = minilm_fp32.read_bytes()
    p = heed.run("embed", minilm_fp32, "--attention-svg", minilm_fp32, text, check=False)
    assert p.returncode == 2 and b"is the model file" in p.stderr
    assert minilm_fp32.read_bytes() == before
    p = heed.run("embed", minilm_fp32, "--attention-svg", tmp_path / "no-such-dir" / "x.svg", text, check=False)
    assert p.returncode == 1 and b"cannot write" in p.stderr and b"No such file or directory" in p.stderr
    (tmp_path / "a-dir.svg").mkdir()
    p = heed.run("embed", minilm_fp32, "--attention-svg", tmp_path / "a-dir.svg", text, check=False)
    assert p.returncode == 1 and b"cannot write" in p.stderr
    # Nothing but what the test made is left in the directory (no temporaries).
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a-dir.svg", "keep.svg"]
    # A text longer than the tokenizer's max length (256 here) is drawn as embed runs it: truncated,
    # with a note (the 512-token cap is above every max length this model allows).
    meta, w, _, _, p = attention_svg(heed, minilm_fp32, tmp_path / "long.svg", "word " * 600)
    assert meta["n"] == 256 and w.shape == (256, 256) and b"note: TEXT fills" in p.stderr
    # Plain embed is unchanged by the new flag's existence.
    p = heed.run("embed", minilm_fp32, text)
    assert len(p.stdout.split()) == 384
