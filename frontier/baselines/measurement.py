"""One ``llm`` baseline of a spec measured on its rows: the same for ``frontier run`` (in-process) and the
baseline Job (``frontier baseline``).

The rows are the benchmark's eval rows (``frontier.data.evaluation.benchmark_rows`` with the first candidate's
seed), the first ``sampleSize`` of them; few-shot examples are ``shots`` training rows drawn stratified.
"""

from __future__ import annotations

import os
from pathlib import Path

from frontier.api import durations
from frontier.api.names import baseline_api_key_variable
from frontier.api.spec import BaselineSpec, ClassifierModelSpec
from frontier.api.status import LlmMeasurement
from frontier.baselines import llm
from frontier.data import data, sampling
from frontier.data.evaluation import benchmark_rows
from frontier.decision.baselines import llm_digest
from frontier.decision.work import BaselineMeasured
from frontier.errors import DataError


class CredentialsMissing(llm.BaselineError):
    """The baseline names credentials that are not there."""


def measure(spec: ClassifierModelSpec, baseline: BaselineSpec, base_dir: Path) -> BaselineMeasured:
    """Measure ``baseline`` (an ``llm`` one) on the spec's eval rows; its key from ``api_key_variable``."""
    config = baseline.llm
    assert config is not None
    variable = baseline_api_key_variable(baseline.name)
    api_key = os.environ.get(variable) or None
    if config.credentials is not None and api_key is None:
        raise CredentialsMissing(f"spec.baselines[{baseline.name}].credentials: no API key (${variable} is not set)")
    seed = spec.candidates[0].hyperparameters.seed
    rows = benchmark_rows(spec, seed, base_dir)
    texts, gold = rows.texts[: config.sample_size], rows.labels[: config.sample_size]
    endpoint = llm.Endpoint(
        config.endpoint,
        config.model,
        api_key,
        config.max_output_tokens,
        durations.to_ms(config.timeout) / 1000.0,
    )
    found = llm.measure_sync(
        endpoint,
        texts,
        gold,
        spec.labels,
        shots=_shots(spec, config.shots, seed, base_dir) if config.prompt == "fewShot" else (),
        concurrency=config.concurrency,
        max_requests=config.max_requests,
    )
    return BaselineMeasured(
        macro_f1=found.macro_f1,
        p50_ms=found.p50_ms,
        p95_ms=found.p95_ms,
        p99_ms=found.p99_ms,
        measurement=LlmMeasurement(
            digest=llm_digest(spec, baseline),
            rows=found.rows,
            accuracy=found.accuracy,
            input_tokens=found.input_tokens,
            output_tokens=found.output_tokens,
            unparseable=found.unparseable,
            errors=found.errors,
            retries=found.retries,
            requests=found.requests,
        ),
    )


def _shots(spec: ClassifierModelSpec, k: int, seed: int, base_dir: Path) -> list[tuple[str, str]]:
    """``k`` training rows drawn stratified (never an eval row): the few-shot examples."""
    train = data.prepare(spec.dataset, spec.labels, base_dir, seed).train
    if len(train) < k:
        raise DataError(f"spec.baselines: {k} few-shot examples asked, the training split has {len(train)} rows")
    picked = sampling.stratified_sample(train.labels, k, seed)
    return [(train.texts[i], spec.labels[int(train.labels[i])]) for i in picked]
