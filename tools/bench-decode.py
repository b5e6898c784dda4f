#!/usr/bin/env python3
"""Times heed beside llama.cpp on decoders, one thread, in the same run (docs/benchmarks.md,
"Milestone 3: decoders beside llama.cpp").

    tools/bench-decode.py [--models gpt2-small,wordnet-llama] [--reps 5] [--prompt 512] [--gen 128]
                          [--ctx 640] [--work build/bench-decode] [--out FILE.json] [--md FILE.md]

Needs llama.cpp built by `tools/llama-cpp.sh build` (the network, once, for the sdist), heed's
build (build/bin/heed, build/bin/heed-membw) and the venv python (HEED_PYTHON or .venv).
Not part of CI.

Models:
  gpt2-small     a random GPT2LMHeadModel of GPT-2 small's shape (tools/make-gpt2-small.py,
                 made once in WORK/gpt2-small);
  wordnet-llama  tests/data/wordnet-llama (3.7 M-parameter GQA Llama). It was trained with 128
                 positions; for a 512-token prompt both engines get a copy of its directory
                 whose config.json says max_position_embeddings = --ctx (weights untouched: RoPE
                 has no position table). Text past 128 positions is not what it learned; the
                 speed is all that is measured.

For each model, in this run:
  1. llama.cpp's converter to GGUF Q8_0 (tools/llama-cpp.sh gguf; --pre gpt-2 for gpt2-small's
     tokenizer trained here) and `heed convert DIR -o WORK/NAME.heed` (int8, the default);
  2. --reps rounds, the engines alternating within a round:
       llama-bench -m M.gguf -t 1 -p PROMPT -n GEN -r 1 -o json   prefill (pp) and decode (tg)
                                                                   from an empty context
       llama-bench -m M.gguf -t 1 -p 0 -n GEN -d PROMPT -r 1 -o json
                                                                   decode after PROMPT tokens
                                                                   (tg@dPROMPT): heed's work
       llama-bench -m M.gguf -t 1 -p 0 -n 0 -pg PROMPT,GEN -r 1 -o json
                                                                   prompt then decode in one
                                                                   context of PROMPT+GEN: peak RSS
       heed generate M.heed --ids ... -n GEN --temp 0 --ignore-eos --threads 1 --ctx CTX --json
                                                                   prefill and decode, peak RSS
     Peak RSS is ru_maxrss of the process (os.wait4), the same for both. The prompt ids come
     from a fixed-seed LCG over the vocabulary (llama-bench draws its own random ids);
  3. medians over the rounds; ratios heed / llama.cpp (tokens/s: above 1 is faster), heed's
     decode against llama.cpp's tg@dPROMPT (the same positions);
  4. decode bytes per token: the weight bytes one token reads. GGUF: the tensors' bytes
     (gguf-py, llama.cpp's reader), less the tables read one row a token (token embedding when
     the output matrix is separate, GPT-2's position embedding). heed: the constants' bytes that
     `heed inspect --json` gives, less its embedding tables (the LM head is stored again,
     packed), plus their rows. Bytes/s = bytes/token x decode tokens/s, beside this machine's
     single-thread read bandwidth (build/bin/heed-membw --mib 1024, best of 7). A model that
     fits in the caches (wordnet-llama: 4 MB) can read faster than DRAM.

heed's side degrades to "not available" (with the reason) when `heed generate` fails, e.g. in a
build that does not have it yet; llama.cpp's numbers are still recorded.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ("gpt2-small", "wordnet-llama")


def log(msg):
    print("bench-decode: " + msg, file=sys.stderr, flush=True)


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


def run(cmd, env=None, check=True):
    """Runs cmd; returns (returncode, stdout, stderr, peak RSS in bytes, wall s)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    # Read both pipes to the end, then reap with wait4 for this process's rusage.
    import threading
    err_chunks = []
    t = threading.Thread(target=lambda: err_chunks.append(p.stderr.read()))
    t.start()
    out = p.stdout.read()
    t.join()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    err = err_chunks[0] if err_chunks else ""
    if check and p.returncode != 0:
        sys.exit(f"bench-decode: {' '.join(cmd)} failed ({p.returncode}):\n{out[-2000:]}{err[-2000:]}")
    return p.returncode, out, err, ru.ru_maxrss * 1024, wall


def lcg_ids(n, vocab, skip=()):
    ids, state = [], 12345
    while len(ids) < n:
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        i = 3 + (state >> 8) % (vocab - 3)
        if i not in skip:
            ids.append(i)
    return ids


# ---------------------------------------------------------------------------------------- models

def prepare_model(name, work, py, ctx):
    """Returns (hf_dir, gguf --pre name or None)."""
    if name == "gpt2-small":
        d = os.path.join(work, "gpt2-small")
        if not os.path.isfile(os.path.join(d, "model.safetensors")):
            log("making the random GPT-2-small checkpoint (tools/make-gpt2-small.py, a few minutes)")
            run([py, os.path.join(REPO, "tools", "make-gpt2-small.py"), d])
        return d, "gpt-2"
    if name == "wordnet-llama":
        src = os.path.join(REPO, "tests", "data", "wordnet-llama")
        d = os.path.join(work, f"wordnet-llama-ctx{ctx}")
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(src):
            if f == "config.json":
                continue
            shutil.copyfile(os.path.join(src, f), os.path.join(d, f))
        with open(os.path.join(src, "config.json")) as f:
            cfg = json.load(f)
        cfg["max_position_embeddings"] = max(int(cfg["max_position_embeddings"]), ctx)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        return d, None
    sys.exit(f"bench-decode: unknown model {name!r} (known: {', '.join(MODELS)})")


def gguf_weight_bytes(py, llama_src, path):
    """Bytes of every tensor, and the bytes one decode token reads (GGUF), with gguf-py."""
    code = r"""
import json, sys
from gguf import GGUFReader
r = GGUFReader(sys.argv[1])
t = {x.name: (int(x.n_bytes), [int(s) for s in x.shape]) for x in r.tensors}
total = sum(b for b, _ in t.values())
per_token = total
def rows(name):
    b, shape = t[name]
    return b, b // shape[1]  # gguf shapes are [ne0 = row length, ne1 = rows]
if "output.weight" in t and "token_embd.weight" in t:
    b, row = rows("token_embd.weight"); per_token -= b - row
if "position_embd.weight" in t:
    b, row = rows("position_embd.weight"); per_token -= b - row
print(json.dumps({"tensor_bytes": total, "bytes_per_token": per_token, "tensors": len(t)}))
"""
    env = dict(os.environ, PYTHONPATH=os.path.join(llama_src, "gguf-py"))
    _, out, _, _, _ = run([py, "-c", code, path], env=env)
    return json.loads(out)


def heed_weight_bytes(heed, path, cfg, arch):
    """The constants' bytes (heed inspect --json) and the bytes one decode token reads: all of
    them less the tables the EMBEDDING op reads one row of. A tied LM head is stored once and
    the EMBEDDING reads its rows from it (the int8 file then holds one int8 tensor per fully
    connected op, and the head is read whole per token anyway); an untied or older file keeps a
    row-major token table (int8 with one float scale per row, or f32). GPT-2's position table
    is f32."""
    rc, out, err, _, _ = run([heed, "inspect", path, "--json"], check=False)
    if rc != 0:
        return {"error": (err or out).strip()[-300:]}
    j = json.loads(out.strip().splitlines()[-1])
    const = sum(v["bytes"] for v in j.get("bytes_by_dtype", {}).values())
    f32 = j.get("bytes_by_dtype", {}).get("f32", {}).get("bytes", 0)
    v = int(cfg["vocab_size"])
    h = int(cfg["n_embd"] if arch == "gpt2" else cfg["hidden_size"])
    shared = j.get("bytes_by_dtype", {}).get("i8", {}).get("tensors", -1) == j.get("ops", {}).get("FULLY_CONNECTED")
    if shared:
        tables, rows = 0, 0
    elif j.get("precision") == "int8":
        tables, rows = v * h + 4 * v, h + 4
    else:
        tables, rows = v * h * 4, h * 4
    if arch == "gpt2":
        p = int(cfg["n_positions"])
        if f32 >= p * h * 4:
            tables, rows = tables + p * h * 4, rows + h * 4
    return {"file_bytes": j.get("file_bytes"), "constant_bytes": const, "bytes_by_dtype": j.get("bytes_by_dtype"),
            "embedding_table_bytes": tables, "bytes_per_token": const - tables + rows}


# ---------------------------------------------------------------------------------------- engines

def llama_bench(bin_dir, gguf, args):
    cmd = [os.path.join(bin_dir, "llama-bench"), "-m", gguf, "-t", "1", *args, "-r", "1", "-o", "json"]
    _, out, _, rss, _ = run(cmd)
    rows = json.loads(out)
    return rows, rss, cmd


def heed_generate(heed, path, ids, gen, ctx):
    cmd = [heed, "generate", path, "--ids", ",".join(map(str, ids)), "-n", str(gen), "--temp", "0",
           "--ignore-eos", "--threads", "1", "--ctx", str(ctx), "--json"]
    rc, out, err, rss, _ = run(cmd, check=False)
    shown = cmd[:3] + ["--ids", f"<{len(ids)} ids>"] + cmd[5:]
    if rc != 0:
        first = next((l.strip() for l in (err + "\n" + out).splitlines() if l.strip()), "")
        return None, f"`heed generate` exit {rc}: {first}", shown
    try:
        j = json.loads(out.strip().splitlines()[-1])
        pp = j["prompt_tokens"] / j["prompt_ms"] * 1e3
        tg = j["generated_tokens"] / j["generate_ms"] * 1e3
    except (ValueError, KeyError, IndexError, ZeroDivisionError) as e:
        return None, f"`heed generate` printed no usable JSON ({type(e).__name__}: {e})", shown
    if j["prompt_tokens"] != len(ids) or j["generated_tokens"] != gen:
        return None, (f"`heed generate` did {j['prompt_tokens']} prompt / {j['generated_tokens']} "
                      f"generated tokens, asked {len(ids)} / {gen}"), shown
    return {"pp_ts": pp, "tg_ts": tg, "rss": rss, "json": j}, None, shown


def membw(bin_path, reps=7):
    if not os.access(bin_path, os.X_OK):
        return None
    _, out, _, _, _ = run([bin_path, "--mib", "1024", "--reps", str(reps), "--json"])
    j = json.loads(out)
    return {"loads": j["loads"], "gb_s": j["results"][0]["best_gb_s"],
            "median_gb_s": j["results"][0]["median_gb_s"], "mib": 1024, "reps": reps}


# ------------------------------------------------------------------------------------------- main

def fmt(x, d=1):
    return "n/a" if x is None else f"{x:,.{d}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--heed", default=os.path.join(REPO, "build", "bin", "heed"))
    ap.add_argument("--membw", default=os.path.join(REPO, "build", "bin", "heed-membw"))
    ap.add_argument("--llama-bin", default=os.path.join(os.environ.get("HEED_LLAMA_DIR", os.path.join(REPO, "build", "llama.cpp")), "build", "bin"))
    ap.add_argument("--work", default=os.path.join(REPO, "build", "bench-decode"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--prompt", type=int, default=512)
    ap.add_argument("--gen", type=int, default=128)
    ap.add_argument("--ctx", type=int, default=640)
    ap.add_argument("--out", help="write the results as JSON here")
    ap.add_argument("--md", help="write the markdown tables here")
    a = ap.parse_args()
    if a.prompt + a.gen > a.ctx:
        sys.exit("bench-decode: --prompt + --gen exceed --ctx")

    py = os.environ.get("HEED_PYTHON") or os.path.join(REPO, ".venv", "bin", "python")
    heed = os.path.abspath(a.heed)
    work = os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)
    if not os.access(os.path.join(a.llama_bin, "llama-bench"), os.X_OK):
        sys.exit(f"bench-decode: no {a.llama_bin}/llama-bench: run `tools/llama-cpp.sh build` first")
    llama_src = subprocess.run(["bash", os.path.join(REPO, "tools", "llama-cpp.sh"), "dir"],
                               capture_output=True, text=True, check=True,
                               env=dict(os.environ, HEED_PYTHON=py)).stdout.strip().splitlines()[-1]

    t_start = time.time()
    load_start = loadavg()
    log(f"loadavg at start {load_start}, {os.cpu_count()} CPUs ({cpu_model()})")
    bw = membw(a.membw)
    log(f"read bandwidth, one thread, 1 GiB: {fmt(bw and bw['gb_s'], 2)} GB/s")

    results = []
    for name in a.models.split(","):
        hf, pre = prepare_model(name, work, py, a.ctx)
        with open(os.path.join(hf, "config.json")) as f:
            cfg = json.load(f)
        arch = "gpt2" if cfg.get("model_type") == "gpt2" else "llama"
        gguf = os.path.join(work, f"{name}.q8_0.gguf")
        hpath = os.path.join(work, f"{name}.int8.heed")
        t0 = time.perf_counter()
        conv = ["bash", os.path.join(REPO, "tools", "llama-cpp.sh"), "gguf", hf, gguf] + (["--pre", pre] if pre else [])
        run(conv, env=dict(os.environ, HEED_PYTHON=py))
        log(f"{name}: GGUF Q8_0 {os.path.getsize(gguf) / 1e6:.1f} MB ({time.perf_counter() - t0:.1f} s)")
        heed_note = None
        if os.access(heed, os.X_OK):
            rc, out, err, _, _ = run([heed, "convert", hf, "-o", hpath], check=False)
            if rc != 0:
                heed_note = f"`heed convert` exit {rc}: {(err or out).strip()[-300:]}"
        else:
            heed_note = f"{heed} not built"
        hbytes = heed_weight_bytes(heed, hpath, cfg, arch) if heed_note is None else None
        gbytes = gguf_weight_bytes(py, llama_src, gguf)

        vocab = int(cfg["vocab_size"])
        special = {cfg.get("bos_token_id"), cfg.get("eos_token_id")}
        ids = lcg_ids(a.prompt, vocab, skip=special)
        rounds = {k: [] for k in ("pp", "tg", "tg_depth", "pg", "rss", "h_pp", "h_tg", "h_rss")}
        cmds = {}
        heed_json = None
        for r in range(a.reps):
            rows, _, cmds["pp_tg"] = llama_bench(a.llama_bin, gguf, ["-p", str(a.prompt), "-n", str(a.gen)])
            info = rows[0]
            rounds["pp"].append(next(x["avg_ts"] for x in rows if x["n_prompt"] == a.prompt and x["n_gen"] == 0))
            rounds["tg"].append(next(x["avg_ts"] for x in rows if x["n_gen"] == a.gen and x["n_prompt"] == 0))
            rows, _, cmds["tg_depth"] = llama_bench(a.llama_bin, gguf, ["-p", "0", "-n", str(a.gen), "-d", str(a.prompt)])
            rounds["tg_depth"].append(next(x["avg_ts"] for x in rows if x["n_gen"] == a.gen))
            rows, rss, cmds["pg"] = llama_bench(a.llama_bin, gguf, ["-p", "0", "-n", "0", "-pg", f"{a.prompt},{a.gen}"])
            rounds["pg"].append(rows[0]["avg_ts"])
            rounds["rss"].append(rss)
            line = (f"round {r + 1}/{a.reps}: llama.cpp pp{a.prompt} {rounds['pp'][-1]:.1f}, tg{a.gen} "
                    f"{rounds['tg'][-1]:.2f}, tg{a.gen}@d{a.prompt} {rounds['tg_depth'][-1]:.2f} t/s, "
                    f"RSS {rss / 2**20:.1f} MiB")
            if heed_note is None:
                h, heed_note, cmds["heed"] = heed_generate(heed, hpath, ids, a.gen, a.ctx)
                if h:
                    rounds["h_pp"].append(h["pp_ts"])
                    rounds["h_tg"].append(h["tg_ts"])
                    rounds["h_rss"].append(h["rss"])
                    heed_json = h["json"]
                    line += f"; heed pp {h['pp_ts']:.1f}, tg {h['tg_ts']:.2f} t/s, RSS {h['rss'] / 2**20:.1f} MiB"
            log(f"{name}: {line} (load {loadavg()[0]})")
        if heed_note:
            log(f"{name}: heed not available: {heed_note}")
        med = {k: statistics.median(v) if v else None for k, v in rounds.items()}
        gb = bw["gb_s"] if bw else None

        def traffic(bpt, ts):
            if bpt is None or ts is None:
                return None, None
            bps = bpt * ts
            return bps, (bps / (gb * 1e9) if gb else None)

        l_bps, l_frac = traffic(gbytes["bytes_per_token"], med["tg_depth"])
        h_bpt = hbytes.get("bytes_per_token") if hbytes else None
        h_bps, h_frac = traffic(h_bpt, med["h_tg"])
        ratio = lambda h, l: h / l if h is not None and l else None  # noqa: E731
        results.append({
            "model": name, "hf_dir": hf, "architecture": cfg.get("architectures", ["?"])[0],
            "params_llama_cpp": info.get("model_n_params"),
            "gguf": {"path": gguf, "file_bytes": os.path.getsize(gguf), **gbytes},
            "heed_file": {"path": hpath, **(hbytes or {})} if hbytes else None,
            "llama_cpp": {"pp_ts": med["pp"], "tg_ts": med["tg"], "tg_depth_ts": med["tg_depth"],
                          "pg_ts": med["pg"], "peak_rss_bytes": med["rss"],
                          "decode_bytes_per_s": l_bps, "decode_share_of_bandwidth": l_frac,
                          "rounds": {k: rounds[k] for k in ("pp", "tg", "tg_depth", "pg", "rss")},
                          "build_commit": info.get("build_commit"), "cpu_info": info.get("cpu_info"),
                          "type_k": info.get("type_k"), "flash_attn": info.get("flash_attn"),
                          "n_batch": info.get("n_batch"), "n_ubatch": info.get("n_ubatch"),
                          "repack": info.get("repack"), "load_mode": info.get("load_mode")},
            "heed": None if heed_note else {
                "pp_ts": med["h_pp"], "tg_ts": med["h_tg"], "peak_rss_bytes": med["h_rss"],
                "decode_bytes_per_s": h_bps, "decode_share_of_bandwidth": h_frac,
                "rounds": {k: rounds[k] for k in ("h_pp", "h_tg", "h_rss")}, "last_json": heed_json},
            "heed_note": heed_note,
            "ratios": None if heed_note else {
                "prefill_heed_over_llama": ratio(med["h_pp"], med["pp"]),
                "decode_heed_over_llama_same_depth": ratio(med["h_tg"], med["tg_depth"]),
                "decode_heed_over_llama_tg": ratio(med["h_tg"], med["tg"]),
                "rss_heed_over_llama": ratio(med["h_rss"], med["rss"])},
            "commands": {k: " ".join(os.path.relpath(c, REPO) if c.startswith(REPO + os.sep) else c for c in v)
                         for k, v in cmds.items()},
        })

    load_end = loadavg()
    lines = []
    P, G = a.prompt, a.gen
    lines.append(f"One thread, medians of {a.reps} rounds; {cpu_model()}, {os.cpu_count()} CPUs; "
                 f"loadavg {load_start} -> {load_end}; read bandwidth (1 GiB, one thread) "
                 f"{fmt(bw and bw['gb_s'], 2)} GB/s.")
    lines.append("")
    lines.append(f"| model | llama.cpp pp{P} t/s | heed prefill {P} t/s | heed / llama.cpp | "
                 f"llama.cpp tg{G} t/s | llama.cpp tg{G}@d{P} t/s | heed decode t/s | heed / llama.cpp (@d{P}) | "
                 f"llama.cpp peak RSS MiB | heed peak RSS MiB |")
    lines.append("|" + "---|" * 10)
    for res in results:
        l, h, q = res["llama_cpp"], res["heed"] or {}, res["ratios"] or {}
        mib = lambda b: None if b is None else b / 2**20  # noqa: E731
        lines.append(f"| {res['model']} | {fmt(l['pp_ts'])} | {fmt(h.get('pp_ts'))} | "
                     f"{fmt(q.get('prefill_heed_over_llama'), 2)} | {fmt(l['tg_ts'], 2)} | "
                     f"{fmt(l['tg_depth_ts'], 2)} | {fmt(h.get('tg_ts'), 2)} | "
                     f"{fmt(q.get('decode_heed_over_llama_same_depth'), 2)} | {fmt(mib(l['peak_rss_bytes']))} | "
                     f"{fmt(mib(h.get('peak_rss_bytes')))} |")
    lines.append("")
    lines.append(f"| model | GGUF Q8_0 MB | GGUF bytes/token | llama.cpp decode GB/s (@d{P}) | share of bandwidth | "
                 f"heed file MB | heed bytes/token | heed decode GB/s | share of bandwidth |")
    lines.append("|" + "---|" * 9)
    for res in results:
        l, h, g, hf = res["llama_cpp"], res["heed"] or {}, res["gguf"], res["heed_file"] or {}
        gbps = lambda x: None if x is None else x / 1e9  # noqa: E731
        pct = lambda x: "n/a" if x is None else f"{100 * x:.0f} %"  # noqa: E731
        lines.append(f"| {res['model']} | {g['file_bytes'] / 1e6:.1f} | {g['bytes_per_token'] / 1e6:.1f} M | "
                     f"{fmt(gbps(l['decode_bytes_per_s']), 2)} | {pct(l['decode_share_of_bandwidth'])} | "
                     f"{fmt(hf.get('file_bytes') and hf['file_bytes'] / 1e6)} | "
                     f"{fmt(hf.get('bytes_per_token') and hf['bytes_per_token'] / 1e6)} M | "
                     f"{fmt(gbps(h.get('decode_bytes_per_s')), 2)} | {pct(h.get('decode_share_of_bandwidth'))} |")
    for res in results:
        if res["heed_note"]:
            lines.append("")
            lines.append(f"{res['model']}: heed not available: {res['heed_note']}")
    md = "\n".join(lines)
    print(md)
    if a.md:
        with open(a.md, "w") as f:
            f.write(md + "\n")

    if a.out:
        out = {"command": " ".join([os.path.relpath(sys.argv[0], os.getcwd())] + sys.argv[1:]),
               "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t_start)),
               "machine": {"cpu": cpu_model(), "cpus": os.cpu_count(), "loadavg_start": load_start,
                           "loadavg_end": load_end},
               "bandwidth": bw,
               "settings": {"prompt": P, "gen": G, "ctx": a.ctx, "reps": a.reps, "threads": 1},
               "results": results}
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w") as f:
            json.dump(out, f, indent=2)
            f.write("\n")
        log(f"wrote {a.out}")


if __name__ == "__main__":
    main()
