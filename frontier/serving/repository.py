"""Frontier's Triton model repository: publishing an artifact precision as version N, checksummed.

Layout (backend ``python``; ``<m>`` is the stable model name, N the Frontier version number)::

    <root>/<m>__vN/config.pbtxt          the version's own model: benchmark traffic calls it by name
    <root>/<m>__vN/N/model.py            the python-backend classifier (package data)
    <root>/<m>__vN/N/frontier_tokens.py  ``frontier.tokens``: the classifier cuts texts as training did
    <root>/<m>__vN/N/model.onnx          model.<precision>.onnx of the artifact
    <root>/<m>__vN/N/tokenizer/...       the artifact's tokenizer files
    <root>/<m>__vN/N/labels.json         labels, max_length and truncation, from the artifact manifest
    <root>/<m>__vN/N/version.json        provenance and the sha256 of every file above
    <root>/<m>/N -> ../<m>__vN/N         the stable name's directory: one relative symlink per version

Backend ``onnxruntime`` (the official Triton image): ``<m>__vN`` is an ensemble whose composing models
``<m>__vN__tokenize`` (python), ``<m>__vN__onnx`` (``onnxruntime_onnx``) and ``<m>__vN__postprocess``
(python) hold the files; the stable ``<m>`` is an ensemble over the promoted version's parts (its ``<m>/N``
is an empty directory, as Triton wants one per version of an ensemble).

The stable name has no ``config.pbtxt``: ``publish`` makes ``<m>/N`` along with the version, and promotion
(``TritonClient.promote``, both executors) loads ``<m>`` with ``<m>__vN``'s config as an override whose
``version_policy`` selects N alone, through Triton's repository API, with no access to this volume.

Checksums: every file copied from the artifact is hashed *after* the copy and compared with the
artifact's ``manifest.json`` before the version exists (``ArtifactError`` on a missing, unlisted or
mismatching file; nothing is left behind). ``verify_version`` re-hashes a published version against its
``version.json``; ``frontier.serving.client`` calls it before every load. A version directory is built
under ``<root>/.staging`` and renamed into place, so Triton never sees half a version.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from frontier import tokens
from frontier.api import names
from frontier.api.spec import ServingSpec
from frontier.artifact import ArtifactManifest, read_manifest, sha256_file
from frontier.errors import ArtifactError, ArtifactMismatch, ServingError
from frontier.serving import configs
from frontier.serving.triton_models import TOKENS_MODULE, model_file

VERSION_FILE = "version.json"


@dataclass(frozen=True)
class PublishedVersion:
    model: str
    """The Triton model that serves exactly this version (benchmark traffic calls it)."""
    version: int
    precision: str
    artifact: str
    manifest_sha256: str
    labels: list[str]
    owner: str | None = None
    """The uid of the ClassifierModel incarnation that published it (None: ``frontier run``)."""


class ModelRepository:
    """The part of a Triton model repository that serves one ClassifierModel (``model_name``)."""

    def __init__(self, root: Path, model_name: str, serving: ServingSpec | None = None) -> None:
        self.root = Path(root)
        self.model_name = model_name
        self.serving = serving or ServingSpec()
        self.root.mkdir(parents=True, exist_ok=True)

    # ----------------------------------------------------------------------------- names
    def version_model(self, version: int) -> str:
        return names.version_model(self.model_name, version)

    def version_dir(self, version: int) -> Path:
        return self.root / self.version_model(version) / str(version)

    def published(self) -> list[int]:
        prefix = f"{self.model_name}__v"
        found = []
        for entry in self.root.glob(f"{prefix}*"):
            suffix = entry.name[len(prefix) :]
            if suffix.isdigit() and (entry / suffix / VERSION_FILE).is_file():
                found.append(int(suffix))
        return sorted(found)

    def describe(self, version: int) -> PublishedVersion:
        path = self.version_dir(version) / VERSION_FILE
        if not path.is_file():
            raise ServingError(f"version {version} of {self.model_name} is not published in {self.root}")
        data = json.loads(path.read_text())
        return PublishedVersion(
            model=self.version_model(version),
            version=version,
            precision=data["precision"],
            artifact=data["artifact"],
            manifest_sha256=data["manifestSha256"],
            labels=data["labels"],
            owner=data.get("owner"),
        )

    # --------------------------------------------------------------------------- publish
    def publish(self, artifact: Path, precision: str, version: int, owner: str | None = None) -> PublishedVersion:
        """Copy ``precision`` of ``artifact`` into the repository as ``version``, checksums verified.

        Idempotent for the same artifact and precision; a version number is never reused for another
        artifact of the same ``owner`` (``ArtifactMismatch``). A version left by another owner — a
        ClassifierModel deleted and created again under the same name (its uid) — is replaced: it can
        serve nobody, and the new incarnation must never be measured or served from its files."""
        artifact = Path(artifact)
        manifest = read_manifest(artifact)
        manifest_sha = sha256_file(artifact / "manifest.json")
        if (self.version_dir(version) / VERSION_FILE).is_file():
            existing = self.describe(version)
            if existing.owner != owner and owner is not None:
                self.remove(version)
            elif existing.manifest_sha256 == manifest_sha and existing.precision == precision:
                self.verify_version(version)
                self.link_stable(version)
                return existing
            else:
                raise ArtifactMismatch(
                    f"version {version} of {self.model_name} is already published from another artifact "
                    f"({existing.artifact} {existing.precision}); version numbers are never reused"
                )
        entry = manifest.precisions.get(precision)
        if entry is None:
            raise ArtifactError(f"{artifact}: no {precision} model (has {', '.join(sorted(manifest.precisions))})")
        copies = self._plan(artifact, manifest, entry.model)
        staging_root = self.root / ".staging"
        staging_root.mkdir(exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=staging_root, prefix=f"{self.version_model(version)}-"))
        try:
            checksums = self._stage(artifact, manifest, copies, staging, version)
            labels = {
                "labels": manifest.labels,
                "max_length": manifest.max_length,
                "truncation": manifest.truncation.value,
                "precision": precision,
            }
            record = {
                "artifact": str(artifact.resolve()),
                "manifestSha256": manifest_sha,
                "name": manifest.name,
                "candidate": manifest.candidate,
                "precision": precision,
                "labels": manifest.labels,
                "files": checksums,
                "owner": owner,
            }
            for directory in self._file_dirs(staging, version):
                (directory / "labels.json").write_text(json.dumps(labels, indent=2) + "\n")
            (staging / self.version_model(version) / str(version) / VERSION_FILE).write_text(
                json.dumps(record, indent=2, sort_keys=True) + "\n"
            )
            for name, config in self._version_configs(version, len(manifest.labels)).items():
                (staging / name).mkdir(parents=True, exist_ok=True)
                (staging / name / "config.pbtxt").write_text(configs.render(config))
            for model_dir in sorted(staging.iterdir()):
                final = self.root / model_dir.name
                if final.exists():
                    shutil.rmtree(final)
                os.replace(model_dir, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self.link_stable(version)
        return self.describe(version)

    def _plan(self, artifact: Path, manifest: ArtifactManifest, onnx_file: str) -> dict[str, str]:
        """``{artifact-relative source: destination role}`` of every file a version needs."""
        plan = {onnx_file: "model.onnx"}
        prefix = manifest.tokenizer.rstrip("/") + "/"
        tokenizer_files = [name for name in manifest.files if name.startswith(prefix)]
        if not any(name.endswith("tokenizer.json") for name in tokenizer_files):
            raise ArtifactError(f"{artifact}: the manifest lists no {prefix}tokenizer.json")
        for name in tokenizer_files:
            plan[name] = "tokenizer/" + name[len(prefix) :]
        return plan

    def _file_dirs(self, staging: Path, version: int) -> list[Path]:
        names = [self.version_model(version)]
        if self.serving.backend == "onnxruntime":
            parts = configs.ensemble_names(self.version_model(version))
            names = [names[0], parts["tokenize"], parts["onnx"], parts["postprocess"]]
        dirs = [staging / name / str(version) for name in names]
        for directory in dirs:
            directory.mkdir(parents=True, exist_ok=True)
        return dirs[:1] if self.serving.backend == "python" else [dirs[1], dirs[3]]

    def _stage(
        self, artifact: Path, manifest: ArtifactManifest, plan: dict[str, str], staging: Path, version: int
    ) -> dict[str, str]:
        """Copy and verify; returns ``{repository-relative path: sha256}``."""
        own = self.version_model(version)
        model_target, tokenizer_target, code = own, own, [(own, "classifier")]
        if self.serving.backend == "onnxruntime":
            parts = configs.ensemble_names(own)
            model_target, tokenizer_target = parts["onnx"], parts["tokenize"]
            code = [(parts["tokenize"], "tokenize"), (parts["postprocess"], "postprocess")]
        self._file_dirs(staging, version)
        checksums: dict[str, str] = {}
        for source, role in plan.items():
            listed = manifest.files.get(source)
            if listed is None:
                raise ArtifactError(f"{artifact}: {source} is not listed in manifest.json")
            if not (artifact / source).is_file():
                raise ArtifactError(f"{artifact}: {source} is missing (listed in manifest.json)")
            model = model_target if role == "model.onnx" else tokenizer_target
            relative = f"{model}/{version}/{role}"
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(artifact / source, target)
            actual = sha256_file(target)
            if actual != listed.sha256:
                raise ArtifactError(
                    f"{artifact}: {source} has sha256 {actual[:12]}…, the manifest says {listed.sha256[:12]}…; "
                    f"version {version} not published"
                )
            checksums[relative] = actual
        for model, kind in code:
            shutil.copyfile(model_file(kind), staging / model / str(version) / "model.py")
            shutil.copyfile(tokens.__file__, staging / model / str(version) / TOKENS_MODULE)
        return checksums

    def _version_configs(self, version: int, num_labels: int) -> dict[str, Any]:
        name = self.version_model(version)
        if self.serving.backend == "python":
            return {name: configs.classifier_config(name, self.serving, num_labels, [version])}
        return configs.ensemble_configs(name, self.serving, num_labels, [version])

    # ---------------------------------------------------------------------------- verify
    def verify_version(self, version: int) -> None:
        """Re-hash every artifact file of a published version; ``ArtifactError`` names the first bad one."""
        path = self.version_dir(version) / VERSION_FILE
        if not path.is_file():
            raise ArtifactError(f"version {version} of {self.model_name}: no {VERSION_FILE} in {path.parent}")
        record = json.loads(path.read_text())
        for relative, expected in record["files"].items():
            target = self.root / relative
            if not target.is_file():
                raise ArtifactError(f"version {version} of {self.model_name}: {relative} is missing")
            actual = sha256_file(target)
            if actual != expected:
                raise ArtifactError(
                    f"version {version} of {self.model_name}: {relative} has sha256 {actual[:12]}…, "
                    f"published as {expected[:12]}…"
                )

    # ------------------------------------------------------------------------ stable name
    def link_stable(self, version: int) -> Path:
        """Make ``<m>/N``, the stable name's directory of ``version``: a relative symlink to the version's
        files (python backend) or an empty directory (an ensemble's). Idempotent; the config is untouched."""
        stable_dir = self.root / self.model_name
        stable_dir.mkdir(exist_ok=True)
        link = stable_dir / str(version)
        if self.serving.backend == "python":
            if not link.exists():
                if link.is_symlink():  # dangling: left by a removed version
                    link.unlink()
                link.symlink_to(Path("..") / self.version_model(version) / str(version), target_is_directory=True)
        else:
            link.mkdir(exist_ok=True)
        return link

    def models_of(self, version: int) -> list[str]:
        """Every Triton model to load for ``version``, composing models first."""
        own = self.version_model(version)
        if self.serving.backend == "python":
            return [own]
        parts = configs.ensemble_names(own)
        return [parts["tokenize"], parts["onnx"], parts["postprocess"], own]

    def remove(self, version: int) -> None:
        for name in self.models_of(version):
            shutil.rmtree(self.root / name, ignore_errors=True)
        link = self.root / self.model_name / str(version)
        if link.is_symlink():
            link.unlink()
        elif link.is_dir():
            shutil.rmtree(link, ignore_errors=True)
