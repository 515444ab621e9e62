"""``python -m frontier.operator.purge URI``: delete an artifact tree (the purge Job's command).

Local paths (the PVC) with shutil; any other scheme through fsspec, imported only here.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def purge(uri: str) -> None:
    if "://" not in uri or uri.startswith("file://"):
        shutil.rmtree(Path(uri.removeprefix("file://")), ignore_errors=True)
        return
    import fsspec

    protocol = uri.split("://", 1)[0]
    filesystem = fsspec.filesystem(protocol)
    if filesystem.exists(uri):
        filesystem.rm(uri, recursive=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m frontier.operator.purge URI", file=sys.stderr)
        return 2
    purge(args[0])
    print(f"purged {args[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
