#!/usr/bin/env python3
"""Trains heed's small Llama-style decoder on WordNet text this project did not write.

    tools/train-decoder.py OUT_DIR [--steps N] [--threads 1] [--seed 0]
    tools/train-decoder.py --corpus-only OUT_DIR      (writes train.txt and heldout.txt only)

OUT_DIR gets a Hugging Face model directory that transformers loads with
LlamaForCausalLM.from_pretrained and AutoTokenizer.from_pretrained:

  config.json, generation_config.json, model.safetensors   (transformers' save_pretrained)
  tokenizer.json, tokenizer_config.json, special_tokens_map.json
  train-report.json   corpus and tokenizer counts, shape, parameter count, training time,
                      held-out perplexity and unigram baseline, greedy samples, versions

Corpus: one line per WordNet 3.0 synset of Debian's wordnet-base
(/usr/share/wordnet/data.{noun,verb,adj,adv}): its first lemma, a colon and its whole gloss
(definition and quoted usage examples), e.g.
  dog: a member of the genus Canis ... ; "the dog barked all night"
Lines are deduplicated, then split on a SHA-1 of the gloss (so one gloss shared by two synsets
lands on one side only): the --heldout lines with the smallest hashes are the held-out set,
never seen by the tokenizer trainer or the model, and the rest is the training set. The split
depends only on the WordNet files.

Tokenizer: byte-fallback BPE trained with the `tokenizers` library and saved in the layout of
Llama 2's tokenizer.json: ids 0-2 are <unk> <s> </s>, ids 3-258 the bytes <0x00>..<0xFF>, then
the learned pieces; the normalizer prepends U+2581 and replaces spaces by it; no pre-tokenizer;
a character outside the vocabulary becomes its UTF-8 bytes. The trainer splits words on spaces
(Metaspace), so no piece holds a U+2581 after its first character; the script checks that the
saved tokenizer gives the trainer's ids and decodes back to the text on every training line.

Model: LlamaForCausalLM (RMSNorm, RoPE, SwiGLU) with grouped-query attention and the output
head tied to the embeddings, trained from a fixed seed with AdamW on the training lines packed
into blocks of --seq-len tokens (each line as <s> line </s>, line order shuffled per epoch from
the seed). One torch thread by default (--threads). With the same seed, steps, thread count and
library versions on the same CPU the result is the same bytes; other CPUs may round
differently.

Evaluation (in transformers, from the saved directory): each held-out line is scored alone as
<s> line </s>; the perplexity is exp(mean negative log-likelihood) over every token after <s>
(</s> included). The unigram baseline scores the same tokens with add-one-smoothed token
frequencies of the training lines. Needs the venv of tools/setup-venv.sh.
"""

import argparse
import hashlib
import json
import math
import os
import re
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

WORDNET_DIR = "/usr/share/wordnet"
SPECIAL = ["<unk>", "<s>", "</s>"]
UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
BYTE_TOKENS = [f"<0x{b:02X}>" for b in range(256)]
SPACE = "\u2581"
# Prompts of the greedy samples in train-report.json (lemmas; the model continues the gloss).
PROMPTS = ["river:", "happy:", "computer:", "to walk:"]


def log(msg):
    print(f"train-decoder: {msg}", flush=True)


# ------------------------------------------------------------------------------------- corpus

_LEMMA_MARKER = re.compile(r"\([a-z]+\)$")  # adjective position markers: (a) (p) (ip)


def read_synsets(wordnet_dir):
    """Yields (pos, offset, first lemma, gloss) for every synset of the four data files."""
    for pos in ("noun", "verb", "adj", "adv"):
        path = os.path.join(wordnet_dir, "data." + pos)
        with open(path, "rb") as f:
            for raw in f:
                if raw.startswith(b"  "):  # license header
                    continue
                line = raw.decode("utf-8", errors="strict").rstrip("\n")
                if " | " not in line:
                    continue
                head, gloss = line.split(" | ", 1)
                fields = head.split(" ")
                # offset lex_filenum ss_type w_cnt word lex_id ...
                if len(fields) < 6:
                    raise ValueError(f"{path}: synset line without a word: {line[:60]!r}")
                lemma = _LEMMA_MARKER.sub("", fields[4]).replace("_", " ")
                yield pos, fields[0], lemma, " ".join(gloss.split())


def _hash(text):
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def build_corpus(wordnet_dir, n_heldout):
    """Returns (train lines, held-out lines, held-out lemmas), both lists in hash order."""
    by_gloss = {}  # gloss -> set of lines
    for _, _, lemma, gloss in read_synsets(wordnet_dir):
        if not gloss or not lemma:
            continue
        by_gloss.setdefault(gloss, set()).add(f"{lemma}: {gloss}")
    keyed = sorted(by_gloss.items(), key=lambda kv: _hash(kv[0]))
    heldout, train = [], []
    for i, (_, lines) in enumerate(keyed):
        (heldout if i < n_heldout else train).extend(sorted(lines))
    for line in heldout + train:
        assert "\n" not in line and "\t" not in line and line == line.strip(), line
    return train, heldout


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")


# ---------------------------------------------------------------------------------- tokenizer

def train_tokenizer(train_lines, vocab_size):
    """Trains byte-fallback BPE; returns a Tokenizer in Llama 2's tokenizer.json layout."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers
    from tokenizers import pre_tokenizers, processors, trainers

    # Training: words split at spaces (each piece starts with U+2581 at most once).
    trainer_tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    trainer_tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=SPACE,
                                                         prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False,
                                  special_tokens=SPECIAL + BYTE_TOKENS)
    trainer_tok.train_from_iterator(train_lines, trainer=trainer)
    state = json.loads(trainer_tok.to_str())
    vocab = state["model"]["vocab"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
              for m in state["model"]["merges"]]
    for i, t in enumerate(SPECIAL + BYTE_TOKENS):
        if vocab.get(t) != i:
            raise RuntimeError(f"trained vocabulary has {t!r} at {vocab.get(t)}, expected {i}")
    for piece in vocab:
        if SPACE in piece[1:]:
            raise RuntimeError(f"trained piece {piece!r} holds U+2581 after its start")

    # Saved: Llama 2's layout (normalizer does the U+2581 work, no pre-tokenizer).
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>",
                               byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend(SPACE),
                                           normalizers.Replace(" ", SPACE)])
    tok.decoder = decoders.Sequence([decoders.Replace(SPACE, " "), decoders.ByteFallback(),
                                     decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", BOS_ID)])

    # The saved tokenizer must give the trainer's ids and decode back to every line.
    for line in train_lines:
        a = trainer_tok.encode(line, add_special_tokens=False).ids
        e = tok.encode(line, add_special_tokens=False)
        if e.ids != a:
            raise RuntimeError(f"saved tokenizer differs from the trainer on {line!r}")
        if tok.decode(e.ids, skip_special_tokens=False) != line:
            raise RuntimeError(f"tokenizer does not round-trip {line!r}")
    return tok


def save_tokenizer(tok, out_dir, model_max_length):
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    added = {str(i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                      "single_word": False, "special": True} for i, t in enumerate(SPECIAL)}
    config = {
        "tokenizer_class": "LlamaTokenizer",
        "add_bos_token": True,
        "add_eos_token": False,
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": None,
        "legacy": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": model_max_length,
        "added_tokens_decoder": added,
    }
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, "special_tokens_map.json"), "w", encoding="utf-8") as f:
        json.dump({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}, f, indent=2)
        f.write("\n")


# -------------------------------------------------------------------------------------- model

def make_config(args, vocab_size):
    from transformers import LlamaConfig
    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=args.hidden,
        intermediate_size=args.intermediate,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        num_key_value_heads=args.kv_heads,
        hidden_act="silu",
        max_position_embeddings=args.seq_len,
        rms_norm_eps=1e-5,
        rope_theta=10000.0,
        tie_word_embeddings=True,
        bos_token_id=BOS_ID,
        eos_token_id=EOS_ID,
        pad_token_id=None,
        attention_bias=False,
        attention_dropout=0.0,
        initializer_range=0.02,
        use_cache=True,
        torch_dtype="float32",
    )


def lr_at(step, steps, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * t)))


def batches(encoded, seq_len, batch, seed):
    """Yields [batch, seq_len] LongTensors forever: lines shuffled per epoch, packed, cut."""
    import torch
    epoch = 0
    while True:
        g = torch.Generator().manual_seed(seed * 1000003 + epoch)
        order = torch.randperm(len(encoded), generator=g).tolist()
        stream = []
        for i in order:
            stream.extend(encoded[i])
        n_blocks = len(stream) // seq_len
        blocks = torch.tensor(stream[:n_blocks * seq_len], dtype=torch.long).view(n_blocks, seq_len)
        for b in range(0, n_blocks - batch + 1, batch):
            yield epoch, blocks[b:b + batch]
        epoch += 1


def train_model(args, config, encoded):
    import torch
    from transformers import LlamaForCausalLM

    torch.manual_seed(args.seed)
    model = LlamaForCausalLM(config)
    model.train()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    warmup = max(1, args.steps // 50)
    it = batches(encoded, args.seq_len, args.batch, args.seed)
    t0 = time.time()
    running, epoch = None, 0
    for step in range(args.steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, args.steps, args.lr, warmup)
        epoch, x = next(it)
        loss = model(input_ids=x, labels=x).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % args.log_every == 0 or step == args.steps - 1:
            el = time.time() - t0
            log(f"step {step}/{args.steps} epoch {epoch} loss {running:.4f} "
                f"lr {opt.param_groups[0]['lr']:.2e} {el:.0f} s "
                f"({(step + 1) * args.batch * args.seq_len / el:.0f} tokens/s)")
    return model, time.time() - t0, epoch, running


# --------------------------------------------------------------------------------- evaluation

def score_lines(model, tokenizer, lines, max_len, batch=32):
    """Returns (sum of NLL in nats, tokens scored, lines cut to max_len) over <s> line </s>."""
    import torch
    nll, count, cut = 0.0, 0, 0
    model.eval()
    with torch.no_grad():
        for b in range(0, len(lines), batch):
            seqs = []
            for line in lines[b:b + batch]:
                ids = tokenizer(line)["input_ids"] + [tokenizer.eos_token_id]
                if len(ids) > max_len:
                    ids, cut = ids[:max_len], cut + 1
                seqs.append(ids)
            width = max(len(s) for s in seqs)
            x = torch.zeros(len(seqs), width, dtype=torch.long)
            mask = torch.zeros(len(seqs), width, dtype=torch.long)
            labels = torch.full((len(seqs), width), -100, dtype=torch.long)
            for i, s in enumerate(seqs):
                x[i, :len(s)] = torch.tensor(s)
                mask[i, :len(s)] = 1
                labels[i, :len(s)] = torch.tensor(s)
            out = model(input_ids=x, attention_mask=mask, labels=labels)
            n = int((labels[:, 1:] != -100).sum())  # transformers shifts labels by one
            nll += out.loss.item() * n
            count += n
    return nll, count, cut


def unigram_baseline(tokenizer, encoded_train, heldout_lines, max_len):
    """Perplexity of add-one-smoothed training token frequencies on the scored held-out tokens
    (encoded_train: the training lines as <s> ids </s>; <s> is never predicted)."""
    vocab = len(tokenizer)
    counts = [1] * vocab
    total = vocab
    for ids in encoded_train:
        for t in ids[1:]:
            counts[t] += 1
            total += 1
    nll, n = 0.0, 0
    for line in heldout_lines:
        ids = (tokenizer(line)["input_ids"] + [tokenizer.eos_token_id])[:max_len]
        for t in ids[1:]:
            nll -= math.log(counts[t] / total)
            n += 1
    return math.exp(nll / n), n


def greedy_samples(model, tokenizer, prompts, max_new_tokens):
    import torch
    out = []
    with torch.no_grad():
        for p in prompts:
            enc = tokenizer(p, return_tensors="pt")
            gen = model.generate(**enc, do_sample=False, max_new_tokens=max_new_tokens,
                                 pad_token_id=tokenizer.eos_token_id)
            out.append({"prompt": p, "ids": gen[0].tolist(),
                        "text": tokenizer.decode(gen[0], skip_special_tokens=True)})
    return out


# --------------------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--corpus-only", action="store_true",
                    help="write OUT_DIR/train.txt and OUT_DIR/heldout.txt and stop")
    ap.add_argument("--wordnet-dir", default=WORDNET_DIR)
    ap.add_argument("--heldout", type=int, default=2000, help="held-out glosses")
    ap.add_argument("--vocab-size", type=int, default=4096)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--intermediate", type=int, default=640)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--seq-len", type=int, default=128,
                    help="training block length, also max_position_embeddings")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=2400)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--log-every", type=int, default=100)
    args = ap.parse_args()

    if not os.path.exists(os.path.join(args.wordnet_dir, "data.noun")):
        sys.exit(f"train-decoder: {args.wordnet_dir}/data.noun not found "
                 "(apt-get install wordnet-base, see tools/install-deps.sh)")
    if args.kv_heads >= args.heads or args.heads % args.kv_heads or args.hidden % args.heads:
        sys.exit("train-decoder: need kv-heads < heads, kv-heads dividing heads, heads "
                 "dividing hidden")
    os.makedirs(args.out_dir, exist_ok=True)

    t_start = time.time()
    train_lines, heldout_lines = build_corpus(args.wordnet_dir, args.heldout)
    log(f"corpus: {len(train_lines)} training lines, {len(heldout_lines)} held-out lines")
    if args.corpus_only:
        write_lines(os.path.join(args.out_dir, "train.txt"), train_lines)
        write_lines(os.path.join(args.out_dir, "heldout.txt"), heldout_lines)
        return

    # The tokenizers library's BPE trainer runs about 3.5 times slower with parallelism off
    # than on its rayon path restricted to the same number of threads (measured: 12.4 s and
    # 3.6 s on 20,000 lines), so parallelism stays on with --threads threads.
    os.environ["TOKENIZERS_PARALLELISM"] = "true"
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)
    import torch
    import transformers
    import tokenizers
    from transformers import AutoTokenizer, GenerationConfig, LlamaForCausalLM
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)

    t0 = time.time()
    tok = train_tokenizer(train_lines, args.vocab_size)
    save_tokenizer(tok, args.out_dir, args.seq_len)
    t_tok = time.time() - t0
    log(f"tokenizer: {tok.get_vocab_size()} pieces in {t_tok:.1f} s")

    # transformers must load the saved files to the same ids (AutoTokenizer picks
    # LlamaTokenizerFast from tokenizer_config.json).
    hf_tok = AutoTokenizer.from_pretrained(args.out_dir)
    encoded = [tok.encode(line).ids + [EOS_ID] for line in train_lines]
    for line, ids, hf_ids in zip(train_lines, encoded, hf_tok(train_lines)["input_ids"]):
        if hf_ids != ids[:-1] or ids[0] != BOS_ID:
            sys.exit(f"train-decoder: AutoTokenizer gives other ids than tokenizers on {line!r}")
    n_train_tokens = sum(len(e) for e in encoded)
    log(f"training tokens: {n_train_tokens} ({n_train_tokens / len(train_lines):.1f} per line)")

    config = make_config(args, tok.get_vocab_size())
    model, t_train, epochs, final_loss = train_model(args, config, encoded)
    n_params = sum(p.numel() for p in model.parameters())
    model.generation_config = GenerationConfig(bos_token_id=BOS_ID, eos_token_id=EOS_ID)
    model.save_pretrained(args.out_dir, safe_serialization=True)
    log(f"trained {n_params} parameters in {t_train:.0f} s ({args.steps} steps, "
        f"{epochs + 1} epochs begun)")

    # Everything below runs on the saved files, through transformers' own loading path.
    model = LlamaForCausalLM.from_pretrained(args.out_dir)
    hf_tok = AutoTokenizer.from_pretrained(args.out_dir)
    t0 = time.time()
    nll, n, cut = score_lines(model, hf_tok, heldout_lines, args.seq_len)
    ppl = math.exp(nll / n)
    tr_nll, tr_n, _ = score_lines(model, hf_tok, train_lines[:len(heldout_lines)], args.seq_len)
    uni_ppl, uni_n = unigram_baseline(hf_tok, encoded, heldout_lines, args.seq_len)
    assert uni_n == n, (uni_n, n)
    log(f"held-out perplexity {ppl:.2f} over {n} tokens ({cut} lines cut to {args.seq_len}); "
        f"unigram baseline {uni_ppl:.2f}; training-line perplexity {math.exp(tr_nll / tr_n):.2f}"
        f" ({time.time() - t0:.0f} s)")
    held_prompts = [line.split(": ", 1)[0] + ":" for line in heldout_lines[:3]]
    samples = greedy_samples(model, hf_tok, PROMPTS + held_prompts, 40)
    for s in samples:
        log(f"greedy: {s['text']}")

    files = {f: os.path.getsize(os.path.join(args.out_dir, f))
             for f in sorted(os.listdir(args.out_dir)) if f != "train-report.json"}
    report = {
        "command": "tools/train-decoder.py " + " ".join(sys.argv[1:]),
        "args": {k: v for k, v in vars(args).items() if k != "out_dir"},
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "tokenizers": tokenizers.__version__},
        "corpus": {"train_lines": len(train_lines), "heldout_lines": len(heldout_lines),
                   "train_tokens": n_train_tokens,
                   "train_sha1": _hash("\n".join(train_lines)),
                   "heldout_sha1": _hash("\n".join(heldout_lines))},
        "parameters": n_params,
        "train_seconds": round(t_train, 1),
        "tokenizer_seconds": round(t_tok, 1),
        "total_seconds": round(time.time() - t_start, 1),
        "epochs_begun": epochs + 1,
        "final_train_loss_ema": round(final_loss, 4),
        "heldout": {"perplexity": round(ppl, 3), "tokens": n, "lines_cut": cut,
                    "unigram_perplexity": round(uni_ppl, 3),
                    "train_lines_perplexity": round(math.exp(tr_nll / tr_n), 3)},
        "greedy_samples": samples,
        "file_bytes": files,
    }
    with open(os.path.join(args.out_dir, "train-report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    log(f"wrote {args.out_dir} ({sum(files.values())} bytes) in {time.time() - t_start:.0f} s")


if __name__ == "__main__":
    main()
