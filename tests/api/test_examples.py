"""Every ClassifierModel in examples/ is valid."""

from __future__ import annotations

import pytest
import yaml

from frontier import api
from tests.conftest import ROOT

EXAMPLES = sorted(
    p for p in (ROOT / "examples").rglob("*.yaml")
    if any(isinstance(d, dict) and d.get("kind") == "ClassifierModel" for d in yaml.safe_load_all(p.read_text()))
)


def test_there_are_examples():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_example_validates(path):
    model = api.load(path)
    assert model.spec.candidates
