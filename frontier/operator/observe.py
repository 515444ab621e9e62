"""What a Job's status says, as one of Missing / Active / Succeeded / Failed with the Job's reason. Pure.

A Job has failed when it carries a ``Failed`` condition (backoff limit, deadline, pod failure policy)
or when ``status.failed`` exceeds ``spec.backoffLimit`` (the controller may not have written the
condition yet); it has succeeded with a ``Complete`` condition or ``status.succeeded`` reaching
``spec.completions`` (1 for Frontier's Jobs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Phase = Literal["Missing", "Active", "Succeeded", "Failed"]


@dataclass(frozen=True)
class JobState:
    phase: Phase
    reason: str = ""
    message: str = ""


def _condition(status: Mapping[str, Any], type_: str) -> Mapping[str, Any] | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == type_ and condition.get("status") == "True":
            return dict(condition)
    return None


def job_state(job: Mapping[str, Any] | None) -> JobState:
    if job is None:
        return JobState("Missing")
    spec = job.get("spec") or {}
    status = job.get("status") or {}
    failed = _condition(status, "Failed")
    if failed is not None:
        return JobState("Failed", str(failed.get("reason") or "JobFailed"), str(failed.get("message") or ""))
    backoff_limit = int(spec.get("backoffLimit", 6))
    if int(status.get("failed") or 0) >= backoff_limit + 1:
        return JobState(
            "Failed", "BackoffLimitExceeded", f"{status.get('failed')} failed pod(s), backoffLimit {backoff_limit}"
        )
    complete = _condition(status, "Complete")
    if complete is not None or int(status.get("succeeded") or 0) >= int(spec.get("completions") or 1):
        return JobState("Succeeded", "Completed", "")
    return JobState("Active")
