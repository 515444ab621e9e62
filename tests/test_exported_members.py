"""The public API is what frontier/__init__ exports, sorted, and nothing private."""

from __future__ import annotations

import frontier
import frontier.api


def test_public_names_are_sorted_and_exist():
    for module in (frontier, frontier.api):
        assert module.__all__ == sorted(module.__all__)
        assert all(hasattr(module, name) for name in module.__all__)
        assert not [n for n in module.__all__ if n.startswith("_") and n != "__version__"]
