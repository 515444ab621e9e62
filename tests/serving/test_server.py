"""The embedded Triton's own lifecycle: failing to start, ports in use, and a clean stop."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from frontier.errors import ServingError
from frontier.serving.client import TritonClient
from frontier.serving.repository import ModelRepository
from frontier.serving.server import EmbeddedTriton, group_members

pytestmark = pytest.mark.triton


def test_triton_that_cannot_start_raises_serving_error_with_its_log(tmp_path: Path) -> None:
    server = EmbeddedTriton(tmp_path / "no-such-repository", workdir=tmp_path / "w", startup_timeout_s=60)
    with pytest.raises(ServingError, match=r"(?s)exited with status .*no-such-repository"):
        server.start()
    assert not server.running()


def test_a_port_in_use_is_refused_by_name(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = EmbeddedTriton(tmp_path, http_port=port, workdir=tmp_path / "w")
        with pytest.raises(ServingError, match=rf"port {port} \(http port\) is already in use"):
            server.start()
    assert server.process is None


@pytest.mark.ml
def test_stop_leaves_no_server_or_stub_process_behind(tmp_path: Path, artifact: Path) -> None:
    repo = ModelRepository(tmp_path / "repo", "stopped")
    repo.publish(artifact, "fp32", 1)
    with EmbeddedTriton(repo.root, workdir=tmp_path / "w") as server:
        TritonClient(server.http_url).load_version(repo, 1)
        group = server.pgid
        assert group is not None
        names = {name for _, name in group_members(group)}
        assert "tritonserver" in names
        assert any(name.startswith("triton_python_b") for name in names)  # /proc truncates to 15 chars
    assert group_members(group) == []
    assert not server.running()
