#!/usr/bin/env python3
"""Runs llama.cpp's own converter (convert_hf_to_gguf.py of the source tools/llama-cpp.sh fetched)
on a Hugging Face checkpoint, with two adjustments for this machine and for our models:

    tools/llama-gguf.py LLAMA_SRC [--pre NAME] -- <convert_hf_to_gguf.py arguments>

1. torch 1.13 (Debian's, in the project venv) has no float8 dtypes, which the converter names in
   its dtype tables at import time. Missing ones are set to placeholder objects before the import:
   the tables then load, and a checkpoint with float8 tensors would still fail (no dtype maps to a
   placeholder); ours are float32.
2. --pre NAME: the converter identifies a BPE pre-tokenizer by hashing the ids that the
   tokenizer gives for a fixed text, so a tokenizer trained here (tools/make-gpt2-small.py) is
   "not recognized" even when its pre-tokenizer is exactly GPT-2's. With --pre, an unrecognized
   hash is taken to be NAME (a name from the converter's table, e.g. gpt-2), which is what adding
   the hash to convert_hf_to_gguf_update.py would do; a recognized hash is left alone.

Everything else, tensors and quantization included, is the converter's, unchanged.
"""

import os
import sys


def main():
    argv = sys.argv[1:]
    if not argv or argv[0].startswith("-"):
        sys.exit(__doc__)
    src = os.path.abspath(argv.pop(0))
    pre = None
    if argv[:1] == ["--pre"]:
        pre = argv[1]
        argv = argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]

    import torch

    for name in ("float8_e4m3fn", "float8_e5m2", "float8_e8m0fnu", "float8_e4m3fnuz", "float8_e5m2fnuz"):
        if not hasattr(torch, name):
            setattr(torch, name, type(name, (), {"__repr__": lambda self, n=name: f"<missing torch.{n}>"})())

    sys.path[:0] = [src, os.path.join(src, "gguf-py")]
    import conversion.base as base  # noqa: E402

    if pre is not None:
        detect = base.TextModel.get_vocab_base_pre

        def get_vocab_base_pre(self, tokenizer):
            try:
                return detect(self, tokenizer)
            except NotImplementedError:
                base.logger.warning(f"pre-tokenizer hash not in the converter's table: taken as {pre!r} (--pre)")
                return pre

        base.TextModel.get_vocab_base_pre = get_vocab_base_pre

    import runpy

    sys.argv = [os.path.join(src, "convert_hf_to_gguf.py")] + argv
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
