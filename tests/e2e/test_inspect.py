"""heed inspect --json on the converted models."""

import json

import pytest

from conftest import record

pytestmark = pytest.mark.heed


@pytest.mark.parametrize("which", ["fp32", "int8"])
def test_inspect_json(which, heed, request):
    model = request.getfixturevalue(f"minilm_{which}")
    p = heed.run("inspect", model, "--json")
    try:
        info = json.loads(p.stdout.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        pytest.fail(f"heed inspect --json did not print one JSON value: {e}\n{p.stdout[:500]!r}")
    assert isinstance(info, dict)
    assert "ops" in info and "tensors" in info, sorted(info)
    record(f"inspect minilm {which}", file_bytes=model.stat().st_size, keys=sorted(info))
    plain = heed.run("inspect", model)
    assert plain.stdout.strip()


@pytest.mark.parametrize("which", ["fp32", "int8"])
def test_inspect_graph_inputs_are_hf_model_inputs(which, heed, hf_tokenizer, request):
    """The converted graph's inputs carry roles, named as the Hugging Face tokenizer names the
    model's inputs; heed runs one unpadded sequence, so it needs no attention mask."""
    model = request.getfixturevalue(f"minilm_{which}")
    info = json.loads(heed.run("inspect", model, "--json").stdout.decode("utf-8"))
    roles = {i["name"]: i["role"] for i in info["inputs"]}
    assert roles == {"input_ids": "TOKEN_IDS", "token_type_ids": "TOKEN_TYPE_IDS"}, info["inputs"]
    assert set(roles) <= set(hf_tokenizer.model_input_names), hf_tokenizer.model_input_names
    assert info["schema_version"] >= 1002
