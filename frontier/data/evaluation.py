"""The rows a benchmark scores: the trainer's own eval split, limited to ``benchmark.evalSamples``.

One function for both modes (``frontier run`` and the operator's benchmark Job), so a served version is
scored on the rows its training run was evaluated on, in the same order, and the trainer's predictions
on them (``frontier.artifact.reference_predictions``, cut to the same limit) line up row by row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from frontier.api.spec import ClassifierModelSpec
from frontier.data import data


@dataclass(frozen=True)
class EvalRows:
    """Texts and their gold label indices (into ``spec.labels``), in the trainer's eval order."""

    texts: list[str]
    labels: list[int]

    def __len__(self) -> int:
        return len(self.texts)


def benchmark_rows(spec: ClassifierModelSpec, seed: int, base_dir: Path) -> EvalRows:
    """The eval split ``frontier train`` scores with ``seed`` (the candidate's ``hyperparameters.seed``):
    ``dataset.eval`` or ``evalFraction`` held out of train, ``maxEvalSamples`` applied; then the first
    ``benchmark.evalSamples`` of it when set. Relative URIs resolve against ``base_dir``."""
    split = data.eval_split(spec.dataset, spec.labels, base_dir, seed)
    limit = spec.benchmark.eval_samples
    texts, labels = split.texts, [int(x) for x in split.labels]
    return EvalRows(texts[:limit], labels[:limit]) if limit else EvalRows(texts, labels)
