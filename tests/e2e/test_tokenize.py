"""heed tokenize against the Hugging Face fast tokenizer (truncation to 256 tokens)."""

import pytest

from conftest import parse_ids, parse_json_line, record, stdout_lines

pytestmark = pytest.mark.heed

CLS, SEP = 101, 102


def describe_mismatches(tok, texts, want, got, limit=8):
    lines = []
    for text, a, b in list(zip(texts, want, got))[:limit]:
        i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
        lines.append(
            f"text: {text!r}\n"
            f"  hf   ({len(a)}): {a}\n"
            f"  heed ({len(b)}): {b}\n"
            f"  first difference at {i}: hf {tok.convert_ids_to_tokens(a[i:i + 3])} "
            f"heed {tok.convert_ids_to_tokens([x for x in b[i:i + 3] if x < tok.vocab_size])}")
    return "\n".join(lines)


def compare_ids(tok, texts, want, got, section):
    bad = [(t, a, b) for t, a, b in zip(texts, want, got) if a != b]
    record(section, texts=len(texts), mismatches=len(bad),
           tokens=sum(len(a) for a in want), max_tokens=max(len(a) for a in want))
    if bad:
        t, a, b = zip(*bad)
        pytest.fail(f"{len(bad)} of {len(texts)} texts tokenize differently:\n"
                    + describe_mismatches(tok, t, a, b))


@pytest.fixture(scope="session")
def heed_corpus_ids(heed, minilm_fp32, texts):
    lines, _ = heed.per_line("tokenize", minilm_fp32, texts)
    return [parse_ids(l) for l in lines]


def test_wordnet_ids_match_hf(hf_tokenizer, hf_ids, wordnet, heed_corpus_ids):
    compare_ids(hf_tokenizer, wordnet, hf_ids(wordnet), heed_corpus_ids[:len(wordnet)],
                "tokenize wordnet")


def test_i18n_ids_match_hf(hf_tokenizer, hf_ids, wordnet, i18n, heed_corpus_ids):
    compare_ids(hf_tokenizer, i18n, hf_ids(i18n), heed_corpus_ids[len(wordnet):],
                "tokenize i18n")


def test_int8_model_tokenizes_the_same(heed, minilm_int8, texts, heed_corpus_ids):
    sample = texts[::10]
    lines, _ = heed.per_line("tokenize", minilm_int8, sample)
    assert [parse_ids(l) for l in lines] == heed_corpus_ids[::10]


def test_text_arguments_and_json(heed, minilm_fp32, hf_ids, i18n, wordnet):
    """Texts given as arguments; --json prints one JSON array per line with the same ids."""
    sample = [wordnet[0], i18n[0], i18n[-1], "Hello, World!"]
    plain = heed.run("tokenize", minilm_fp32, *sample)
    as_json = heed.run("tokenize", minilm_fp32, *sample, "--json")
    want = hf_ids(sample)
    assert [parse_ids(l) for l in stdout_lines(plain)] == want
    assert [parse_json_line(l) for l in stdout_lines(as_json)] == want


def test_empty_text(heed, minilm_fp32):
    p = heed.run("tokenize", minilm_fp32, "")
    assert [parse_ids(l) for l in stdout_lines(p)] == [[CLS, SEP]]
    lines, _ = heed.per_line("tokenize", minilm_fp32, ["", "a", ""])
    assert [parse_ids(l) for l in lines] == [[CLS, SEP], [CLS, 1037, SEP], [CLS, SEP]]


def test_long_text_is_truncated(heed, minilm_fp32, hf_ids, long_text, max_seq):
    assert len(long_text.split()) == 20000
    lines, _ = heed.per_line("tokenize", minilm_fp32, [long_text])
    got = parse_ids(lines[0])
    want = hf_ids([long_text])[0]
    assert len(want) == max_seq and want[-1] == SEP
    assert got == want, f"hf {want[-8:]} heed ({len(got)} ids) ...{got[-8:]}"


INVALID_UTF8 = [
    b"caf\xc3 au lait",                      # lead byte without its continuation
    b"\xff\xfe\xfd",                          # bytes that never occur in UTF-8
    b"abc\xe2\x82",                           # truncated sequence at the end
    b"\xe2\x82abc",                           # truncated sequence at the start
    b"over\xc0\xaflong slash",                # overlong encoding of '/'
    b"surrogate \xed\xa0\x80 half",           # encoded UTF-16 surrogate
    b"beyond \xf4\x90\x80\x80 U+10FFFF",      # code point past the Unicode range
    b"lone \x80\x80\x80 continuations",
    b"half an emoji \xf0\x9f\x98 here",
    b"whole emoji \xf0\x9f\x98\x80 here",
    b"mixed \xce\xb1\xce\xb2\xce \xce\xb3 greek",
    b"Stra\xdfe latin-1 text",                # Latin-1, not UTF-8
    b"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa",      # Japanese cut in the middle of a character
]


def assert_stdin_ids_match_hf(heed, model, hf_tokenizer, hf_ids, inputs, texts, what):
    """heed tokenize on `inputs` (stdin) gives HF's ids for `texts` (the same strings as HF sees them)."""
    lines, _ = heed.per_line("tokenize", model, inputs)
    got = [parse_ids(l) for l in lines]
    want = hf_ids(texts)
    bad = [(t, a, b) for t, a, b in zip(texts, want, got) if a != b]
    if bad:
        t, a, b = zip(*bad)
        pytest.fail(f"{len(bad)} of {len(texts)} {what} differ:\n"
                    + describe_mismatches(hf_tokenizer, t, a, b))


def test_invalid_utf8_on_stdin(heed, minilm_fp32, hf_tokenizer, hf_ids):
    """Ids equal HF's on bytes.decode('utf-8', errors='replace')."""
    decoded = [b.decode("utf-8", errors="replace") for b in INVALID_UTF8]
    assert_stdin_ids_match_hf(heed, minilm_fp32, hf_tokenizer, hf_ids, INVALID_UTF8, decoded,
                              "invalid UTF-8 lines")


CONTROL_AND_SPACES = [
    "nul\x00inside",
    "bell\x07and\x1bescape",
    "carriage\rreturn",                       # only '\n' separates texts
    "vertical\x0btab and\x0cform feed",
    "delete\x7fchar",
    "zero\u200bwidth space and soft\u00adhyphen",
    "no-break\u00a0space and ideographic\u3000space",
    "line\u2028separator and paragraph\u2029separator and next\u0085line",
    "combining e\u0301 and precomposed \u00e9",
    "\ufeffbyte order mark",
    "   leading and trailing spaces   ",
    "\u0130stanbul \u0049\u0307 dotted capitals",
    "ligature \ufb01ne and fullwidth \uff21\uff22\uff23",
    "CJK \u4e2d\u6587 mixed with Latin",
    "emoji \U0001F600 and math \U0001D400",
]


def test_control_characters_and_unicode_spaces(heed, minilm_fp32, hf_tokenizer, hf_ids):
    assert_stdin_ids_match_hf(heed, minilm_fp32, hf_tokenizer, hf_ids, CONTROL_AND_SPACES,
                              CONTROL_AND_SPACES, "lines")
