"""heed's BPE tokenizers against Hugging Face `tokenizers` 0.19.1, id for id and byte for byte.

Two tokenizers are trained here with `tokenizers` itself (tools/make-bpe-tokenizers.py: WordNet
glosses and the .mo catalogs, no hub): a GPT-2-style byte-level BPE and a Llama-style BPE with
byte fallback. heed's side is heed-tokenizer-tool (next to $HEED_BIN, or $HEED_TOKENIZER_TOOL):
tokenizer.json -> the converter's reader -> a tokenizer-only .heed -> the runtime's loader and
tokenizer, so the whole path a model file takes is tested without a decoder graph.

Checked per tokenizer: ids of every WordNet and i18n corpus sentence plus edge cases (invalid
UTF-8, whitespace runs, contractions, added tokens inside text); decode and decode with
skip_special_tokens; the streaming decoder (every chunk valid UTF-8 on its own, the chunks
joined equal to HF's decode); decoding random id sequences (byte tokens in valid and invalid
runs); variants of the file (no byte fallback, prefix space, merges as pairs); and files heed
must refuse, naming the field.
"""

import copy
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import HEED_BIN, REPO, HeedCli, record, record_time, stdout_lines

pytestmark = pytest.mark.heed

TOOL = Path(os.environ.get("HEED_TOKENIZER_TOOL") or HEED_BIN.parent / "heed-tokenizer-tool")
# Every 20th corpus line (about 73,000 lines) trains the 32,000-token vocabularies.
TRAIN_EVERY = int(os.environ.get("HEED_BPE_TRAIN_EVERY", "20"))
# A directory that already holds gpt2/ and llama/ from tools/make-bpe-tokenizers.py (skips training).
TRAINED_DIR = os.environ.get("HEED_BPE_DIR")

EDGE_TEXTS = [
    "", " ", "  ", "a", " a", "a ", "  leading and trailing  ", "tabs\tand\tmore\t\t",
    "carriage\rreturn", "it's we're they've I'm you'll he'd don't 'S 'RE 's", "can''t ''",
    "numbers 123 4567 3.14 1,000,000 \u0661\u0662\u0663 \u2163 \u00bd",
    "emoji \U0001F600\U0001F44D\U0001F3FD and \u200d joiners", "mixed\u00a0nbsp\u3000ideographic space",
    "   \t  \u00a0 x", "x   ", "punctuation!!! ??? ... --- ;;; \"quoted\"", "\u2581 already a metaspace \u2581\u2581",
    "<s>", "</s>", "<s>hello</s>", "a<s>b", "<unk>", "<|endoftext|>", "x<|endoftext|>y <|endoftext|> z",
    "<0x41> is text, not a byte token", "\u00ff\u00fe\u0100 byte-map characters", "日本語のテキスト、中文文本。",
    "\u0928\u092e\u0938\u094d\u0924\u0947 \u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd",
    "Ελληνικά Кириллица ქართული", "a" * 3000, "ab " * 500, "\U00010348\U0001F9EA\U000E0041",
]
# Raw byte lines with invalid UTF-8: HF sees Python's errors="replace" decoding of them.
INVALID_UTF8 = [
    b"\xff", b"abc\x80def", b"\xe2\x82", b"\xe2\x82 euro cut", b"\xf0\x9f\x98", b"\xed\xa0\x80 surrogate",
    b"\xc0\xaf overlong", b"\xf4\x90\x80\x80 too big", b"ok \xe2\x82\xac then \xe2", b"\xc3\xa9\xc3",
]


class Tool(HeedCli):
    def lines(self, tok_dir, mode, payloads):
        data = b"".join(p + b"\n" for p in payloads)
        p = self.run(tok_dir, mode, stdin=data)
        out = stdout_lines(p)
        assert len(out) == len(payloads), (len(out), len(payloads), p.stderr[-2000:])
        return [json.loads(line) for line in out]


@pytest.fixture(scope="session")
def tool():
    if not TOOL.is_file() or not os.access(TOOL, os.X_OK):
        pytest.fail(f"heed-tokenizer-tool not found at {TOOL}: build it or set HEED_TOKENIZER_TOOL",
                    pytrace=False)
    return Tool(TOOL)


@pytest.fixture(scope="session")
def trained(work_dir):
    if TRAINED_DIR:
        return Path(TRAINED_DIR)
    out = work_dir / "bpe"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, str(REPO / "tools" / "make-bpe-tokenizers.py"), str(out),
                    "--every", str(TRAIN_EVERY)], check=True, stdout=subprocess.DEVNULL)
    record_time("reference make-bpe-tokenizers.py", time.perf_counter() - t0)
    return out


@pytest.fixture(scope="session", params=["gpt2", "llama"])
def kind(request):
    return request.param


@pytest.fixture(scope="session")
def tok_dir(trained, kind):
    return trained / kind


@pytest.fixture(scope="session")
def hf_tok(tok_dir):
    from tokenizers import Tokenizer
    return Tokenizer.from_file(str(tok_dir / "tokenizer.json"))


@pytest.fixture(scope="session")
def corpus(wordnet, i18n):
    texts = wordnet + i18n
    assert len(texts) >= 1000 and sum(any(ord(c) > 127 for c in t) for t in texts) >= 400
    return texts


@pytest.fixture(scope="session")
def heed_encoded(tool, tok_dir, corpus):
    texts = corpus + EDGE_TEXTS
    t0 = time.perf_counter()
    got = tool.lines(tok_dir, "encode", [t.encode("utf-8") for t in texts])
    record_time(f"heed-tokenizer-tool encode {tok_dir.name} {len(texts)} texts", time.perf_counter() - t0)
    return texts, got


def first_mismatches(hf, texts, want, got, limit=6):
    lines = []
    for t, a, b in [(t, a, b) for t, a, b in zip(texts, want, got) if a != b][:limit]:
        i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
        lines.append(f"text {t[:120]!r}\n  hf   {a[max(0, i - 2):i + 4]} {[hf.id_to_token(x) for x in a[i:i + 3]]}"
                     f"\n  heed {b[max(0, i - 2):i + 4]} {[hf.id_to_token(x) for x in b[i:i + 3]]} (at {i})")
    return "\n".join(lines)


def test_ids_match_hf(hf_tok, heed_encoded, kind):
    texts, got = heed_encoded
    want = [e.ids for e in hf_tok.encode_batch(texts)]
    heed_ids = [g["ids"] for g in got]
    bad = sum(a != b for a, b in zip(want, heed_ids))
    non_ascii = sum(any(ord(c) > 127 for c in t) for t in texts)
    record(f"bpe {kind} ids", texts=len(texts), non_ascii=non_ascii, tokens=sum(map(len, want)), mismatches=bad)
    assert bad == 0, f"{bad} of {len(texts)} texts tokenize differently:\n" + first_mismatches(hf_tok, texts, want, heed_ids)


def check_decoded(hf_tok, ids_list, got, what):
    bad = []
    for ids, g in zip(ids_list, got):
        for key, skip in (("decoded", False), ("decoded_skip", True)):
            want = hf_tok.decode(ids, skip_special_tokens=skip)
            if g[key] != want:
                bad.append(f"{key} of {ids[:12]}...: hf {want[:80]!r} heed {g[key][:80]!r}")
        chunks = [bytes.fromhex(c) for c in g["stream"]]
        for c in chunks:
            try:
                c.decode("utf-8")
            except UnicodeDecodeError:
                bad.append(f"stream chunk {c!r} of {ids[:12]}... is not valid UTF-8 by itself")
        joined = b"".join(chunks).decode("utf-8")
        if joined != g["decoded"]:
            bad.append(f"stream of {ids[:12]}... joins to {joined[:80]!r}, decode gives {g['decoded'][:80]!r}")
    record(f"bpe {what}", sequences=len(ids_list), mismatches=len(bad))
    assert not bad, f"{len(bad)} differences:\n" + "\n".join(bad[:8])


def test_decode_and_stream_match_hf(hf_tok, heed_encoded, kind):
    texts, got = heed_encoded
    check_decoded(hf_tok, [g["ids"] for g in got], got, f"{kind} decode of corpus ids")


def test_decode_random_ids(tool, tok_dir, hf_tok, kind):
    """Random ids, with runs of byte tokens (valid and invalid UTF-8) and special tokens."""
    rng = random.Random(7)
    vocab = hf_tok.get_vocab()
    n = hf_tok.get_vocab_size()
    if kind == "llama":
        byte_ids = [vocab["<0x%02X>" % b] for b in range(256)]
    else:  # single-character tokens: one byte each
        byte_ids = [i for t, i in vocab.items() if len(t) == 1]
    utf8_ids = []  # the byte tokens of real multi-byte characters
    for ch in "é€日本😀ß":
        if kind == "llama":
            utf8_ids.append([vocab["<0x%02X>" % b] for b in ch.encode()])
    seqs = []
    for _ in range(600):
        seq = []
        for _ in range(rng.randint(0, 24)):
            r = rng.random()
            if r < 0.45:
                seq.append(rng.choice(byte_ids))
            elif r < 0.55 and utf8_ids:
                seq.extend(rng.choice(utf8_ids))
            elif r < 0.6:
                seq.append(rng.randrange(3) if kind == "llama" else 0)
            else:
                seq.append(rng.randrange(n))
        seqs.append(seq)
    seqs.append([])
    got = tool.lines(tok_dir, "decode", [" ".join(map(str, s)).encode() for s in seqs])
    check_decoded(hf_tok, seqs, got, f"{kind} decode of random ids")


def test_invalid_utf8_input(tool, tok_dir, hf_tok):
    got = tool.lines(tok_dir, "encode", INVALID_UTF8)
    want = [hf_tok.encode(b.decode("utf-8", errors="replace")).ids for b in INVALID_UTF8]
    assert [g["ids"] for g in got] == want


def test_heed_tokenize_cli_on_a_bpe_model(tool, tok_dir, hf_tok, heed, tmp_path, corpus, kind):
    """`heed tokenize` on a model file whose tokenizer is BPE (tiny random encoder graph)."""
    model = tmp_path / f"tiny-{kind}.heed"
    tool.run(tok_dir, "tiny-model", model)
    texts = corpus[::7] + [t for t in EDGE_TEXTS if t]
    lines, _ = heed.per_line("tokenize", model, texts)
    got = [[int(x) for x in line.split(" ")] if line else [] for line in lines]
    want = [e.ids for e in hf_tok.encode_batch(texts)]
    bad = sum(a != b for a, b in zip(want, got))
    record(f"bpe {kind} heed tokenize", texts=len(texts), mismatches=bad)
    assert bad == 0, first_mismatches(hf_tok, texts, want, got)


def write_variant(base_dir, out_dir, edit):
    j = json.loads((base_dir / "tokenizer.json").read_text(encoding="utf-8"))
    edit(j)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "tokenizer.json").write_text(json.dumps(j, ensure_ascii=False), encoding="utf-8")
    return out_dir


def compare_variant(tool, variant_dir, hf_dir, texts):
    from tokenizers import Tokenizer
    hf = Tokenizer.from_file(str(hf_dir / "tokenizer.json"))
    got = tool.lines(variant_dir, "encode", [t.encode("utf-8") for t in texts])
    want = [e.ids for e in hf.encode_batch(texts)]
    bad = [(t, a, b["ids"]) for t, a, b in zip(texts, want, got) if a != b["ids"]]
    assert not bad, f"{len(bad)} of {len(texts)} differ, first: {bad[0]}"
    for ids, g in zip(want, got):
        assert g["decoded"] == hf.decode(ids, skip_special_tokens=False)
    return len(texts)


def test_llama_without_byte_fallback_uses_unk(tool, trained, tmp_path, i18n):
    def edit(j):
        j["model"]["byte_fallback"] = False
    d = write_variant(trained / "llama", tmp_path / "nofallback", edit)
    texts = i18n + EDGE_TEXTS
    got = tool.lines(d, "encode", [t.encode() for t in texts])
    assert sum(0 in g["ids"] for g in got) > 0  # some <unk> (id 0)
    compare_variant(tool, d, d, texts)


def test_llama_unfused_unk(tool, trained, tmp_path, i18n):
    def edit(j):
        j["model"]["byte_fallback"] = False
        j["model"]["fuse_unk"] = False
    d = write_variant(trained / "llama", tmp_path / "unfused", edit)
    compare_variant(tool, d, d, i18n[:200] + EDGE_TEXTS)


def test_gpt2_add_prefix_space(tool, trained, tmp_path, wordnet):
    def edit(j):
        j["pre_tokenizer"]["add_prefix_space"] = True
    d = write_variant(trained / "gpt2", tmp_path / "prefix", edit)
    compare_variant(tool, d, d, wordnet[:300] + EDGE_TEXTS)


@pytest.mark.parametrize("name", ["gpt2", "llama"])
def test_merges_as_pairs(tool, trained, tmp_path, name, i18n):
    """Newer tokenizer.json files list merges as [a, b]; heed reads both forms the same."""
    def edit(j):
        j["model"]["merges"] = [m.split(" ") for m in j["model"]["merges"]]
    d = write_variant(trained / name, tmp_path / f"pairs-{name}", edit)
    compare_variant(tool, d, trained / name, i18n[:200] + EDGE_TEXTS)


def test_ignore_merges(tool, trained, tmp_path, wordnet):
    def edit(j):
        j["model"]["ignore_merges"] = True
    d = write_variant(trained / "gpt2", tmp_path / "ignore", edit)
    compare_variant(tool, d, d, wordnet[:300] + EDGE_TEXTS)


REFUSED = [
    ("dropout", lambda j: j["model"].__setitem__("dropout", 0.1), "model.dropout"),
    ("prefix", lambda j: j["model"].__setitem__("continuing_subword_prefix", "##"), "model.continuing_subword_prefix"),
    ("suffix", lambda j: j["model"].__setitem__("end_of_word_suffix", "</w>"), "model.end_of_word_suffix"),
    ("metaspace", lambda j: j.__setitem__("pre_tokenizer", {"type": "Metaspace", "replacement": "\u2581",
                                                            "prepend_scheme": "always", "split": True}),
     "pre_tokenizer.type"),
    ("nfc", lambda j: j.__setitem__("normalizer", {"type": "NFC"}), "normalizer"),
    ("decoder", lambda j: j.__setitem__("decoder", None), "decoder"),
    ("lstrip", lambda j: j["added_tokens"][0].__setitem__("lstrip", True), "lstrip"),
    ("bad merge", lambda j: j["model"]["merges"].__setitem__(5, "qqqq zzzz"), "model.merges[5]"),
    ("merge one token", lambda j: j["model"]["merges"].__setitem__(0, "ab"), "model.merges[0]"),
    ("unk", lambda j: j["model"].__setitem__("unk_token", "<nope>"), "model.unk_token"),
    ("template", lambda j: j.__setitem__("post_processor", {"type": "BertProcessing", "sep": ["</s>", 2],
                                                            "cls": ["<s>", 1]}), "post_processor.type"),
    ("vocab hole", lambda j: j["model"]["vocab"].__setitem__("<s>", 10 ** 6), "model.vocab"),
]


@pytest.mark.parametrize("name,edit,field", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_files_name_the_field(tool, trained, tmp_path, name, edit, field):
    d = write_variant(trained / "llama", tmp_path / name.replace(" ", "-"), edit)
    p = tool.run(d, "info", check=False)
    err = p.stderr.decode("utf-8", errors="replace")
    assert p.returncode == 1, (p.returncode, err)
    assert field in err, err
