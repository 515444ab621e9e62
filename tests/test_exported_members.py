"""The public API is exactly what the packages export: every listed name exists, none twice, none private.

(The order of ``__all__`` is kept by ruff's RUF022.)
"""

from __future__ import annotations

import types

import frontier
import frontier.api


def test_public_names_exist_once_and_are_public():
    for module in (frontier, frontier.api):
        assert len(module.__all__) == len(set(module.__all__))
        assert all(hasattr(module, name) for name in module.__all__)
        assert not [n for n in module.__all__ if n.startswith("_") and n != "__version__"]


def test_every_public_class_and_function_of_the_top_level_is_exported():
    public = {
        name for name, value in vars(frontier).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(frontier.__all__) - {"__version__"}
