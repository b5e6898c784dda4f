#!/usr/bin/env python3
"""heed's BPE tokenizers against `tokenizers` on a large corpus (a one-off measurement; the
gating test is tests/e2e/test_bpe_tokenizer.py).

    tools/make-bpe-tokenizers.py DIR
    tools/check-bpe-corpus.py DIR [--every 7] [--tool build/bin/heed-tokenizer-tool]

Takes every N-th line of DIR/corpus.txt, runs it through heed-tokenizer-tool encode for DIR/gpt2
and DIR/llama, and counts the texts whose ids, decode, or joined stream differ from HF's.
"""

import argparse
import json
import subprocess
import sys
import time

from tokenizers import Tokenizer


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--every", type=int, default=7)
    ap.add_argument("--tool", default="build/bin/heed-tokenizer-tool")
    args = ap.parse_args()
    lines = open(f"{args.dir}/corpus.txt", encoding="utf-8").read().split("\n")[:-1]
    sample = lines[::args.every]
    bad_total = 0
    for kind in ("gpt2", "llama"):
        d = f"{args.dir}/{kind}"
        t0 = time.time()
        p = subprocess.run([args.tool, d, "encode"], input="".join(s + "\n" for s in sample).encode(),
                           capture_output=True, check=True)
        t1 = time.time()
        got = [json.loads(line) for line in p.stdout.decode("utf-8").split("\n")[:-1]]
        assert len(got) == len(sample)
        hf = Tokenizer.from_file(d + "/tokenizer.json")
        want = [e.ids for e in hf.encode_batch(sample)]
        bad_ids = sum(g["ids"] != w for g, w in zip(got, want))
        dec = hf.decode_batch(want, skip_special_tokens=False)
        bad_dec = sum(g["decoded"] != w for g, w in zip(got, dec))
        bad_stream = sum(b"".join(bytes.fromhex(c) for c in g["stream"]).decode("utf-8") != g["decoded"]
                         for g in got)
        bad_total += bad_ids + bad_dec + bad_stream
        print(f"{kind}: {len(sample)} texts, {sum(map(len, want))} tokens; mismatches: ids {bad_ids}, "
              f"decode {bad_dec}, stream {bad_stream} (heed-tokenizer-tool {t1 - t0:.1f} s)", flush=True)
    return 1 if bad_total else 0


if __name__ == "__main__":
    sys.exit(main())
