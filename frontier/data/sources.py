"""Reading one split of the data: JSONL (also gzip), CSV or Parquet, from a local path, ``file://``,
``s3://``/``gs://`` (fsspec) or an ``hf://datasets/<id>`` dataset (the ``datasets`` library).

Remote readers are imported only when such a URI is used, so the common local case needs neither.
Rows are returned as they are (dicts) with their 1-based row numbers; mapping them onto the label set
is ``frontier.data.data``'s job. Every failure is a DataError naming the file and the reason.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from frontier.api.spec import DataSource
from frontier.errors import DataError

REMOTE_SCHEMES = ("s3://", "gs://", "http://", "https://")


@dataclass(frozen=True)
class RawSplit:
    """The rows of one source and where they came from."""

    location: str
    rows: list[dict[str, Any]]
    sha256: str | None
    """Digest of the file's bytes; None for hf:// datasets (the dataset's revision identifies them)."""


ENV_DATA_ROOT = "FRONTIER_DATA_ROOT"


def data_root(explicit: Path | None, manifest: Path) -> Path:
    """Where relative data URIs resolve for a command given ``manifest``: ``--data-root``, else
    ``$FRONTIER_DATA_ROOT``, else the manifest's directory (``frontier train`` and ``frontier bench`` alike)."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get(ENV_DATA_ROOT)
    return Path(from_env) if from_env else manifest.resolve().parent


def resolve_location(uri: str, base_dir: Path) -> str:
    """A local absolute path for local URIs (relative ones against ``base_dir``), else the URI as is."""
    if uri.startswith("file://"):
        uri = uri.removeprefix("file://")
    if uri.startswith(("hf://", "pkg://", *REMOTE_SCHEMES)):
        return uri
    path = Path(uri).expanduser()
    return str(path if path.is_absolute() else (base_dir / path).resolve())


def infer_format(location: str, declared: str | None) -> str:
    if declared:
        return declared
    name = location.lower().removesuffix(".gz")
    for suffix, fmt in (
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".json", "jsonl"),
        (".csv", "csv"),
        (".parquet", "parquet"),
        (".pq", "parquet"),
    ):
        if name.endswith(suffix):
            return fmt
    raise DataError(f"{location}: cannot tell the format from the name; set format: jsonl, csv or parquet")


def _read_bytes(location: str) -> bytes:
    try:
        if location.startswith(REMOTE_SCHEMES):
            import fsspec

            with fsspec.open(location, "rb") as handle:
                data: bytes = handle.read()
                return data
        return Path(location).read_bytes()
    except FileNotFoundError:
        raise DataError(f"{location}: cannot read: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{location}: cannot read: is a directory") from None
    except OSError as error:
        raise DataError(f"{location}: cannot read: {error.strerror or error}") from None


def _decompress(location: str, data: bytes) -> bytes:
    if location.lower().endswith(".gz") or data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise DataError(f"{location}: cannot read: not valid gzip ({error})") from None
    return data


def _text(location: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(f"{location}: cannot read: not UTF-8 text ({error.reason} at byte {error.start})") from None


def _jsonl(location: str, text: str) -> Iterator[dict[str, Any]]:
    # Rows end at "\n" only: str.splitlines() also breaks at U+0085, U+2028 …, which JSON strings may hold
    # unescaped (IMDB's reviews do, 707 times).
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{location}: row {number}: not valid JSON ({error.msg})") from None
        if not isinstance(row, dict):
            raise DataError(f"{location}: row {number}: expected a JSON object, got {type(row).__name__}")
        yield row


def _parquet(location: str, data: bytes) -> list[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as error:
        raise DataError(f"{location}: cannot read Parquet: pyarrow is not usable here ({error})") from None
    try:
        rows: list[dict[str, Any]] = pq.read_table(io.BytesIO(data)).to_pylist()
    except Exception as error:  # pyarrow raises several unrelated types for a damaged file
        raise DataError(f"{location}: cannot read: not a valid Parquet file ({error})") from None
    return rows


def _huggingface(location: str, split: str | None) -> list[dict[str, Any]]:
    name = location.removeprefix("hf://").removeprefix("datasets/")
    try:
        import datasets  # type: ignore[import-not-found]
    except ImportError:
        raise DataError(f"{location}: reading hf:// datasets needs the 'datasets' package") from None
    try:
        dataset = datasets.load_dataset(name, split=split or "train")
    except Exception as error:  # network, auth and missing-split errors all end here
        raise DataError(f"{location}: cannot load dataset {name!r} split {split or 'train'!r}: {error}") from None
    return [dict(row) for row in dataset]


def read_source(source: DataSource, base_dir: Path) -> RawSplit:
    location = resolve_location(source.uri, base_dir)
    if location.startswith("hf://"):
        return RawSplit(location, _huggingface(location, source.split), None)
    if location.startswith("pkg://"):
        raise DataError(f"{location}: pkg:// names models, not data; use a path, file://, s3:// or hf://")
    fmt = infer_format(location, source.format)
    raw = _read_bytes(location)
    digest = hashlib.sha256(raw).hexdigest()
    data = _decompress(location, raw)
    if fmt == "parquet":
        rows = _parquet(location, data)
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(_text(location, data), newline="")))
    else:
        rows = list(_jsonl(location, _text(location, data)))
    return RawSplit(location, rows, digest)
