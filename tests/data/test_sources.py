"""Data sources: formats, URI forms and relative paths."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from frontier.api.spec import DataSource
from frontier.data.sources import data_root, infer_format, read_source, resolve_location
from frontier.errors import DataError
from tests.trainer.helpers import tiny_rows, write_jsonl


def test_jsonl_and_csv_read_the_same_rows(tmp_path: Path) -> None:
    rows = tiny_rows(3)
    write_jsonl(tmp_path / "d.jsonl", rows)
    with (tmp_path / "d.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["text", "label"])
        writer.writeheader()
        writer.writerows(rows)
    for name in ["d.jsonl", "d.csv"]:
        assert read_source(DataSource(uri=name), tmp_path).rows == rows, name


def test_a_jsonl_row_ends_at_a_newline_only_not_inside_its_text(tmp_path: Path) -> None:
    texts = ["next line\u0085in one review", "a line\u2028separator", "windows\r"]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps({"text": t, "label": "a"}, ensure_ascii=False) + "\r\n" for t in texts))
    assert [row["text"] for row in read_source(DataSource(uri=str(path)), tmp_path).rows] == texts


def test_parquet_reads_the_same_rows(tmp_path: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as error:  # e.g. a pyarrow built for NumPy 2 next to NumPy 1.26
        pytest.skip(f"pyarrow unusable here: {error}")
    rows = tiny_rows(3)
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    assert read_source(DataSource(uri="d.parquet"), tmp_path).rows == rows


def test_a_damaged_parquet_file_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "d.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(DataError, match=r"d.parquet: cannot read"):
        read_source(DataSource(uri="d.parquet"), tmp_path)


def test_a_declared_format_wins_over_the_file_name(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "data.txt", tiny_rows(1))
    assert len(read_source(DataSource(uri="data.txt", format="jsonl"), tmp_path).rows) == 3


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("train.jsonl", "/base/train.jsonl"),
        ("./data/train.jsonl", "/base/data/train.jsonl"),
        ("../train.jsonl", "/train.jsonl"),
        ("/abs/train.jsonl", "/abs/train.jsonl"),
        ("file:///abs/train.jsonl", "/abs/train.jsonl"),
        ("s3://bucket/train.jsonl", "s3://bucket/train.jsonl"),
        ("hf://datasets/ag_news", "hf://datasets/ag_news"),
    ],
)
def test_relative_locations_resolve_against_the_base_directory(uri: str, expected: str) -> None:
    assert resolve_location(uri, Path("/base")) == expected


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.jsonl", "jsonl"),
        ("a.jsonl.gz", "jsonl"),
        ("a.ndjson", "jsonl"),
        ("a.CSV", "csv"),
        ("a.csv.gz", "csv"),
        ("a.parquet", "parquet"),
    ],
)
def test_the_format_is_inferred_from_the_name(name: str, fmt: str) -> None:
    assert infer_format(name, None) == fmt


def test_file_uri_and_digest(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", tiny_rows(1))
    split = read_source(DataSource(uri=f"file://{path}"), Path("/elsewhere"))
    import hashlib

    assert split.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert split.location == str(path)


def test_the_data_root_is_the_flag_else_the_environment_else_the_manifests_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = tmp_path / "models" / "model.yaml"
    monkeypatch.delenv("FRONTIER_DATA_ROOT", raising=False)
    assert data_root(None, manifest) == (tmp_path / "models").resolve()
    monkeypatch.setenv("FRONTIER_DATA_ROOT", str(tmp_path / "env"))
    assert data_root(None, manifest) == tmp_path / "env"
    assert data_root(tmp_path / "flag", manifest) == tmp_path / "flag"
