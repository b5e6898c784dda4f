#!/usr/bin/env python3
"""Writes a GPT-2-small-shaped checkpoint with random weights, for speed benchmarks only.

    tools/make-gpt2-small.py OUT_DIR [--seed 0] [--every 1]

OUT_DIR gets what transformers' save_pretrained writes for a GPT2LMHeadModel with GPT-2 small's
config (n_layer 12, n_head 12, n_embd 768, n_positions 1024, vocab 50257; 124.4 M parameters with
the LM head tied to the token embedding, as GPT-2 has it), initialized by transformers from
torch.manual_seed(SEED) (normal, std 0.02): model.safetensors and config.json; plus a
tokenizer.json, tokenizer_config.json and special_tokens_map.json that llama.cpp's converter
(convert_hf_to_gguf.py, GPT-2 path) reads.

The tokenizer is GPT-2's kind but not GPT-2's vocabulary (which is not shipped here): byte-level
BPE (ByteLevel pre-tokenizer with GPT-2's split regex, ByteLevel decoder) trained with
`tokenizers` by tools/make-bpe-tokenizers.py's train_gpt2 on WordNet glosses and .mo catalogs,
to 50,256 tokens, then <|endoftext|> as id 50256, where GPT-2 has it. The converter identifies a
pre-tokenizer by the ids it produces, so this one needs `--pre gpt-2` (tools/llama-gguf.py).
The weights are random, so the text a model generates means nothing: token ids in, speed out.
"""

import argparse
import importlib.util
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB = 50257
EOT = "<|endoftext|>"


def load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def tokenizer_json(every):
    bpe = load("make_bpe_tokenizers", "make-bpe-tokenizers.py")
    e2e = bpe.load_e2e_data()
    lines = list(dict.fromkeys(bpe.corpus_lines(e2e)))[::every]
    j = bpe.train_gpt2(lines, VOCAB)  # <|endoftext|> comes out as id 0
    vocab = sorted(j["model"]["vocab"].items(), key=lambda kv: kv[1])
    if len(vocab) != VOCAB:
        sys.exit(f"make-gpt2-small: the corpus gave {len(vocab)} tokens, not {VOCAB}")
    pieces = [p for p, _ in vocab if p != EOT] + [EOT]
    j["model"]["vocab"] = {p: i for i, p in enumerate(pieces)}
    j["added_tokens"] = [{"id": VOCAB - 1, "content": EOT, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": True, "special": True}]
    return j, len(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--every", type=int, default=1,
                    help="train the tokenizer on every N-th corpus line only")
    a = ap.parse_args()

    import torch
    from tokenizers import Tokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    os.makedirs(a.out_dir, exist_ok=True)
    t0 = time.perf_counter()
    j, n_lines = tokenizer_json(a.every)
    text = json.dumps(j, ensure_ascii=False)
    Tokenizer.from_str(text)  # the library itself must accept the file
    with open(os.path.join(a.out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(text)
    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(a.out_dir, "tokenizer.json"),
                                  bos_token=EOT, eos_token=EOT, unk_token=EOT,
                                  model_max_length=1024, add_prefix_space=False)
    tok.save_pretrained(a.out_dir)
    assert tok.convert_tokens_to_ids(EOT) == VOCAB - 1
    print(f"tokenizer: {len(j['model']['vocab'])} tokens, {len(j['model']['merges'])} merges from "
          f"{n_lines} lines, {time.perf_counter() - t0:.1f} s")

    torch.manual_seed(a.seed)
    # n_ctx: not a GPT2Config field, but in GPT-2's config.json, and llama.cpp's converter reads it.
    cfg = GPT2Config(vocab_size=VOCAB, n_positions=1024, n_ctx=1024, n_embd=768, n_layer=12, n_head=12,
                     bos_token_id=VOCAB - 1, eos_token_id=VOCAB - 1)
    model = GPT2LMHeadModel(cfg).eval()
    n = sum(p.numel() for p in model.parameters())
    model.save_pretrained(a.out_dir, safe_serialization=True)
    print(f"{a.out_dir}: GPT2LMHeadModel, {n / 1e6:.1f} M parameters (seed {a.seed}), "
          f"{time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
