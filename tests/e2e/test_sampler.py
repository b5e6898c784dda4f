"""heed's sampler against transformers' logits processors (the distribution generate() samples
from), on random logits, through tests/probes/sampler-probe.cc (heed-sampler-probe)."""

import subprocess

import numpy as np
import pytest
import torch

from conftest import HEED_BIN

PROBE = HEED_BIN.parent / "heed-sampler-probe"


def probe(params, history, logits):
    line1 = " ".join(str(v) for v in params)
    inp = f"{line1}\n{' '.join(map(str, history))}\n{' '.join(repr(float(v)) for v in logits)}\n"
    r = subprocess.run([str(PROBE)], input=inp, capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout.strip()


def hf_distribution(temperature, top_k, top_p, penalty, history, logits):
    from transformers.generation.logits_process import (LogitsProcessorList,
                                                        RepetitionPenaltyLogitsProcessor,
                                                        TemperatureLogitsWarper, TopKLogitsWarper,
                                                        TopPLogitsWarper)
    scores = torch.tensor(np.asarray(logits, dtype=np.float32))[None, :]
    ids = torch.tensor([history if history else [0]], dtype=torch.long)
    procs = LogitsProcessorList()
    if penalty != 1.0 and history:
        procs.append(RepetitionPenaltyLogitsProcessor(penalty))
    if temperature == 0:  # heed: greedy (argmax after the penalty)
        s = procs(ids, scores)
        p = np.zeros(len(logits))
        p[int(torch.argmax(s[0]))] = 1.0
        return p
    if temperature != 1.0:
        procs.append(TemperatureLogitsWarper(temperature))
    if top_k > 0:
        procs.append(TopKLogitsWarper(top_k))
    if top_p < 1.0:
        procs.append(TopPLogitsWarper(top_p))
    s = procs(ids, scores)
    return torch.softmax(s[0].double(), dim=-1).numpy()


CASES = [  # temperature, top_k, top_p, repetition_penalty, vocab, history length
    (1.0, 0, 1.0, 1.0, 1000, 0),
    (0.7, 0, 1.0, 1.0, 1000, 0),
    (0.8, 40, 1.0, 1.0, 32000, 0),
    (0.8, 40, 0.95, 1.0, 32000, 0),
    (1.0, 0, 0.9, 1.0, 50257, 0),
    (1.3, 0, 0.5, 1.0, 50257, 0),
    (0.6, 5, 0.8, 1.3, 4096, 50),
    (1.0, 1, 1.0, 1.0, 4096, 0),
    (0.0, 0, 1.0, 1.0, 32000, 0),
    (0.0, 0, 1.0, 1.5, 4096, 200),
    (1.0, 0, 0.3, 2.0, 4096, 300),
    (1.0, 0, 1.0, 1.3, 1000, 100),
]


@pytest.mark.parametrize("case", CASES, ids=[
    f"T{c[0]}-k{c[1]}-p{c[2]}-rep{c[3]}-V{c[4]}-h{c[5]}" for c in CASES])
def test_distribution_matches_transformers(case):
    if not PROBE.is_file():
        pytest.fail(f"{PROBE} not built (cmake --build build)")
    temperature, top_k, top_p, penalty, vocab, hlen = case
    rng = np.random.default_rng(abs(hash(case)) % 2**32)
    for trial in range(3):
        # Logits shaped like a language model's: a few large, a long tail.
        logits = (rng.standard_normal(vocab) * 2.5).astype(np.float32)
        top = rng.integers(0, vocab, 5)
        logits[top] += 6.0
        # The history repeats ids and holds two of the likely ones, so that the penalty matters.
        history = (rng.integers(0, vocab, hlen).tolist() + top[:2].tolist() * 2) if hlen else []
        code, out = probe((temperature, top_k, top_p, penalty), history, logits)
        assert code == 0, out
        got = np.array([float(v) for v in out.split()])
        want = hf_distribution(temperature, top_k, top_p, penalty, history, logits)
        assert got.shape == want.shape
        # Same support (ids kept), same probabilities.
        diff_support = np.flatnonzero((got > 0) != (want > 0))
        assert diff_support.size == 0, (trial, diff_support[:10], got[diff_support[:10]], want[diff_support[:10]])
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("params, message", [
    ((-0.5, 0, 1.0, 1.0), "temperature"),
    ((1.0, -3, 1.0, 1.0), "top_k"),
    ((1.0, 0, 0.0, 1.0), "top_p"),
    ((1.0, 0, 1.01, 1.0), "top_p"),
    ((1.0, 0, 1.0, -1.0), "repetition_penalty"),
])
def test_bad_parameters(params, message):
    code, out = probe(params, [], [0.0, 1.0, 2.0])
    assert code == 1 and out.startswith("error:") and message in out, out


def test_non_finite_logits_and_bad_history():
    code, out = probe((1.0, 0, 1.0, 1.0), [], [0.0, float("nan"), 2.0])
    assert code == 1 and "NaN" in out, out
    code, out = probe((1.0, 0, 1.0, 1.3), [0, 7], [0.0, 1.0, 2.0])
    assert code == 1 and "outside the vocabulary" in out, out
