"""The local runtime's foundation: a Docker engine, and images built without a registry.

No container registry is reachable here, so the sample services build on an offline
Python base (``bin/base-images``: Debian's own packages, mmdebstrap, ``docker import``,
cached by its recipe outside the clone). ``.ci/run`` starts the engine
(``bin/docker-engine``) and the base image build first thing; these tests wait for that
build (the script's lock) and then find it done.

Without an engine these tests fail, saying how to get one; they never skip.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from .conftest import BASE, ROOT, docker


def test_the_offline_base_is_debian_python_and_never_tagged_python(python_base: str) -> None:
    version = docker("run", "--rm", python_base, "python", "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("Python 3.11."), version.stdout  # Debian bookworm's
    tools = docker("run", "--rm", python_base, "python3", "-c", "import venv, pip, ssl")
    assert tools.returncode == 0, tools.stderr
    inspect = docker("image", "inspect", python_base, "--format", "{{json .RepoTags}}")
    tags = json.loads(inspect.stdout)
    assert BASE in tags
    assert not [t for t in tags if t.startswith("python:")], tags


@pytest.fixture
def api_image(python_base: str) -> Iterator[str]:
    tag = f"deployer-test/api-service:{uuid.uuid4().hex[:12]}"
    context = ROOT / "examples" / "monorepo" / "services" / "api-service"
    build = docker(
        "build", "--quiet", "--build-arg", f"BASE_IMAGE={python_base}", "-t", tag, str(context),
        timeout=600,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-3000:]
    try:
        yield tag
    finally:
        docker("rmi", "--force", tag)


def test_a_sample_service_builds_on_the_offline_base_and_answers_on_loopback(
    api_image: str,
) -> None:
    run = docker("run", "--detach", "--publish", "127.0.0.1::8080", api_image)
    assert run.returncode == 0, run.stderr
    container = run.stdout.strip()
    try:
        port = docker("port", container, "8080/tcp").stdout.split()
        host, _, number = port[0].rpartition(":")
        # Published on the loopback address only.
        assert host == "127.0.0.1", port
        url = f"http://127.0.0.1:{number}/health"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    body = json.loads(response.read())
                    assert response.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline:
                    logs = docker("logs", container).stderr[-2000:]
                    pytest.fail(f"{url} did not answer within 30 s; container logs:\n{logs}")
                time.sleep(0.2)
        assert body["status"] == "ok" and body["service"] == "api-service"
    finally:
        docker("rm", "--force", container)
