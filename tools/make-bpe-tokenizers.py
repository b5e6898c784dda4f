#!/usr/bin/env python3
"""Trains the two BPE tokenizers heed's BPE tests use, with Hugging Face `tokenizers` (no hub).

    tools/make-bpe-tokenizers.py OUT_DIR [--vocab 32000]

OUT_DIR/gpt2/tokenizer.json    byte-level BPE as GPT-2 builds it: ByteLevel pre-tokenizer
                               (GPT-2's split regex), ByteLevel decoder, <|endoftext|>.
OUT_DIR/llama/tokenizer.json   Llama-style BPE: normalizer Prepend("\u2581") + Replace(" ",
                               "\u2581"), no pre-tokenizer, byte_fallback to <0x00>..<0xFF>,
                               <unk> fused, <s> added by a TemplateProcessing post-processor,
                               decoder Replace + ByteFallback + Fuse + Strip.
OUT_DIR/corpus.txt             the training text, one line per sentence.

Training text: every WordNet gloss (Debian's wordnet-base) and every translation of every .mo
catalog under /usr/share/locale that decodes (Python's gettext catalog format, read by
tools/e2e-data.py's parse_mo). The Llama tokenizer keeps only the 600 most frequent characters
(limit_alphabet), so rarer characters go through byte fallback.
"""

import argparse
import glob
import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def load_e2e_data():
    spec = importlib.util.spec_from_file_location("e2e_data", os.path.join(HERE, "e2e-data.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def corpus_lines(e2e):
    for _, _, gloss in e2e.read_wordnet(e2e.WORDNET_DIR):
        yield gloss
    for path in sorted(glob.glob(os.path.join(e2e.LOCALE_DIR, "*", "LC_MESSAGES", "*.mo"))):
        try:
            entries, charset = e2e.parse_mo(path)
        except ValueError:
            continue
        for msgid, msgstr in entries:
            if not msgid:
                continue
            for part in msgstr.split(b"\x00"):
                try:
                    text = part.decode(charset)
                except (UnicodeDecodeError, LookupError):
                    continue
                for line in text.split("\n"):
                    line = line.strip()
                    if line:
                        yield line


def train_gpt2(lines, vocab):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(lines, trainer=trainer)
    return json.loads(tok.to_str())


def train_llama(lines, vocab):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    # Train on words that start with U+2581 (as sentencepiece does), then give the file the
    # normalizer / decoder of Llama's tokenizer.json, which has no pre-tokenizer.
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    specials = ["<unk>", "<s>", "</s>"]
    byte_tokens = ["<0x%02X>" % b for b in range(256)]
    trainer = trainers.BpeTrainer(vocab_size=vocab - len(byte_tokens), special_tokens=specials,
                                  limit_alphabet=600, show_progress=False)
    tok.train_from_iterator(lines, trainer=trainer)
    j = json.loads(tok.to_str())
    old = sorted(j["model"]["vocab"].items(), key=lambda kv: kv[1])
    pieces = [p for p, _ in old if p in specials] + byte_tokens + \
        [p for p, _ in old if p not in specials and p not in byte_tokens]
    j["model"]["vocab"] = {p: i for i, p in enumerate(pieces)}
    j["added_tokens"] = [{"id": i, "content": p, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}
                         for i, p in enumerate(specials)]
    j["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "\u2581"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}
    j["pre_tokenizer"] = None
    j["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                   {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
    j["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"},
        {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    return j


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--kinds", default="gpt2,llama", help="comma-separated: gpt2, llama")
    ap.add_argument("--every", type=int, default=1,
                    help="train on every N-th corpus line only (faster; the corpus file has all)")
    args = ap.parse_args()
    from tokenizers import Tokenizer
    e2e = load_e2e_data()
    lines = list(dict.fromkeys(corpus_lines(e2e)))
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "corpus.txt"), "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line.replace("\r", " ") + "\n")
    kinds = args.kinds.split(",")
    for name, train in (("gpt2", train_gpt2), ("llama", train_llama)):
        if name not in kinds:
            continue
        j = train(lines[::args.every], args.vocab)
        d = os.path.join(args.out_dir, name)
        os.makedirs(d, exist_ok=True)
        text = json.dumps(j, ensure_ascii=False, indent=2)
        Tokenizer.from_str(text)  # the library itself must accept the file
        with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
            f.write(text)
        print(f"{d}/tokenizer.json: {len(j['model']['vocab'])} tokens, "
              f"{len(j['model']['merges'])} merges, {len(text.encode())} bytes")
    print(f"corpus: {len(lines)} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
