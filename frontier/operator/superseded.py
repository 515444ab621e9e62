"""Which unfinished Jobs no version needs any more, after a spec change retired their versions. Pure.

A spec edit that asks for new versions (``generations``) retires the versions of the older training
generation that are not serving. Their Jobs would otherwise train and benchmark on for hours, holding
GPUs that the new generation's Jobs wait for. Finished Jobs are kept: their results and logs are the
history of the versions in ``status``; they go with the ClassifierModel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from frontier.api.status import ClassifierModelStatus
from frontier.operator import jobs, observe


def superseded_jobs(
    listed: Mapping[str, Mapping[str, Any]], status: ClassifierModelStatus, generation: int
) -> dict[str, str]:
    """``{Job name: why}`` for the running Jobs whose versions were retired or are gone."""
    live = {v.version for v in status.versions if v.state != "Retired"}
    cancel: dict[str, str] = {}
    for name, job in listed.items():
        if observe.job_state(job).phase != "Active":
            continue
        labels = (job.get("metadata") or {}).get("labels") or {}
        role = labels.get(jobs.LABEL_ROLE)
        if role == "train" and _number(labels.get(jobs.LABEL_GENERATION)) not in (None, generation):
            born = labels[jobs.LABEL_GENERATION]
            cancel[name] = f"trains for spec generation {born}; the spec now asks for generation {generation}"
        elif role == "bench" and (number := _number(labels.get(jobs.LABEL_VERSION))) is not None:
            if number not in live:
                cancel[name] = f"benchmarks v{number}, retired by the spec change to generation {generation}"
    return cancel


def _number(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None
