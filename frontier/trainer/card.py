"""MODEL_CARD.md: what a person needs to know about an artifact before serving it."""

from __future__ import annotations

from typing import Any

from frontier.artifact import ArtifactManifest


def _fmt(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def render(manifest: ArtifactManifest, report: dict[str, Any], notes: list[str]) -> str:
    data = manifest.data
    lines = [
        f"# {manifest.name} / {manifest.candidate}",
        "",
        f"A text classifier ({manifest.family}, {manifest.method} fine-tuning, {manifest.pooling} pooling) "
        "trained from "
        f"`{manifest.base_model}` by Frontier. Labels, in output order: "
        f"{', '.join(f'`{label}`' for label in manifest.labels)}. "
        f"Inputs are truncated to {manifest.max_length} tokens ({manifest.truncation.describe()}).",
        "",
        "## Evaluation",
        "",
        f"On {data['eval']['rows']} eval rows ({data['eval']['source']}): macro-F1 "
        f"{_fmt(report['macro_f1'])}, accuracy {_fmt(report['accuracy'])}, balanced accuracy "
        f"{_fmt(report['balanced_accuracy'])} (best checkpoint: step {manifest.metrics['best_step']}).",
        "",
        "| label | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
        *(
            f"| {label} | {_fmt(s['precision'])} | {_fmt(s['recall'])} | {_fmt(s['f1'])} | {s['support']} |"
            for label, s in report["per_class"].items()
        ),
        "",
        "## Precisions",
        "",
        "| precision | file | macro-F1 | accuracy | max abs Δlogit | agreement | method |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {p} | `{e.model}` | {_fmt(e.macro_f1)} | {_fmt(e.accuracy)} | {_fmt(e.max_abs_logit_delta, 6)} "
            f"| {_fmt(e.agreement)} | {e.method} |"
            for p, e in manifest.precisions.items()
        ),
        "",
        "fp32's Δlogit and agreement are against the trained torch model (the parity check); the other "
        "precisions' against the fp32 ONNX model.",
        "",
        "## Data",
        "",
        f"- train: `{data['train']['uri']}`, {data['train']['rows']} rows used of {data['train']['source_rows']} "
        f"(sha256 `{str(data['train']['sha256'])[:16]}…`)",
        f"- eval: `{data['eval']['uri']}`, {data['eval']['rows']} rows",
        *(f"- {note}" for note in notes),
        "",
        "## Limits",
        "",
        "Scores come from the eval split named above and hold only for text like it. The model has not been "
        "checked for bias or robustness to adversarial input.",
        "",
    ]
    return "\n".join(lines)
