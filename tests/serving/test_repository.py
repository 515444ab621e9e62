"""Publishing an artifact precision into the Triton model repository: layout, configs and checksums."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from frontier.api.spec import ServingSpec
from frontier.errors import ArtifactError, ArtifactMismatch
from frontier.serving import configs
from frontier.serving.client import TritonClient
from frontier.serving.repository import ModelRepository

pytestmark = pytest.mark.ml


def copy_artifact(artifact: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(artifact, tmp_path / "artifact"))


def test_a_published_version_holds_the_verified_files_and_a_valid_config(artifact: Path, tmp_path: Path) -> None:
    repo = ModelRepository(tmp_path / "repo", "intents", ServingSpec(max_batch_size=16, instance_count=2))
    published = repo.publish(artifact, "fp32", 3)

    assert published.model == "intents__v3"
    version_dir = tmp_path / "repo" / "intents__v3" / "3"
    assert {p.name for p in version_dir.iterdir()} >= {
        "model.py",
        "frontier_tokens.py",  # the rule that cuts long texts, as the trainer cut them
        "model.onnx",
        "tokenizer",
        "labels.json",
    }
    assert json.loads((version_dir / "labels.json").read_text()) == {
        "labels": ["negative", "neutral", "positive"],
        "max_length": 128,
        "truncation": "head",
        "precision": "fp32",
    }
    config = configs.parse((tmp_path / "repo" / "intents__v3" / "config.pbtxt").read_text())
    assert config.backend == "python" and config.max_batch_size == 16
    assert list(config.version_policy.specific.versions) == [3]
    assert [i.name for i in config.input] == ["TEXT"] and list(config.input[0].dims) == [1]
    assert {o.name: list(o.dims) for o in config.output} == {"LABEL": [1], "PROBABILITY": [1], "PROBABILITIES": [3]}
    assert config.instance_group[0].count == 2
    assert repo.published() == [3]
    repo.verify_version(3)


def test_publishing_again_is_idempotent_but_a_version_number_is_never_reused(artifact: Path, tmp_path: Path) -> None:
    repo = ModelRepository(tmp_path / "repo", "intents")
    first = repo.publish(artifact, "fp32", 1)
    assert repo.publish(artifact, "fp32", 1) == first
    other = copy_artifact(artifact, tmp_path)
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["name"] = "another-run"
    (other / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactMismatch, match="never reused"):
        repo.publish(other, "fp32", 1)
    # A version another incarnation of the resource (another owner uid) left is replaced, never served.
    repo.publish(other, "fp32", 1, owner="uid-of-the-new-incarnation")
    assert repo.describe(1).owner == "uid-of-the-new-incarnation" and repo.describe(1).artifact == str(other)


def test_a_file_that_does_not_match_its_checksum_is_refused_and_nothing_is_published(
    artifact: Path, tmp_path: Path
) -> None:
    broken = copy_artifact(artifact, tmp_path)
    with (broken / "tokenizer" / "tokenizer.json").open("a") as handle:
        handle.write(" ")
    repo = ModelRepository(tmp_path / "repo", "intents")

    with pytest.raises(ArtifactError, match=r"tokenizer/tokenizer.json has sha256 .* the manifest says"):
        repo.publish(broken, "fp32", 1)
    assert repo.published() == []
    assert not (tmp_path / "repo" / "intents__v1").exists()


def test_a_missing_file_is_refused(artifact: Path, tmp_path: Path) -> None:
    broken = copy_artifact(artifact, tmp_path)
    (broken / "model.fp32.onnx").unlink()
    repo = ModelRepository(tmp_path / "repo", "intents")

    with pytest.raises(ArtifactError, match=r"model.fp32.onnx is missing"):
        repo.publish(broken, "fp32", 1)
    with pytest.raises(ArtifactError, match="no int8 model"):
        repo.publish(artifact, "int8", 2)
    assert repo.published() == []


def test_a_version_changed_after_publishing_is_refused_before_triton_loads_it(artifact: Path, tmp_path: Path) -> None:
    repo = ModelRepository(tmp_path / "repo", "intents")
    repo.publish(artifact, "fp32", 1)
    with (tmp_path / "repo" / "intents__v1" / "1" / "model.onnx").open("r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01\x02")
    unreachable = TritonClient("127.0.0.1:9")  # never contacted: verification fails first

    with pytest.raises(ArtifactError, match=r"model\.onnx has sha256"):
        unreachable.load_version(repo, 1)


def test_the_onnxruntime_backend_writes_a_valid_ensemble(artifact: Path, tmp_path: Path) -> None:
    repo = ModelRepository(tmp_path / "repo", "intents", ServingSpec(backend="onnxruntime", intra_op_threads=2))
    repo.publish(artifact, "fp32", 4)
    root = tmp_path / "repo"

    parsed = {p.parent.name: configs.parse(p.read_text()) for p in root.glob("*/config.pbtxt")}
    assert (root / "intents" / "4").is_dir()  # the stable name's version directory; its config is Triton's
    assert set(parsed) == {
        "intents__v4",
        "intents__v4__tokenize",
        "intents__v4__onnx",
        "intents__v4__postprocess",
    }
    assert parsed["intents__v4__onnx"].platform == "onnxruntime_onnx"
    assert parsed["intents__v4__onnx"].parameters["intra_op_thread_count"].string_value == "2"
    assert (root / "intents__v4__onnx" / "4" / "model.onnx").is_file()
    assert (root / "intents__v4__tokenize" / "4" / "tokenizer" / "tokenizer.json").is_file()
    assert (root / "intents__v4__tokenize" / "4" / "frontier_tokens.py").is_file()
    assert (root / "intents__v4__postprocess" / "4" / "model.py").is_file()
    ensemble = parsed["intents__v4"]  # promotion loads the stable name with this config, renamed
    assert ensemble.platform == "ensemble"
    steps = ensemble.ensemble_scheduling.step
    assert [s.model_name for s in steps] == [
        "intents__v4__tokenize",
        "intents__v4__onnx",
        "intents__v4__postprocess",
    ]
    produced = {v for s in steps for v in s.output_map.values()}
    consumed = {v for s in steps for v in s.input_map.values()}
    assert consumed <= produced | {"TEXT"}
    assert {"LABEL", "PROBABILITY", "PROBABILITIES"} <= produced
    assert repo.models_of(4) == [
        "intents__v4__tokenize",
        "intents__v4__onnx",
        "intents__v4__postprocess",
        "intents__v4",
    ]
    repo.verify_version(4)
