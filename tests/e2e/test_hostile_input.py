"""Hostile input, class by class (docs/SECURITY.md): checkpoints, configs, tokenizers, paths,
texts, flags and environment that once crashed, hung, ate memory, overwrote a file or misled.

Each test runs the real `heed` binary. Memory is measured per process (os.wait4's rusage), and
every heed call has a timeout, so a hang fails the test instead of the run. Tokenizer cases are
judged against Hugging Face `tokenizers` itself: where it loads a tokenizer.json, heed either
gives the same ids or refuses with a message; where it refuses, heed refuses too.
"""

import json
import os
import shutil
import stat
import struct
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest

from conftest import HEED_BIN, parse_floats, stdout_lines

pytestmark = pytest.mark.heed

QUERY_W = "bert.encoder.layer.0.attention.self.query.weight"
KEY_W = "bert.encoder.layer.0.attention.self.key.weight"
SAMPLE = ["A man is playing a guitar.", "hello world", "Crème brûlée, naïve café!", "[CLS] inside [SEP] text",
          "unaffable unbelievable antidisestablishmentarianism", "東京は日本の首都です。", "  spaced   out  "]


# ------------------------------------------------------------------------------------ helpers

def run_measured(args, stdin=b"", timeout=120, env=None, prefix=()):
    """Runs heed; returns (returncode, stdout, stderr, peak RSS in MiB of the heed process).

    The peak RSS comes from GNU time, which forks a small process to exec heed: a child forked
    from this (large) Python process would count Python's pages as its own."""
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        cmd = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *prefix, str(HEED_BIN), *(str(a) for a in args)]
        shown = " ".join(cmd[5:])
        # Own process group: on a timeout, heed (time's child) is killed too.
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                             start_new_session=True)
        try:
            out, err = p.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            p.communicate()
            pytest.fail(f"{shown} did not finish within {timeout} s")
        err = err.decode("utf-8", errors="replace")
        report = rss_file.read_text().strip().split("\n")  # ["Command ... status N" or "... signal N",] RSS
        if "terminated by signal" in report[0]:
            pytest.fail(f"{shown} was killed: {report[0]}\n{err}")
        return p.returncode, out, err, int(report[-1]) / 1024


def copy_dir(src, dst):
    shutil.copytree(src, dst)
    return Path(dst)


def edit_json(path, fn):
    d = json.loads(Path(path).read_text())
    fn(d)
    Path(path).write_text(json.dumps(d, indent=1))


def rewrite_tensors(d, fn):
    from safetensors.numpy import load_file, save_file
    t = load_file(str(d / "model.safetensors"))
    fn(t)
    save_file(t, str(d / "model.safetensors"), metadata={"format": "pt"})


def convert_fails(heed, d, out, *extra, timeout=120):
    rc, _, err, rss = run_measured(["convert", d, "-o", out, "-q", *extra], timeout=timeout)
    assert rc == 1, f"convert exited {rc}\n{err}"
    assert err.strip()
    assert not Path(out).exists(), "a failed conversion left an output file"
    return err, rss


@pytest.fixture(scope="session")
def tiny_dir(tiny_dirs):
    return tiny_dirs("float32")


@pytest.fixture
def tiny(tiny_dir, tmp_path):
    """A fresh copy of the tiny classifier checkpoint to break."""
    return copy_dir(tiny_dir, tmp_path / "ckpt")


@pytest.fixture(scope="session")
def tiny_fp32(tiny_heed):
    return tiny_heed("float32", "fp32")


# ------------------------------------------------------------------------------------ 1. sizes from a file

def test_num_labels_bomb_is_refused_before_allocating(heed, tiny, tmp_path):
    """num_labels 10^12 without id2label once built label strings until bad_alloc (exit 134, 2.1 GB)."""
    def f(c):
        c.pop("id2label", None)
        c.pop("label2id", None)
        c["num_labels"] = 10 ** 12
    edit_json(tiny / "config.json", f)
    err, rss = convert_fails(heed, tiny, tmp_path / "out.heed", "--precision", "fp32")
    assert "num_labels" in err and "1000000000000" in err and "1..65536" in err, err
    assert rss < 200, f"peak RSS {rss:.0f} MiB"


def test_safetensors_header_value_bomb_is_capped(heed, tiny, tmp_path):
    """A 30 MB header of 15 M JSON values once peaked at 1.26 GB: the value cap stops it early."""
    n = 15_000_000
    header = b'{"x": {"dtype": "F32", "shape": [' + b",".join([b"0"] * n) + b'], "data_offsets": [0, 0]}}'
    (tiny / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)
    err, rss = convert_fails(heed, tiny, tmp_path / "out.heed", "--precision", "fp32")
    assert "model.safetensors" in err and "values" in err, err
    assert rss < 300, f"peak RSS {rss:.0f} MiB"


def test_tokenizer_json_value_bomb_is_capped(heed, tiny, tmp_path):
    (tiny / "tokenizer.json").write_bytes(b"[" + b",".join([b"0"] * 6_000_000) + b"]")
    err, rss = convert_fails(heed, tiny, tmp_path / "out.heed", "--precision", "fp32")
    assert "tokenizer.json" in err and "values" in err, err
    assert rss < 500, f"peak RSS {rss:.0f} MiB"


def test_allocation_failure_is_an_error_not_an_abort(heed, model_dir, minilm_fp32, tmp_path):
    """With too little address space for the job, heed says so and exits 1 (no abort, no signal)."""
    limit = ["prlimit", f"--as={300 << 20}"]
    rc, _, err, _ = run_measured(["convert", model_dir, "-o", tmp_path / "m.heed", "--precision", "fp32", "-q"],
                                 prefix=limit)
    assert rc == 1 and "memory" in err.lower(), (rc, err)
    rc, _, err, _ = run_measured(["embed", minilm_fp32, "hello"], prefix=["prlimit", f"--as={60 << 20}"])
    assert rc == 1 and "memory" in err.lower(), (rc, err)


# ------------------------------------------------------------------------------------ 2. non-regular inputs

@pytest.fixture
def fifo(tmp_path):
    p = tmp_path / "fifo"
    os.mkfifo(p)
    return p


@pytest.mark.parametrize("command", ["embed", "classify", "tokenize", "inspect", "bench"])
def test_model_on_a_fifo_does_not_block(command, heed, fifo):
    args = [command, fifo] + (["hello"] if command in ("embed", "classify", "tokenize") else [])
    rc, _, err, _ = run_measured(args, timeout=30)
    assert rc == 1 and "not a regular file" in err, err


@pytest.mark.parametrize("what", ["fifo", "/dev/zero", "directory"])
def test_calibration_file_must_be_regular(what, heed, tiny, fifo, tmp_path):
    calib = {"fifo": fifo, "/dev/zero": "/dev/zero", "directory": tmp_path}[what]
    err, rss = convert_fails(heed, tiny, tmp_path / "out.heed", "--calib", calib, timeout=30)
    assert "not a regular file" in err, err
    assert rss < 200


def test_calibration_file_size_is_capped(heed, tiny, tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(1 << 30)  # sparse: costs nothing unless read
    err, _ = convert_fails(heed, tiny, tmp_path / "out.heed", "--calib", big, timeout=30)
    assert "cap" in err and str(big) in err, err


@pytest.mark.parametrize("name", ["config.json", "tokenizer.json", "model.safetensors"])
@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_checkpoint_file_that_is_not_regular_is_named_as_such(name, kind, heed, tiny, tmp_path):
    (tiny / name).unlink()
    if kind == "fifo":
        os.mkfifo(tiny / name)
    else:
        (tiny / name).mkdir()
    rc, _, err, _ = run_measured(["convert", tiny, "-o", tmp_path / "out.heed", "-q"], timeout=30)
    assert rc == 1, err
    assert name in err and "not a regular file" in err and "missing" not in err, err


# ------------------------------------------------------------------------------------ 3. streaming stdin

class Streamer:
    """heed reading a pipe we feed line by line; reads its stdout line by line."""

    def __init__(self, *args):
        self.p = subprocess.Popen([str(HEED_BIN), *(str(a) for a in args)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def readline(self, timeout=30):
        box = []
        t = threading.Thread(target=lambda: box.append(self.p.stdout.readline()), daemon=True)
        t.start()
        t.join(timeout)
        if not box:
            self.p.kill()
            pytest.fail("no output line within %d s: stdin is not streamed" % timeout)
        return box[0]

    def rss_mib(self):
        for line in Path(f"/proc/{self.p.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


@pytest.mark.parametrize("command", ["embed", "tokenize"])
def test_stdin_is_streamed_line_by_line(command, heed, minilm_fp32):
    """Each result is printed and flushed before the next line is read: an interactive pipe works."""
    s = Streamer(command, minilm_fp32)
    try:
        for text in ("hello world", "A man is playing a guitar."):
            s.p.stdin.write(text.encode() + b"\n")
            s.p.stdin.flush()
            line = s.readline()
            assert line.endswith(b"\n") and len(line) > 3
        s.p.stdin.close()
        assert s.p.wait(timeout=30) == 0
    finally:
        s.close()


def test_endless_stdin_streams_in_bounded_memory(heed, minilm_fp32):
    """`yes hello | heed embed M` once printed nothing and grew past 1 GB."""
    s = Streamer("embed", minilm_fp32)
    stop = threading.Event()

    def feed():
        try:
            while not stop.is_set():
                s.p.stdin.write(b"hello\n" * 512)
        except (BrokenPipeError, ValueError, OSError):
            pass
    t = threading.Thread(target=feed, daemon=True)
    t.start()
    try:
        first = s.readline()
        assert first.count(b" ") == 383
        for _ in range(200):
            assert s.readline().count(b" ") == 383
        rss = s.rss_mib()
        assert rss < 120, f"RSS {rss:.0f} MiB after 200 lines of endless input"
    finally:
        stop.set()
        s.close()


def test_line_longer_than_the_cap_is_an_error_naming_it(heed, minilm_fp32):
    texts = b"first line\n" + b"x" * (2 << 20) + b"\nthird\n"
    rc, out, err, rss = run_measured(["embed", minilm_fp32], stdin=texts)
    assert rc == 1
    assert "stdin line 2: longer than 1048576 bytes (--max-line-bytes)" in err, err
    assert len(out.splitlines()) == 1, "the line before the long one is printed"
    rc, out, err, _ = run_measured(["embed", minilm_fp32, "--max-line-bytes", 3 << 20], stdin=texts)
    assert rc == 0, err
    assert len(out.splitlines()) == 3


# ------------------------------------------------------------------------------------ 4. threads

def test_threads_are_capped_at_the_cpus(heed, minilm_fp32):
    cpus = len(os.sched_getaffinity(0))
    rc, out1, err1, _ = run_measured(["embed", minilm_fp32, "hello world", "--threads", "1"])
    rc2, out256, err256, _ = run_measured(["embed", minilm_fp32, "hello world", "--threads", "256"], timeout=60)
    assert rc == 0 and rc2 == 0, err256
    assert f"--threads 256 capped at the {cpus} CPUs available" in err256, err256
    assert out1 == out256
    rc, out, err, _ = run_measured(["bench", minilm_fp32, "--seq", "16", "--iters", "2", "--threads", "256",
                                    "--json"], timeout=120)
    assert rc == 0, err
    b = json.loads(out)
    assert b["threads"] == min(cpus, 256) and b["threads_requested"] == 256
    # With one CPU allowed, one thread.
    rc, out, err, _ = run_measured(["bench", minilm_fp32, "--seq", "16", "--iters", "2", "--threads", "8",
                                    "--json"], prefix=["taskset", "-c", "0"])
    assert rc == 0 and json.loads(out)["threads"] == 1, err


# ------------------------------------------------------------------------------------ 5. strict flags

@pytest.mark.parametrize("command,flag,value", [
    ("bench", "--iters", " -1"),
    ("bench", "--iters", "-1"),
    ("bench", "--iters", "0"),
    ("bench", "--iters", "+5"),
    ("bench", "--iters", "5 "),
    ("bench", "--iters", "1e3"),
    ("bench", "--iters", "0x10"),
    ("bench", "--threads", "4294967297"),
    ("bench", "--threads", "257"),
    ("bench", "--threads", "0"),
    ("bench", "--seq", "12abc"),
    ("bench", "--seq", "1"),
    ("bench", "--seq", "99999999999999999999999"),
    ("bench", "--warmup", ""),
    ("embed", "--threads", "-3"),
    ("embed", "--max-seq", "٣"),
    ("embed", "--max-line-bytes", "0"),
    ("tokenize", "--max-line-bytes", "9999999999999"),
])
def test_numeric_flags_are_parsed_strictly(command, flag, value, heed, minilm_fp32):
    rc, _, err, _ = run_measured([command, minilm_fp32, flag, value] + (["hi"] if command != "bench" else []),
                                 timeout=30)
    assert rc == 2, f"{flag} {value!r} accepted (exit {rc})\n{err}"
    assert f"{flag}: '" in err and "is not an integer in" in err, err


@pytest.mark.parametrize("value,code", [("bogus", "unknown ISA 'bogus'"), ("AVX2", "unknown ISA"),
                                        ("neon" if os.uname().machine == "x86_64" else "avx2",
                                         "not supported by this CPU")])
@pytest.mark.parametrize("command", ["embed", "bench"])
def test_heed_isa_is_never_silently_ignored(value, code, command, heed, minilm_fp32):
    env = dict(os.environ, HEED_ISA=value)
    rc, _, err, _ = run_measured([command, minilm_fp32] + (["hi"] if command == "embed" else ["--iters", "1"]),
                                 env=env, timeout=60)
    assert rc == 1 and "HEED_ISA" in err and code in err, err


def test_heed_isa_scalar_works(heed, minilm_fp32):
    rc, out, err, _ = run_measured(["bench", minilm_fp32, "--seq", "8", "--iters", "1", "--json"],
                                   env=dict(os.environ, HEED_ISA="scalar"))
    assert rc == 0 and json.loads(out)["isa"] == "scalar", err


# ------------------------------------------------------------------------------------ 6. non-finite results

@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_weights_that_overflow_are_a_conversion_error_naming_the_layer(precision, heed, tiny, tmp_path):
    """Finite but huge Q and K weights make every attention score infinite (PyTorch gives NaN too)."""
    def f(t):
        t[QUERY_W] = t[QUERY_W] * np.float32(1e20)
        t[KEY_W] = t[KEY_W] * np.float32(1e20)
    rewrite_tensors(tiny, f)
    err, _ = convert_fails(heed, tiny, tmp_path / "out.heed", "--precision", precision)
    assert "layer 'layer.0." in err and "overflow" in err and "calibration text 1" in err, err


def test_non_finite_output_at_run_time_is_an_error(heed, tiny, tmp_path, hf_tokenizer):
    """A word whose embedding overflows float: the calibration texts never use it, so the model
    converts; embedding it is an error code, not a line of NaN."""
    word = "zebra"
    wid = hf_tokenizer.convert_tokens_to_ids(word)

    def f(t):
        t["bert.embeddings.word_embeddings.weight"][wid, :] = np.float32(3e38)
    rewrite_tensors(tiny, f)
    out = tmp_path / "zebra.heed"
    rc, _, err, _ = run_measured(["convert", tiny, "-o", out, "--precision", "fp32", "-q"])
    assert rc == 0, err
    rc, stdout, err, _ = run_measured(["classify", out, "a cat", word])
    assert rc == 1, stdout
    assert "argument 2" in err and ("NaN" in err or "infinite" in err), err
    assert len(stdout.splitlines()) == 1  # the first text was fine


# ------------------------------------------------------------------------------------ 7. output files

def test_planted_symlink_at_the_temp_name_is_not_followed(heed, tiny, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "model.heed"
    os.symlink(victim, str(out) + ".tmp")
    rc, _, err, _ = run_measured(["convert", tiny, "-o", out, "--precision", "fp32", "-q"])
    assert rc == 0, err
    assert victim.read_text() == "precious"
    assert out.stat().st_size > 1000 and out.read_bytes()[4:8] == b"HEED"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt", "model.heed", "model.heed.tmp", "victim.txt"]


@pytest.mark.parametrize("target", ["model.safetensors", "config.json", "tokenizer.json", "link-to-config"])
def test_output_that_is_an_input_is_refused(target, heed, tiny, tmp_path):
    before = {p.name: p.read_bytes() for p in tiny.iterdir() if p.is_file()}
    out = tiny / target
    if target == "link-to-config":
        os.symlink(tiny / "config.json", out)
    rc, _, err, _ = run_measured(["convert", tiny, "-o", out, "--precision", "fp32", "-q"])
    assert rc == 1 and "is the input file" in err, err
    after = {p.name: p.read_bytes() for p in tiny.iterdir() if p.is_file()}
    assert {k: after[k] for k in before} == before


def test_calibration_file_as_output_is_refused(heed, tiny, calib_file, tmp_path):
    calib = tmp_path / "calib.txt"
    shutil.copy(calib_file, calib)
    before = calib.read_bytes()
    rc, _, err, _ = run_measured(["convert", tiny, "-o", calib, "--calib", calib, "-q"])
    assert rc == 1 and "is the input file" in err, err
    assert calib.read_bytes() == before


def test_output_that_is_a_directory_or_fifo_is_refused(heed, tiny, tmp_path, fifo):
    for out in (tmp_path, fifo):
        rc, _, err, _ = run_measured(["convert", tiny, "-o", out, "--precision", "fp32", "-q"], timeout=60)
        assert rc == 1 and "not a regular file" in err, err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


# ------------------------------------------------------------------------------------ 8. tokenizers vs HF

def hf_ids(tokenizer_json, texts):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(tokenizer_json))
    tok.no_padding()
    tok.no_truncation()
    return [tok.encode(t).ids for t in texts]


def heed_ids(heed, model, texts):
    lines, _ = heed.per_line("tokenize", model, texts)
    return [[int(x) for x in line.split()] for line in lines]


def _vocab_float_id(j):
    j["model"]["vocab"]["hello"] = float(j["model"]["vocab"]["hello"])


def _vocab_fraction_id(j):
    j["model"]["vocab"]["hello"] = j["model"]["vocab"]["hello"] + 0.5


def _strip_accents(value):
    def f(j):
        j["normalizer"]["strip_accents"] = value
    return f


def _lowercase_false(j):
    j["normalizer"]["lowercase"] = False


def _max_chars(n):
    def f(j):
        j["model"]["max_input_chars_per_word"] = n
    return f


def _added_flag(flag):
    def f(j):
        j["added_tokens"][2][flag] = True  # [CLS]
    return f


def _added_not_special(j):
    j["added_tokens"][2]["special"] = False


def _post_processor_null(j):
    j["post_processor"] = None


def _post_processor_bert(j):
    j["post_processor"] = {"type": "BertProcessing", "sep": ["[SEP]", 102], "cls": ["[CLS]", 101]}


def _unk_token(j):
    j["model"]["unk_token"] = "[MASK]"


TOKENIZER_CASES = [
    ("float-id", _vocab_float_id), ("fraction-id", _vocab_fraction_id),
    ("strip-accents-yes", _strip_accents("yes")), ("strip-accents-false", _strip_accents(False)),
    ("strip-accents-true", _strip_accents(True)), ("lowercase-false", _lowercase_false),
    ("max-chars-1000", _max_chars(1000)), ("max-chars-5", _max_chars(5)), ("max-chars-float", _max_chars(5.5)),
    ("added-lstrip", _added_flag("lstrip")), ("added-normalized", _added_flag("normalized")),
    ("added-not-special", _added_not_special), ("post-processor-null", _post_processor_null),
    ("post-processor-bert", _post_processor_bert), ("unk-token", _unk_token),
]


@pytest.mark.parametrize("case,edit", TOKENIZER_CASES, ids=[c[0] for c in TOKENIZER_CASES])
def test_tokenizer_json_matches_hf_or_is_refused(case, edit, heed, tiny, tmp_path):
    edit_json(tiny / "tokenizer.json", edit)
    texts = SAMPLE + ["helloworld hello", "a" * 7 + " " + "b" * 120]
    try:
        ref = hf_ids(tiny / "tokenizer.json", texts)
    except Exception as e:  # noqa: BLE001 - whatever HF raises, it refuses the file
        ref = None
        hf_error = str(e)
    out = tmp_path / "t.heed"
    rc, _, err, _ = run_measured(["convert", tiny, "-o", out, "--precision", "fp32", "-q"])
    if ref is None:
        assert rc == 1 and "tokenizer.json" in err, f"HF refuses ({hf_error[:200]}) but heed: {rc} {err}"
        return
    if rc != 0:
        assert rc == 1 and "tokenizer.json" in err and "not supported" in err, err
        return
    assert heed_ids(heed, out, texts) == ref


def test_vocab_txt_duplicate_special_token_uses_the_last_id_like_hf(heed, tiny, tmp_path):
    """With a duplicated [CLS] in vocab.txt Hugging Face uses the last id; so does heed."""
    from transformers import AutoTokenizer
    (tiny / "tokenizer.json").unlink()
    lines = (tiny / "vocab.txt").read_text(encoding="utf-8").split("\n")
    first = lines.index("[CLS]")
    i = next(k for k in range(first + 1, len(lines)) if lines[k].startswith("[unused"))
    lines[i] = "[CLS]"
    (tiny / "vocab.txt").write_text("\n".join(lines), encoding="utf-8")
    tok = AutoTokenizer.from_pretrained(str(tiny))
    assert tok.cls_token_id == i
    out = tmp_path / "dup.heed"
    rc, _, err, _ = run_measured(["convert", tiny, "-o", out, "--precision", "fp32", "-q"])
    assert rc == 0, err
    texts = SAMPLE + ["[CLS] twice [CLS]"]
    ref = [tok(t, truncation=True, max_length=512)["input_ids"] for t in texts]
    assert heed_ids(heed, out, texts) == ref


# ------------------------------------------------------------------------------------ 9. machine-readable output

NASTY_LABELS = ["nul\x00byte", "tab\there", "new\nline", 'quote"back\\slash', "ünïcödé ☃", "cr\rlf", "esc\x1b[31m",
                "eq=sign"]


def unescape(s):
    """Inverse of the CLI's text escaping (tools/heed/cli.h escape_text)."""
    out = bytearray()
    b = s.encode("utf-8")
    i = 0
    while i < len(b):
        if b[i:i + 1] == b"\\":
            c = b[i + 1:i + 2]
            if c == b"x":
                out.append(int(b[i + 2:i + 4], 16))
                i += 4
                continue
            out += {b"\\": b"\\", b"t": b"\t", b"n": b"\n", b"r": b"\r"}[c]
            i += 2
        else:
            out.append(b[i])
            i += 1
    return out.decode("utf-8")


@pytest.fixture(scope="session")
def nasty_classifier(tiny_dirs, heed, tmp_path_factory):
    d = copy_dir(tiny_dirs("float32"), tmp_path_factory.mktemp("nasty") / "ckpt")
    import safetensors.numpy as stn
    t = stn.load_file(str(d / "model.safetensors"))
    h = t["classifier.weight"].shape[1]
    rng = np.random.default_rng(5)
    t["classifier.weight"] = rng.normal(0, 0.2, (len(NASTY_LABELS), h)).astype(np.float32)
    t["classifier.bias"] = rng.normal(0, 0.2, len(NASTY_LABELS)).astype(np.float32)
    stn.save_file(t, str(d / "model.safetensors"), metadata={"format": "pt"})

    def f(c):
        c["id2label"] = {str(i): l for i, l in enumerate(NASTY_LABELS)}
        c["label2id"] = {l: i for i, l in enumerate(NASTY_LABELS)}
    edit_json(d / "config.json", f)
    out = d.parent / "nasty.heed"
    heed.run("convert", d, "-o", out, "--precision", "fp32", "-q")
    return out


def test_classify_labels_survive_json_and_text_output(heed, nasty_classifier):
    texts = SAMPLE
    lines, _ = heed.per_line("classify", nasty_classifier, texts, "--json")
    for line in lines:
        r = json.loads(line)
        assert r["label"] in NASTY_LABELS and len(r["scores"]) == len(NASTY_LABELS)
    lines, _ = heed.per_line("classify", nasty_classifier, texts)
    for line in lines:
        fields = line.split("\t")
        assert len(fields) == 1 + len(NASTY_LABELS), line
        assert unescape(fields[0]) in NASTY_LABELS
        names = [unescape(f.rsplit("=", 1)[0]) for f in fields[1:]]
        assert names == NASTY_LABELS
        assert "\x1b" not in line and "\r" not in line


def test_inspect_labels_survive_json_and_text_output(heed, nasty_classifier):
    p = heed.run("inspect", nasty_classifier, "--json")
    assert json.loads(p.stdout)["labels"] == NASTY_LABELS
    text = heed.run("inspect", nasty_classifier).stdout.decode("utf-8")
    label_line = [l for l in text.split("\n") if l.startswith("  labels")][0]
    assert [unescape(x) for x in label_line.split(None, 1)[1].split("\t")] == NASTY_LABELS
    assert "\x1b" not in text and "\x00" not in text


def test_bench_json_escapes_the_model_path(heed, minilm_fp32, tmp_path):
    weird = tmp_path / 'we"ird\\pa\tth\nname ☃.heed'
    os.symlink(minilm_fp32, weird)
    rc, out, err, _ = run_measured(["bench", weird, "--seq", "8", "--iters", "1", "--json"])
    assert rc == 0, err
    assert json.loads(out)["model"] == str(weird)
    rc, out, err, _ = run_measured(["bench", weird, "--seq", "8", "--iters", "1"])
    assert rc == 0 and out.decode().split("\n")[0].startswith("model      ") and "\t" not in out.decode()


# ------------------------------------------------------------------------------------ 10. user errors, named

def _eps(c):
    c["layer_norm_eps"] = 1e-50


def _num_labels_70000(c):
    c.pop("id2label", None)
    c.pop("label2id", None)
    c["num_labels"] = 70000


def _many_specials(j):
    vocab = {v: k for k, v in j["model"]["vocab"].items()}
    j["added_tokens"] = [{"id": i, "content": vocab[i], "special": True, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False} for i in range(1100)]


def _bad_utf8_vocab(d):
    (d / "tokenizer.json").unlink()
    lines = (d / "vocab.txt").read_bytes().split(b"\n")
    lines[7] = b"\xff\xfe"
    (d / "vocab.txt").write_bytes(b"\n".join(lines))


USER_ERRORS = [
    ("layer-norm-eps", lambda d: edit_json(d / "config.json", _eps), ["layer_norm_eps", "1e-50", "1e-30..1"]),
    ("num-labels-70000", lambda d: edit_json(d / "config.json", _num_labels_70000), ["num_labels", "70000"]),
    ("max-input-chars-1000", lambda d: edit_json(d / "tokenizer.json", _max_chars(1000)),
     ["max_input_chars_per_word", "1000", "1..256"]),
    ("1100-special-tokens", lambda d: edit_json(d / "tokenizer.json", _many_specials),
     ["added_tokens", "1100", "1024"]),
    ("non-utf8-vocab", _bad_utf8_vocab, ["vocab.txt:8", "UTF-8"]),
]


@pytest.mark.parametrize("case,breaker,expect", USER_ERRORS, ids=[c[0] for c in USER_ERRORS])
def test_user_errors_name_the_field_not_an_internal_fault(case, breaker, expect, heed, tiny, tmp_path):
    breaker(tiny)
    err, _ = convert_fails(heed, tiny, tmp_path / "out.heed", "--precision", "fp32")
    for e in expect:
        assert e in err, f"{e!r} not in: {err}"
    assert "invalid model" not in err and "converter produced" not in err, err
