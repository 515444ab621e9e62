"""The rows a benchmark scores: the trainer's own eval split, limited to ``benchmark.evalSamples``; and the
test rows (``dataset.test``) every version is scored on for people, never for a decision.

One function for both modes (``frontier run`` and the operator's benchmark Job), so a served version is
scored on the rows its training run was evaluated on, in the same order, and the trainer's predictions
on them (``frontier.artifact.reference_predictions``, cut to the same limit) line up row by row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from frontier.api.spec import ClassifierModelSpec
from frontier.data import data, sampling


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


TEST_SEED = 0
"""Every version is scored on the same test rows, whatever its candidate's seed."""


def rows_for_test(spec: ClassifierModelSpec, base_dir: Path) -> EvalRows | None:
    """``dataset.test`` (a stratified sample of ``maxTestSamples`` when set); None without a test source."""
    dataset = spec.dataset
    if dataset.test is None:
        return None
    split = data.read_test_split(dataset, spec.labels, base_dir)
    if dataset.max_test_samples is not None:
        split = split.take(sampling.stratified_sample(split.labels, dataset.max_test_samples, TEST_SEED))
    return EvalRows(split.texts, [int(x) for x in split.labels])
