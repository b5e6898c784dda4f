"""heed classify on a tiny random BertForSequenceClassification (tools/make-tiny-classifier.py)."""

import numpy as np
import pytest

from conftest import LABELS, parse_json_line, record, stdout_lines

pytestmark = pytest.mark.heed

FP32_MAX_ABS = 1e-4
INT8_MIN_PEARSON = 0.99


def unpack(results):
    for r in results:
        assert isinstance(r, dict) and {"label", "logits", "scores"} <= set(r), r
        assert len(r["logits"]) == len(LABELS) and len(r["scores"]) == len(LABELS), r
    logits = np.array([r["logits"] for r in results], dtype=np.float64)
    scores = np.array([r["scores"] for r in results], dtype=np.float64)
    labels = [r["label"] for r in results]
    return logits, scores, labels


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def check_consistent(logits, scores, labels):
    """scores = softmax(logits) and label = id2label[argmax(logits)]."""
    np.testing.assert_allclose(scores, softmax(logits), rtol=1e-4, atol=1e-6)
    assert [LABELS[i] for i in logits.argmax(axis=1)] == labels


def test_fp32_logits_match_transformers(tiny_heed_classify, tiny_ref_logits, classify_texts):
    logits, scores, labels = unpack(tiny_heed_classify("float32", "fp32"))
    ref = tiny_ref_logits("float32")
    diff = np.abs(logits - ref)
    record("classify fp32 vs transformers", texts=len(classify_texts), max_abs_diff=diff.max(),
           mean_abs_diff=diff.mean(), logit_range=[ref.min(), ref.max()],
           label_counts={l: labels.count(l) for l in LABELS})
    assert diff.max() <= FP32_MAX_ABS, (
        f"max |heed - transformers| = {diff.max():.3g} on {classify_texts[diff.max(1).argmax()]!r}")
    check_consistent(logits, scores, labels)
    top2 = np.sort(ref, axis=1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > 1e-3
    ref_labels = [LABELS[i] for i in ref.argmax(axis=1)]
    assert [a for a, c in zip(labels, clear) if c] == [b for b, c in zip(ref_labels, clear) if c]


def test_int8_logits_correlate(tiny_heed_classify, tiny_ref_logits, classify_texts):
    logits, scores, labels = unpack(tiny_heed_classify("float32", "int8"))
    ref = tiny_ref_logits("float32")
    pearson = float(np.corrcoef(logits.ravel(), ref.ravel())[0, 1])
    centred = float(np.corrcoef((logits - logits.mean(0)).ravel(),
                                (ref - ref.mean(0)).ravel())[0, 1])
    agree = float((logits.argmax(1) == ref.argmax(1)).mean())
    record("classify int8 vs fp32 reference", texts=len(classify_texts), pearson=pearson,
           pearson_class_centred=centred, max_abs_diff=np.abs(logits - ref).max(),
           label_agreement=agree)
    check_consistent(logits, scores, labels)
    assert pearson >= INT8_MIN_PEARSON


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_checkpoints(dtype, tiny_heed_classify, tiny_ref_logits, classify_texts):
    """f16 / bf16 safetensors convert, and match transformers on the same weights upcast."""
    logits, scores, labels = unpack(tiny_heed_classify(dtype, "fp32"))
    ref = tiny_ref_logits(dtype)
    diff = np.abs(logits - ref)
    record(f"classify {dtype} checkpoint fp32 vs transformers", texts=len(classify_texts),
           max_abs_diff=diff.max())
    assert diff.max() <= FP32_MAX_ABS
    check_consistent(logits, scores, labels)


def test_classify_arguments_and_plain_output(heed, tiny_heed, tiny_heed_classify, classify_texts):
    """Texts as arguments give the same --json results; the plain output has a line per text."""
    model = tiny_heed("float32", "fp32")
    sample = classify_texts[:3]
    by_arg = [parse_json_line(l) for l in stdout_lines(heed.run("classify", model, *sample,
                                                                "--json"))]
    a, _, la = unpack(by_arg)
    b, _, lb = unpack(tiny_heed_classify("float32", "fp32")[:3])
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert la == lb
    plain = stdout_lines(heed.run("classify", model, *sample))
    assert len(plain) == len(sample)
