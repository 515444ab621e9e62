"""The training and evaluation data of one run, shaped as the spec says.

Order of shaping (each step stratified and deterministic by ``hyperparameters.seed``):

1. read the train source (and the eval source, if any) and map every label onto ``spec.labels``;
2. without an eval source, hold out ``evalFraction`` of train (stratified) for evaluation;
3. ``maxTrainSamples`` / ``maxEvalSamples``: stratified samples of the splits;
4. ``balance: resample`` moves every training class toward the mean class count
   (``classWeights`` is applied by the loss, see ``loop.py``).

Anything that would make the run meaningless (unknown labels, missing fields, empty texts, empty
splits, a class without training rows) is a DataError that says what and where. Row numbers count the
data rows of a source from 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from frontier.api.spec import DatasetSpec, DataSource
from frontier.data import sampling
from frontier.data.sampling import Labels
from frontier.data.sources import RawSplit, read_source
from frontier.errors import DataError

MAX_LISTED = 5


@dataclass
class Split:
    texts: list[str]
    labels: Labels
    location: str
    sha256: str | None = None
    source_rows: int = 0

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, indices: np.ndarray[Any, np.dtype[np.int64]]) -> Split:
        return Split(
            [self.texts[i] for i in indices], self.labels[indices], self.location, self.sha256, self.source_rows
        )

    def counts(self, num_classes: int) -> list[int]:
        return [int(c) for c in np.bincount(self.labels, minlength=num_classes)]


@dataclass
class TrainingData:
    labels: list[str]
    train: Split
    eval: Split
    eval_source: str
    """``source`` (its own eval file) or ``held-out`` (stratified split of train)."""
    class_weights: list[float] | None = None
    notes: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        """The manifest's ``data``: where the rows came from, their digests and the counts used."""
        k = len(self.labels)
        return {
            "train": {
                "uri": self.train.location,
                "sha256": self.train.sha256,
                "source_rows": self.train.source_rows,
                "rows": len(self.train),
                "per_class": dict(zip(self.labels, self.train.counts(k), strict=True)),
            },
            "eval": {
                "uri": self.eval.location,
                "sha256": self.eval.sha256,
                "source": self.eval_source,
                "source_rows": self.eval.source_rows,
                "rows": len(self.eval),
                "per_class": dict(zip(self.labels, self.eval.counts(k), strict=True)),
            },
            "class_weights": self.class_weights,
        }


def _listing(items: list[tuple[int, Any]]) -> str:
    shown = ", ".join(f"row {n} ({value!r})" for n, value in items[:MAX_LISTED])
    return shown + (", …" if len(items) > MAX_LISTED else "")


def _label_index(value: Any, index: dict[str, int], k: int) -> int | None:
    if isinstance(value, str):
        key = value.strip()
        if key in index:
            return index[key]
        # A numeric string from CSV ("2") names the label by position when it is not itself a name.
        return int(key) if key.isdigit() and int(key) < k else None
    if isinstance(value, int) and not isinstance(value, bool):
        if str(value) in index:
            return index[str(value)]
        return value if 0 <= value < k else None
    return None


def map_rows(raw: RawSplit, split: str, labels: list[str], text_field: str, label_field: str) -> Split:
    """Texts and label indices of one source; labels match ``labels`` by name (or by index for ints)."""
    if not raw.rows:
        raise DataError(f"{split} split {raw.location}: no rows")
    index = {name: i for i, name in enumerate(labels)}
    texts: list[str] = []
    ids: list[int] = []
    unknown: list[tuple[int, Any]] = []
    for number, row in enumerate(raw.rows, start=1):
        if text_field not in row or row[text_field] is None:
            raise DataError(
                f"{split} split {raw.location}: row {number} has no {text_field!r} field "
                f"(dataset.textField); fields: {', '.join(map(str, row)) or 'none'}"
            )
        if label_field not in row or row[label_field] is None:
            raise DataError(
                f"{split} split {raw.location}: row {number} has no {label_field!r} field "
                f"(dataset.labelField); fields: {', '.join(map(str, row)) or 'none'}"
            )
        text = str(row[text_field])
        if not text.strip():
            raise DataError(f"{split} split {raw.location}: row {number} has an empty text")
        label = _label_index(row[label_field], index, len(labels))
        if label is None:
            unknown.append((number, row[label_field]))
            continue
        texts.append(text)
        ids.append(label)
    if unknown:
        raise DataError(
            f"{split} split {raw.location}: {len(unknown)} row(s) have a label not in spec.labels "
            f"[{', '.join(labels)}]: {_listing(unknown)}"
        )
    return Split(texts, np.asarray(ids, dtype=np.int64), raw.location, raw.sha256, len(raw.rows))


def with_sources(dataset: DatasetSpec, *, train_uri: str | None = None, eval_uri: str | None = None) -> DatasetSpec:
    """``dataset`` with its train and/or eval source replaced (``--train-uri`` / ``--eval-uri``).

    An eval source replaces ``evalFraction``: the held-out split is only made when there is none."""
    if train_uri:
        dataset = dataset.model_copy(update={"train": DataSource(uri=train_uri)})
    if eval_uri:
        dataset = dataset.model_copy(update={"eval": DataSource(uri=eval_uri), "eval_fraction": None})
    return dataset


def _read_eval(dataset: DatasetSpec, source: DataSource, labels: list[str], base_dir: Path) -> Split:
    return map_rows(read_source(source, base_dir), "eval", labels, dataset.text_field, dataset.label_field)


def read_test_split(dataset: DatasetSpec, labels: list[str], base_dir: Path) -> Split:
    """The rows of ``dataset.test``, mapped onto ``labels`` (no training run reads them)."""
    assert dataset.test is not None
    raw = read_source(dataset.test, base_dir)
    return map_rows(raw, "test", labels, dataset.text_field, dataset.label_field)


def _limit_eval(evaluation: Split, dataset: DatasetSpec, seed: int) -> Split:
    if dataset.max_eval_samples is None:
        return evaluation
    return evaluation.take(sampling.stratified_sample(evaluation.labels, dataset.max_eval_samples, seed))


def eval_split(dataset: DatasetSpec, labels: list[str], base_dir: Path, seed: int) -> Split:
    """The eval rows ``prepare`` gives for the same arguments, in the same order.

    With an eval source of its own the train source is not read (its rows cannot change the eval split);
    without one the eval split is held out of train, so everything ``prepare`` does is needed."""
    if dataset.eval is None:
        return prepare(dataset, labels, base_dir, seed).eval
    return _limit_eval(_read_eval(dataset, dataset.eval, labels, base_dir), dataset, seed)


def prepare(
    dataset: DatasetSpec,
    labels: list[str],
    base_dir: Path,
    seed: int,
    *,
    max_train_samples: int | None = None,
) -> TrainingData:
    """Read, map and shape the data of a run (``max_train_samples`` overrides the spec's)."""
    k = len(labels)
    train = map_rows(read_source(dataset.train, base_dir), "train", labels, dataset.text_field, dataset.label_field)
    if dataset.eval is not None:
        evaluation = _read_eval(dataset, dataset.eval, labels, base_dir)
        eval_source = "source"
    else:
        keep, held = sampling.stratified_split(train.labels, dataset.effective_eval_fraction, seed)
        train, evaluation = train.take(keep), train.take(held)
        eval_source = f"held-out {dataset.effective_eval_fraction:.0%} of train"
    limit = max_train_samples or dataset.max_train_samples
    if limit is not None:
        train = train.take(sampling.stratified_sample(train.labels, limit, seed))
    evaluation = _limit_eval(evaluation, dataset, seed)
    if len(evaluation) == 0:
        raise DataError(
            f"eval split {evaluation.location}: no rows left (too few training rows to hold out "
            "an eval split; add dataset.eval or more data)"
        )
    missing = [labels[c] for c, n in enumerate(train.counts(k)) if n == 0]
    if missing:
        raise DataError(
            f"train split {train.location}: no examples of {', '.join(map(repr, missing))} "
            f"after sampling ({len(train)} rows); every label in spec.labels needs training rows"
        )
    data = TrainingData(labels, train, evaluation, eval_source)
    if dataset.balance == "resample":
        data.train = train.take(sampling.resample_balanced(train.labels, k, seed))
        data.notes.append(f"resampled train toward the mean class count: {data.train.counts(k)}")
    elif dataset.balance == "classWeights":
        data.class_weights = [float(w) for w in sampling.class_weights(train.labels, k)]
    return data
