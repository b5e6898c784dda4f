"""Broken checkpoints, broken .heed files and CLI misuse: a clean error, never a crash.

Every case wants a positive exit status (a negative one = killed by a signal fails in
HeedCli.run) and a message on stderr; the converter's message has to name the file, field or
tensor at fault.
"""

import json
import os
import shutil

import numpy as np
import pytest

pytestmark = pytest.mark.heed


@pytest.fixture(scope="session")
def good_hf_dir(tiny_dirs):
    """The tiny float32 classifier: a small, valid checkpoint to break in different ways."""
    return tiny_dirs("float32")


def copy_dir(src, dst):
    shutil.copytree(src, dst)
    return dst


def edit_config(d, fn):
    cfg = json.loads((d / "config.json").read_text())
    fn(cfg)
    (d / "config.json").write_text(json.dumps(cfg, indent=2))


def truncate(path, size):
    with open(path, "r+b") as f:
        f.truncate(size)


def rewrite_tensors(d, fn):
    from safetensors.numpy import load_file, save_file
    tensors = load_file(str(d / "model.safetensors"))
    fn(tensors)
    save_file(tensors, str(d / "model.safetensors"), metadata={"format": "pt"})


QUERY_W = "encoder.layer.0.attention.self.query.weight"
OUTPUT_W = "encoder.layer.1.output.dense.weight"


def _missing_field(d):
    edit_config(d, lambda c: c.pop("num_attention_heads"))


def _unknown_model_type(d):
    def f(c):
        c["model_type"] = "gpt9"
        c["architectures"] = ["Gpt9ForCausalLM"]
    edit_config(d, f)


def _config_not_json(d):
    (d / "config.json").write_text('{"model_type": "bert", "hidden_size": 128,')


def _config_missing(d):
    (d / "config.json").unlink()


def _weights_cut_in_half(d):
    p = d / "model.safetensors"
    truncate(p, p.stat().st_size // 2)


def _weights_cut_in_header(d):
    truncate(d / "model.safetensors", 20)


def _weights_missing(d):
    (d / "model.safetensors").unlink()


def _misshaped_tensor(d):
    def f(t):
        t["bert." + QUERY_W] = np.ascontiguousarray(t["bert." + QUERY_W][:, :64])
    rewrite_tensors(d, f)


def _missing_tensor(d):
    rewrite_tensors(d, lambda t: t.pop("bert." + OUTPUT_W))


def _tokenizer_missing(d):
    for name in ("tokenizer.json", "vocab.txt"):
        (d / name).unlink()


# (case, how to break the checkpoint, strings of which stderr must contain at least one)
CONVERT_CASES = [
    ("config-missing-field", _missing_field, ["num_attention_heads"]),
    ("config-unknown-model-type", _unknown_model_type, ["gpt9"]),
    ("config-not-json", _config_not_json, ["config.json"]),
    ("config-missing", _config_missing, ["config.json"]),
    ("weights-truncated-half", _weights_cut_in_half, ["model.safetensors"]),
    ("weights-truncated-header", _weights_cut_in_header, ["model.safetensors"]),
    ("weights-missing", _weights_missing, ["safetensors"]),
    ("tensor-misshaped", _misshaped_tensor, [QUERY_W]),
    ("tensor-missing", _missing_tensor, [OUTPUT_W]),
    ("tokenizer-missing", _tokenizer_missing, ["tokenizer.json", "vocab.txt"]),
]


@pytest.mark.parametrize("case,breaker,expect", CONVERT_CASES,
                         ids=[c[0] for c in CONVERT_CASES])
def test_convert_rejects_broken_checkpoint(case, breaker, expect, heed, good_hf_dir, tmp_path):
    d = copy_dir(good_hf_dir, tmp_path / case)
    breaker(d)
    out = tmp_path / "out.heed"
    p = heed.run("convert", d, "-o", out, "--precision", "fp32", check=False)
    err = p.stderr.decode("utf-8", errors="replace")
    assert p.returncode > 0, f"convert of a broken checkpoint ({case}) exited 0"
    assert err.strip(), "no message on stderr"
    assert any(e.lower() in err.lower() for e in expect), (
        f"stderr does not name any of {expect}:\n{err}")


def test_convert_missing_directory(heed, tmp_path):
    p = heed.run("convert", tmp_path / "no-such-dir", "-o", tmp_path / "out.heed", check=False)
    assert p.returncode > 0 and p.stderr.strip()


def test_convert_int8_rejects_broken_checkpoint(heed, good_hf_dir, tmp_path, calib_file):
    d = copy_dir(good_hf_dir, tmp_path / "broken")
    _misshaped_tensor(d)
    p = heed.run("convert", d, "-o", tmp_path / "out.heed", "--precision", "int8",
                 "--calib", calib_file, check=False)
    assert p.returncode > 0 and QUERY_W in p.stderr.decode("utf-8", errors="replace")


def _truncated_half(src, dst):
    data = src.read_bytes()
    dst.write_bytes(data[:len(data) // 2])


def _truncated_64(src, dst):
    dst.write_bytes(src.read_bytes()[:64])


def _empty(src, dst):
    dst.write_bytes(b"")


def _random_bytes(src, dst):
    dst.write_bytes(np.random.default_rng(1234).integers(0, 256, 1 << 20, dtype=np.uint8)
                    .tobytes())


def _wrong_identifier(src, dst):
    data = bytearray(src.read_bytes())
    assert data[4:8] == b"HEED", "file_identifier HEED expected at bytes 4..8 (schemas/heed.fbs)"
    data[4:8] = b"XXXX"
    dst.write_bytes(bytes(data))


def _flipped_bytes(src, dst):
    """Valid identifier, garbage in the middle of the FlatBuffer tables (first 4 KiB)."""
    data = bytearray(src.read_bytes())
    rng = np.random.default_rng(99)
    for i in rng.integers(8, min(len(data), 4096), 64):
        data[i] ^= 0xFF
    dst.write_bytes(bytes(data))


def _directory(src, dst):
    dst.mkdir()


BAD_FILES = [
    ("truncated-half", _truncated_half),
    ("truncated-64-bytes", _truncated_64),
    ("empty", _empty),
    ("random-bytes", _random_bytes),
    ("wrong-identifier", _wrong_identifier),
    ("directory", _directory),
]


@pytest.mark.parametrize("command", ["embed", "tokenize", "inspect"])
@pytest.mark.parametrize("kind,maker", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_model_file(kind, maker, command, heed, minilm_fp32, tmp_path):
    bad = tmp_path / f"{kind}.heed"
    maker(minilm_fp32, bad)
    args = [command, bad] + (["hello world"] if command != "inspect" else [])
    p = heed.run(*args, check=False)
    assert p.returncode > 0, f"heed {command} on a {kind} file exited 0"
    assert p.stderr.strip(), "no message on stderr"


def test_missing_model_file(heed, tmp_path):
    p = heed.run("embed", tmp_path / "missing.heed", "hello", check=False)
    assert p.returncode > 0 and p.stderr.strip()


def test_corrupted_tables_do_not_crash(heed, minilm_fp32, tmp_path):
    """Flipped bytes may still load by chance; whatever happens, no signal (checked by run)."""
    bad = tmp_path / "flipped.heed"
    _flipped_bytes(minilm_fp32, bad)
    p = heed.run("embed", bad, "hello world", check=False)
    if p.returncode != 0:
        assert p.stderr.strip()


@pytest.mark.parametrize("args", [
    ["no-such-command"],
    ["embed"],
    ["convert"],
    ["convert", "/nonexistent-dir"],
    ["tokenize", "--json"],
], ids=["unknown-command", "embed-no-model", "convert-no-args", "convert-no-output",
        "tokenize-no-model"])
def test_cli_misuse(args, heed):
    p = heed.run(*args, check=False, timeout=60)
    assert p.returncode > 0
    assert p.stderr.strip()
