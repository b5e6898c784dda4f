"""heed inspect --attention-map: the SVG of one ATTENTION layer's block pattern, checked against a
numpy boolean mask of the pattern built here from its definition (DENSE all pairs, CAUSAL j <= i,
Mistral's sliding window w: i - w <= j <= i), on a random Mistral with sliding_window and a random
Llama (converted fp32), with the --window override; and bad arguments: a non-zero exit, a message
naming the problem, and no file (nor a changed one) left behind.
"""

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch

from test_decoder import LLAMA_BASE, build_model
from test_window_decoder import build_mistral

pytestmark = pytest.mark.heed

SVG = "{http://www.w3.org/2000/svg}"
MISTRAL_WINDOW = 20


@pytest.fixture(scope="module")
def files(heed, work_dir):
    out = {}
    for name, make in (("mistral", lambda: build_mistral(MISTRAL_WINDOW)),
                       ("llama", lambda: build_model("llama", {}))):
        d = work_dir / f"map-{name}"
        if not d.exists():
            make().save_pretrained(d, safe_serialization=True)
        f = work_dir / f"map-{name}-fp32.heed"
        if not f.exists():
            heed.run("convert", d, "-o", f, "--precision", "fp32")
        out[name] = f
    return out


def mask(n, window=None):
    """Visible (query i, key j) pairs of a causal pattern, optionally within a left window."""
    i = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    m = j <= i
    if window is not None:
        m &= i - j <= window
    return m


def block_counts(m):
    n = m.shape[0]
    nb = (n + 15) // 16
    p = np.zeros((nb * 16, nb * 16), dtype=np.int64)
    p[:n, :n] = m
    return p.reshape(nb, 16, nb, 16).sum(axis=(1, 3))


def attention_map(heed, model, out, *extra):
    p = heed.run("inspect", model, "--attention-map", out, *extra)
    root = ET.parse(out).getroot()  # well-formed XML or this raises
    assert root.tag == SVG + "svg"
    cells = {}
    for r in root.iter(SVG + "rect"):
        if r.get("class") == "cell":
            cells[(int(r.get("data-q")), int(r.get("data-k")))] = int(r.get("data-count"))
    title = root.find(SVG + "title").text
    texts = {t.get("id"): "".join(t.itertext()) for t in root.iter(SVG + "text") if t.get("id")}
    return root, cells, title, texts, p


def check_against(root, cells, texts, ref_mask):
    ref = block_counts(ref_mask)
    nb = ref.shape[0]
    assert int(root.get("data-blocks")) == nb
    got = np.zeros_like(ref)
    for (q, k), c in cells.items():
        got[q, k] = c
    assert np.array_equal(got, ref)
    assert len(cells) == int(np.count_nonzero(ref))
    assert int(root.get("data-nonempty-blocks")) == int(np.count_nonzero(ref))
    assert int(root.get("data-empty-blocks")) == nb * nb - int(np.count_nonzero(ref))
    visible = int(ref_mask.sum())
    assert int(root.get("data-visible-pairs")) == visible
    assert sum(cells.values()) == visible
    assert f"visible pairs {visible:,} of {ref_mask.size:,}" in texts["totals"]
    assert f"empty blocks skipped {nb * nb - int(np.count_nonzero(ref)):,}" in texts["totals"]


@pytest.mark.parametrize("n", [1, 19, 20, 21, 100, 300, None])
def test_mistral_window_map_equals_the_mask(heed, files, work_dir, n):
    out = work_dir / f"map-mistral-{n}.svg"
    extra = [] if n is None else ["--seq", n]
    root, cells, title, texts, _ = attention_map(heed, files["mistral"], out, *extra)
    n = 512 if n is None else n  # default: min(max_seq = 512, 512)
    assert int(root.get("data-seq")) == n
    assert re.fullmatch(rf"Attention map: layer .+ \(ATTENTION 0 of 2\), CAUSAL_WINDOW {MISTRAL_WINDOW}, "
                        rf"N = {n}", title), title
    check_against(root, cells, texts, mask(n, MISTRAL_WINDOW))
    # The ring: min(N, w + 64) rounded up to 16 positions.
    ring = min((n + 15) // 16 * 16, (MISTRAL_WINDOW + 64 + 15) // 16 * 16)
    assert int(root.get("data-kv-positions")) == ring
    # fp32 file: a float cache, keys and values of 2 kv heads x head_dim 16.
    assert int(root.get("data-kv-bytes")) == 2 * ring * 2 * 16 * 4
    # Counts as text in grids up to 32 x 32 blocks.
    counts = [t for t in root.iter(SVG + "text") if t.get("class") == "count"]
    assert len(counts) == len(cells)


def test_llama_causal_map_and_window_override(heed, files, work_dir):
    out = work_dir / "map-llama.svg"
    root, cells, title, texts, p = attention_map(heed, files["llama"], out, "--layer", 1)
    n = LLAMA_BASE["max_position_embeddings"]  # 256 < 512
    assert re.fullmatch(rf"Attention map: layer .+ \(ATTENTION 1 of 2\), CAUSAL, N = {n}", title), title
    check_against(root, cells, texts, mask(n))
    assert {cells[(b, b)] for b in range(n // 16)} == {136}
    assert int(root.get("data-kv-positions")) == n
    assert b"CAUSAL" in p.stdout and b"ATTENTION 1 of 2" in p.stdout

    root, cells, title, texts, _ = attention_map(heed, files["llama"], out, "--window", 37, "--seq", 200)
    assert "CAUSAL_WINDOW 37 (session override), N = 200" in title
    check_against(root, cells, texts, mask(200, 37))
    assert int(root.get("data-kv-positions")) == 112  # 37 + 64 -> 112 < 208

    root, cells, title, texts, _ = attention_map(heed, files["mistral"], out, "--window", "dense", "--seq", 150)
    assert "CAUSAL (session override), N = 150" in title
    check_against(root, cells, texts, mask(150))


def test_large_grid_is_still_well_formed(heed, work_dir):
    # 1024 positions: 64 x 64 blocks, past the 32 x 32 that get counts as text (the legend only).
    d = work_dir / "map-mistral-1k"
    if not d.exists():
        build_mistral(MISTRAL_WINDOW, max_position_embeddings=1024).save_pretrained(d, safe_serialization=True)
    f = work_dir / "map-mistral-1k-fp32.heed"
    if not f.exists():
        heed.run("convert", d, "-o", f, "--precision", "fp32")
    out = work_dir / "map-mistral-1k.svg"
    root, cells, title, texts, _ = attention_map(heed, f, out, "--layer", 1, "--seq", 1000)
    assert int(root.get("data-blocks")) == 63
    assert "CAUSAL_WINDOW 20, N = 1000" in title
    check_against(root, cells, texts, mask(1000, MISTRAL_WINDOW))
    assert not [t for t in root.iter(SVG + "text") if t.get("class") == "count"]
    assert any(g.get("class") == "legend" for g in root.iter(SVG + "g"))
    # The default length is capped at 512.
    root, *_ = attention_map(heed, f, out)
    assert int(root.get("data-seq")) == 512


def test_hostile_layer_name_is_escaped(heed, files, tmp_path):
    # The op's name, a FlatBuffers string (length, bytes, NUL), replaced by markup of the same length.
    data = files["llama"].read_bytes()
    name = b"layer.0.attn"
    hostile = b"<x>&'\"\x01\xff</a>"
    assert len(hostile) == len(name)
    old = len(name).to_bytes(4, "little") + name + b"\0"
    assert data.count(old) == 1
    model = tmp_path / "hostile.heed"
    model.write_bytes(data.replace(old, len(name).to_bytes(4, "little") + hostile + b"\0"))
    out = tmp_path / "hostile.svg"
    root, cells, title, texts, p = attention_map(heed, model, out, "--seq", 40)
    assert title.startswith("Attention map: layer <x>&'\"\\x01\\xFF</a> (ATTENTION 0 of 2)"), title
    assert texts["title"].startswith("Attention map: layer <x>&'\"\\x01\\xFF</a> (ATTENTION 0 of 2")
    assert not root.findall(".//" + SVG + "x") and not root.findall(".//" + SVG + "a")
    assert b"\x01" not in out.read_bytes()


def test_bad_arguments_leave_no_file(heed, files, work_dir, tmp_path):
    model = files["llama"]
    keep = tmp_path / "keep.svg"
    keep.write_text("previous")
    cases = [
        (["--layer", 2], 2, "--layer: '2' is not an integer in 0..1 (the model has 2 ATTENTION layers)"),
        (["--seq", 0], 2, "--seq: '0' is not an integer in 1..256"),
        (["--seq", 257], 2, "--seq: '257' is not an integer in 1..256"),
        (["--window", 0], 2, "--window"),
        (["--window", "wide"], 2, "--window"),
    ]
    for extra, code, message in cases:
        for out in (keep, tmp_path / "new.svg"):
            p = heed.run("inspect", model, "--attention-map", out, *extra, check=False)
            assert p.returncode == code, (extra, p.stderr)
            assert message in p.stderr.decode(), (extra, p.stderr)
        assert keep.read_text() == "previous"
        assert not (tmp_path / "new.svg").exists()

    p = heed.run("inspect", model, "--attention-map", tmp_path / "no-such-dir" / "x.svg", check=False)
    assert p.returncode == 1 and b"cannot write" in p.stderr and b"No such file or directory" in p.stderr
    (tmp_path / "a-dir.svg").mkdir()
    p = heed.run("inspect", model, "--attention-map", tmp_path / "a-dir.svg", check=False)
    assert p.returncode == 1 and b"cannot write" in p.stderr
    assert not list((tmp_path / "a-dir.svg").iterdir())

    text = tmp_path / "notes.txt"
    text.write_text("this is not a heed model, just some text\n" * 4)
    p = heed.run("inspect", text, "--attention-map", tmp_path / "t.svg", check=False)
    assert p.returncode == 1 and str(text).encode() in p.stderr
    assert not (tmp_path / "t.svg").exists()

    p = heed.run("inspect", model, "--attention-map", model, check=False)
    assert p.returncode == 2 and b"is the model file" in p.stderr
    p = heed.run("inspect", model, "--seq", 16, check=False)
    assert p.returncode == 2 and b"go with --attention-map" in p.stderr
    # Nothing but what the test made is left in the directory (no temporaries).
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a-dir.svg", "keep.svg", "notes.txt"]
