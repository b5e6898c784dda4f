#!/usr/bin/env python3
"""Times heed beside ONNX Runtime on the same BERT encoder, in the same run.

    tools/bench-peers.py --heed build/bin/heed --model-dir DIR [--seq 128] [--reps 7]
                         [--iters 10] [--warmup 3] [--accuracy-n 200] [--out FILE.json]

Usually started by tools/bench-peers.sh, which prepares the venv (torch, transformers,
sentence-transformers, onnxruntime, onnx) and fills in --heed and --model-dir.

What it does (PERF.md, "How to measure"):
  1. heed convert DIR to fp32 and int8 .heed files (in a temporary directory);
  2. exports the Hugging Face encoder (transformers AutoModel, inputs input_ids, attention_mask,
     token_type_ids; output last_hidden_state; opset 14; batch and sequence axes dynamic) with
     torch.onnx.export to an fp32 ONNX file, then quantizes it with
     onnxruntime.quantization.quantize_dynamic (QInt8 weights, uint8 dynamic activations), once
     with the default per_channel=False and once with per_channel=True;
  3. times every engine in each of --reps rounds, the engines interleaved within a round
     (heed fp32, ORT fp32, heed int8, ORT int8, ORT int8 per-channel, then again next round).
     A heed round is one `heed bench X.heed --seq S --threads 1 --warmup W --iters N --json`
     (its median_ms); an ORT round is W warm-up runs then the median of N runs of one
     InferenceSession (intra_op_num_threads=1, inter_op_num_threads=1, ORT_SEQUENTIAL, default
     graph optimizations: ORT_ENABLE_ALL) at batch 1, sequence S. Both use the same token ids ([CLS], S-2 ids from
     heed bench's fixed-seed LCG, [SEP]), attention mask all ones, token types zero;
  4. prints the median of the round medians per engine, the ratio to ORT at the same precision
     (engine ms / ORT ms: above 1 means slower than ORT) and the model file sizes;
  5. with --accuracy-n N > 0: mean and min cosine against sentence-transformers' fp32 embeddings
     on the first N sentences of the WordNet corpus that tools/e2e-data.py writes, of ORT's
     mean-pooled, L2-normalized outputs (each ONNX file, batch 1) and of heed's (`heed embed
     --json`, each .heed file); the accuracy gates themselves are tests in tests/e2e.

Reports os.getloadavg() at start and end: the machine may be shared, so read the ratios (taken in
the same rounds) rather than the absolute times when the load is high.
"""

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(msg):
    print("bench-peers: " + msg, file=sys.stderr, flush=True)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loadavg():
    return [round(x, 2) for x in os.getloadavg()]


def heed_ids(seq, vocab_size, cls_id, sep_id):
    """The token ids heed bench uses (tools/heed/cmd-bench.cc): a fixed-seed LCG."""
    ids = []
    state = 12345
    span = vocab_size - 1000 if vocab_size > 1001 else 1
    for _ in range(seq):
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        ids.append((1000 + state % span) % vocab_size)
    ids[0] = cls_id
    ids[-1] = sep_id
    return ids


# ------------------------------------------------------------------------------------------ heed

def heed_convert(heed, model_dir, out_path, precision, extra=()):
    t0 = time.perf_counter()
    r = subprocess.run([heed, "convert", model_dir, "-o", out_path, "--precision", precision, *extra],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"bench-peers: heed convert --precision {precision} failed ({r.returncode}):\n"
                 f"{r.stdout}{r.stderr}")
    lines = [l.strip() for l in (r.stdout + "\n" + r.stderr).splitlines() if l.strip()]
    last = next((l for l in reversed(lines) if l.startswith("wrote ")), lines[-1] if lines else "")
    log(f"heed convert {precision}: {time.perf_counter() - t0:.1f} s: {last}")


def heed_bench(heed, path, seq, iters, warmup):
    cmd = [heed, "bench", path, "--seq", str(seq), "--threads", "1", "--warmup", str(warmup),
           "--iters", str(iters), "--json"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"bench-peers: {' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------ ONNX export

def export_onnx(model_dir, out_path, opset):
    """torch.onnx.export of the encoder; returns the warnings it raised (as strings)."""
    import torch
    from transformers import AutoModel

    try:
        model = AutoModel.from_pretrained(model_dir, attn_implementation="eager")
    except TypeError:  # older transformers without attn_implementation
        model = AutoModel.from_pretrained(model_dir)
    model.eval()

    class Encoder(torch.nn.Module):
        """Returns last_hidden_state only (sentence-transformers does not use the pooler)."""

        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids, return_dict=False)[0]

    enc = Encoder(model).eval()
    example = torch.ones(1, 16, dtype=torch.int64)
    dyn = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
           "token_type_ids": {0: "batch", 1: "seq"}, "last_hidden_state": {0: "batch", 1: "seq"}}
    captured_err = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, torch.no_grad(), \
            contextlib.redirect_stderr(captured_err):
        warnings.simplefilter("always")
        torch.onnx.export(enc, (example, example, torch.zeros_like(example)), out_path,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["last_hidden_state"], dynamic_axes=dyn,
                          opset_version=opset, do_constant_folding=True)
    msgs = []
    for w in caught:
        s = f"{w.category.__name__}: {str(w.message).strip().splitlines()[0]}"
        if s not in msgs:
            msgs.append(s)
    for line in captured_err.getvalue().splitlines():
        line = line.strip()
        if line and line not in msgs:
            msgs.append(line)
    return msgs


def quantize(fp32_path, out_path, per_channel):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    captured = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(captured), \
            contextlib.redirect_stdout(captured):
        warnings.simplefilter("always")
        quantize_dynamic(fp32_path, out_path, weight_type=QuantType.QInt8, per_channel=per_channel)
    msgs = [f"{w.category.__name__}: {str(w.message).strip().splitlines()[0]}" for w in caught]
    msgs += [l.strip() for l in captured.getvalue().splitlines() if l.strip()]
    return list(dict.fromkeys(msgs))


def ort_session(path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, sess_options=so, providers=["CPUExecutionProvider"])


def ort_round(sess, feeds, iters, warmup):
    for _ in range(warmup):
        sess.run(None, feeds)
    ms = []
    for _ in range(iters):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        ms.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ms)


# --------------------------------------------------------------------------------------- accuracy

def wordnet_sentences(n, tmp):
    out = os.path.join(tmp, "e2e-data")
    r = subprocess.run([sys.executable, os.path.join(REPO, "tools", "e2e-data.py"), out],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"tools/e2e-data.py failed: {r.stderr.strip()[-500:]}")
    with open(os.path.join(out, "wordnet.txt"), encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if l.strip()]
    return lines[:n]


def heed_embeddings(heed, path, sentences):
    """heed embed --json on the sentences (stdin, one per line): normalized embeddings."""
    import numpy as np

    r = subprocess.run([heed, "embed", path, "--json"], input="\n".join(sentences) + "\n",
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"heed embed failed: {r.stderr.strip()[-500:]}")
    rows = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    if len(rows) != len(sentences):
        raise RuntimeError(f"heed embed printed {len(rows)} rows for {len(sentences)} sentences")
    return np.asarray(rows, dtype=np.float64)


def accuracy(model_dir, onnx_paths, sentences, heed=None, heed_paths=None):
    """Mean (and min) cosine vs sentence-transformers fp32 of ORT's embeddings, per ONNX file,
    and of heed's (heed embed --json), per .heed file."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(model_dir, device="cpu")
    ref = st.encode(sentences, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    tok = st.tokenizer
    max_len = st.max_seq_length
    res = {}
    for name, path in onnx_paths.items():
        sess = ort_session(path)
        embs = []
        for s in sentences:  # batch 1, no padding
            t = tok(s, truncation=True, max_length=max_len, return_tensors="np")
            feeds = {k: t[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
            h = sess.run(None, feeds)[0][0]
            m = feeds["attention_mask"][0].astype(np.float32)[:, None]
            e = (h * m).sum(0) / max(m.sum(), 1e-9)
            embs.append(e / max(np.linalg.norm(e), 1e-12))
        cos = (np.stack(embs) * ref).sum(1)
        res[name] = {"mean_cosine": float(cos.mean()), "min_cosine": float(cos.min()),
                     "n": len(sentences)}
    for name, path in (heed_paths or {}).items():
        e = heed_embeddings(heed, path, sentences)
        e /= np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
        cos = (e * ref).sum(1)
        res[name] = {"mean_cosine": float(cos.mean()), "min_cosine": float(cos.min()),
                     "n": len(sentences)}
    return res


# ------------------------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--heed", default=os.path.join(REPO, "build", "bin", "heed"))
    ap.add_argument("--model-dir", required=True, help="Hugging Face / sentence-transformers dir")
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--reps", type=int, default=7, help="rounds (A/B interleaved)")
    ap.add_argument("--iters", type=int, default=10, help="timed runs per round")
    ap.add_argument("--warmup", type=int, default=3, help="warm-up runs per round")
    ap.add_argument("--opset", type=int, default=14)
    ap.add_argument("--accuracy-n", type=int, default=200,
                    help="WordNet sentences for ORT's accuracy check (0: skip)")
    ap.add_argument("--keep", metavar="DIR", help="keep the converted models in DIR")
    ap.add_argument("--int8-scheme", default="auto",
                    help="heed convert --int8-scheme for heed's int8 model (default auto)")
    ap.add_argument("--out", help="write the results as JSON here")
    a = ap.parse_args()

    heed = os.path.abspath(a.heed)
    model_dir = os.path.abspath(a.model_dir)
    if not os.access(heed, os.X_OK):
        sys.exit(f"bench-peers: {heed} is not executable (build heed first)")
    if not os.path.isfile(os.path.join(model_dir, "config.json")):
        sys.exit(f"bench-peers: {model_dir} has no config.json")

    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch
    import transformers

    t_start = time.time()
    load_start = loadavg()
    log(f"loadavg at start {load_start}, {os.cpu_count()} CPUs ({cpu_model()})")
    versions = {"python": platform.python_version(), "numpy": np.__version__,
                "torch": torch.__version__, "transformers": transformers.__version__,
                "onnx": onnx.__version__, "onnxruntime": ort.__version__}
    log("versions " + ", ".join(f"{k} {v}" for k, v in versions.items()))

    tmp_ctx = tempfile.TemporaryDirectory(prefix="bench-peers-")
    tmp = tmp_ctx.name
    work = os.path.abspath(a.keep) if a.keep else tmp
    os.makedirs(work, exist_ok=True)
    files = {
        "heed_fp32": os.path.join(work, "model-fp32.heed"),
        "heed_int8": os.path.join(work, "model-int8.heed"),
        "onnx_fp32": os.path.join(work, "model-fp32.onnx"),
        "onnx_int8": os.path.join(work, "model-int8.onnx"),
        "onnx_int8_pc": os.path.join(work, "model-int8-perchannel.onnx"),
    }

    # 1. heed models.
    heed_convert(heed, model_dir, files["heed_fp32"], "fp32")
    heed_convert(heed, model_dir, files["heed_int8"], "int8", ["--int8-scheme", a.int8_scheme])

    # 2. ONNX models.
    t0 = time.perf_counter()
    export_warnings = export_onnx(model_dir, files["onnx_fp32"], a.opset)
    log(f"torch.onnx.export opset {a.opset}: {time.perf_counter() - t0:.1f} s, "
        f"{len(export_warnings)} distinct warnings")
    for w in export_warnings:
        log("  export: " + w[:200])
    quant_warnings = {}
    for key, pc in (("onnx_int8", False), ("onnx_int8_pc", True)):
        t0 = time.perf_counter()
        quant_warnings[key] = quantize(files["onnx_fp32"], files[key], pc)
        log(f"quantize_dynamic per_channel={pc}: {time.perf_counter() - t0:.1f} s, "
            f"{len(quant_warnings[key])} distinct messages")
        for w in quant_warnings[key]:
            log("  quantize: " + w[:200])
    sizes = {k: os.path.getsize(p) for k, p in files.items()}

    # 3. Timing.
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    vocab = int(cfg.get("vocab_size", 30522))
    ids = heed_ids(a.seq, vocab, 101, 102)
    tokj = os.path.join(model_dir, "tokenizer.json")
    if os.path.isfile(tokj):  # take [CLS]/[SEP] from the tokenizer when it says so
        with open(tokj, encoding="utf-8") as f:
            added = {t["content"]: t["id"] for t in json.load(f).get("added_tokens", [])}
        ids = heed_ids(a.seq, vocab, added.get("[CLS]", 101), added.get("[SEP]", 102))
    feeds = {"input_ids": np.array([ids], dtype=np.int64),
             "attention_mask": np.ones((1, a.seq), dtype=np.int64),
             "token_type_ids": np.zeros((1, a.seq), dtype=np.int64)}

    sessions = {k: ort_session(files[k]) for k in ("onnx_fp32", "onnx_int8", "onnx_int8_pc")}
    engines = [  # (key, engine, precision, variant, model file key)
        ("heed_fp32", "heed", "fp32", "", "heed_fp32"),
        ("ort_fp32", "onnxruntime", "fp32", "", "onnx_fp32"),
        ("heed_int8", "heed", "int8", "", "heed_int8"),
        ("ort_int8", "onnxruntime", "int8", "dynamic, per-tensor", "onnx_int8"),
        ("ort_int8_pc", "onnxruntime", "int8", "dynamic, per-channel", "onnx_int8_pc"),
    ]
    rounds = {e[0]: [] for e in engines}
    heed_info = {}
    for r in range(a.reps):
        line = []
        for key, engine, _, _, fkey in engines:
            if engine == "heed":
                j = heed_bench(heed, files[fkey], a.seq, a.iters, a.warmup)
                heed_info[key] = {k: j.get(k) for k in ("precision", "isa", "gmac", "arena_bytes")}
                ms = float(j["median_ms"])
            else:
                ms = ort_round(sessions[fkey], feeds, a.iters, a.warmup)
            rounds[key].append(ms)
            line.append(f"{key} {ms:.2f}")
        log(f"round {r + 1}/{a.reps}: " + ", ".join(line) + f" (load {loadavg()[0]})")

    med = {k: statistics.median(v) for k, v in rounds.items()}
    ref = {"fp32": med["ort_fp32"], "int8": med["ort_int8"]}

    # 5. Accuracy of ORT (optional).
    acc = None
    if a.accuracy_n > 0:
        t0 = time.perf_counter()
        try:
            sents = wordnet_sentences(a.accuracy_n, tmp)
            acc = accuracy(model_dir, {"ort_fp32": files["onnx_fp32"], "ort_int8": files["onnx_int8"],
                                       "ort_int8_pc": files["onnx_int8_pc"]}, sents,
                           heed=heed, heed_paths={"heed_fp32": files["heed_fp32"],
                                                    "heed_int8": files["heed_int8"]})
            log(f"accuracy on {len(sents)} WordNet sentences: {time.perf_counter() - t0:.1f} s")
        except Exception as e:  # the timing results stand without it
            log(f"accuracy check skipped: {type(e).__name__}: {e}")

    load_end = loadavg()
    del sessions

    # 4. Table.
    print()
    print(f"all-MiniLM-L6-v2 encoder, batch 1, seq {a.seq}, 1 thread; {a.reps} rounds x "
          f"(warmup {a.warmup} + median of {a.iters}); {cpu_model()}, {os.cpu_count()} CPUs")
    print(f"loadavg start {load_start}, end {load_end}")
    hdr = f"{'engine':<12} {'prec':<5} {'variant':<21} {'median ms':>9} {'min..max of rounds':>19} " \
          f"{'x ORT':>6} {'x ORT pc':>8} {'model MB':>8}"
    print(hdr)
    print("-" * len(hdr))
    rows = []
    for key, engine, prec, variant, fkey in engines:
        m = med[key]
        ratio = m / ref[prec]
        ratio_pc = m / med["ort_int8_pc"] if prec == "int8" else None
        v = variant
        if engine == "heed":
            v = f"kernels {heed_info[key]['isa']}"
        mm = f"{min(rounds[key]):.2f}..{max(rounds[key]):.2f}"
        pc = f"{ratio_pc:8.2f}" if ratio_pc is not None else f"{'':8}"
        print(f"{engine:<12} {prec:<5} {v:<21} {m:9.2f} {mm:>19} {ratio:6.2f} {pc} "
              f"{sizes[fkey] / 1e6:8.2f}")
        rows.append({"key": key, "engine": engine, "precision": prec, "variant": v,
                     "median_ms": m, "round_medians_ms": rounds[key],
                     "ratio_vs_ort_same_precision": ratio, "ratio_vs_ort_int8_per_channel": ratio_pc,
                     "model_file": os.path.basename(files[fkey]), "model_bytes": sizes[fkey]})
    print("x ORT = median / median of ORT at the same precision (int8: per-tensor, the "
          "quantize_dynamic default); x ORT pc = vs ORT int8 per-channel.")
    if acc:
        print()
        print(f"Accuracy vs sentence-transformers fp32 (mean-pooled, normalized; "
              f"{next(iter(acc.values()))['n']} WordNet sentences, batch 1):")
        for k, v in acc.items():
            print(f"  {k:<12} mean cosine {v['mean_cosine']:.5f}  min {v['min_cosine']:.5f}")

    if a.out:
        result = {
            "command": " ".join([os.path.relpath(sys.argv[0], os.getcwd())] + sys.argv[1:]),
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t_start)),
            "machine": {"cpu": cpu_model(), "cpus": os.cpu_count(), "loadavg_start": load_start,
                        "loadavg_end": load_end},
            "versions": versions,
            "model_dir": model_dir,
            "settings": {"seq": a.seq, "batch": 1, "threads": 1, "reps": a.reps, "iters": a.iters,
                         "warmup": a.warmup, "opset": a.opset,
                         "ort": "intra_op 1, inter_op 1, ORT_SEQUENTIAL, ORT_ENABLE_ALL",
                         "quantize_dynamic": "weight_type QInt8, per_channel False / True"},
            "heed": heed_info,
            "results": rows,
            "model_bytes": sizes,
            "ort_accuracy": acc,
            "export_warnings": export_warnings,
            "quantize_messages": quant_warnings,
        }
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        log(f"wrote {a.out}")
    tmp_ctx.cleanup()


if __name__ == "__main__":
    main()
