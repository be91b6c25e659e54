"""The build image for real: `deployer build-image --push` builds images/build-image with the
Docker CLI and pushes it to the emulator's registry; a second push finds it there; a changed
image under the same tag is refused, naming both digests.

The delivery stack's build-image repository is created with boto3 as the stack creates it
(IMMUTABLE tags); the stack itself is tested in tests/integration. The three runs share the
engine's layer cache: only the first builds (about 50 s cold, under 1 s cached), the changed
content is one small layer (the Dockerfile's BUILD_NOTE).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from deployer.config import load as load_config
from tests.e2e.conftest import DeployerCLI

from .conftest import ROOT, Local, docker

CFG = load_config(ROOT)
DELIVERY = CFG.delivery.account_id
REPOSITORY = CFG.names.delivery.build_image_repo_name
TAG = CFG.pipeline.build_image_tag


@pytest.fixture
def cli(registry_emulator: Local, tmp_path: Path) -> Iterator[DeployerCLI]:
    """The deployer, on the test's emulator, with a private TMPDIR."""
    runner = DeployerCLI(registry_emulator.state_dir)
    temp = tmp_path / "tmp"
    temp.mkdir()
    runner.env["TMPDIR"] = str(temp)
    try:
        yield runner
    finally:  # the tags the runs left; --no-prune keeps the layer cache for the next run
        host = f"{DELIVERY}.dkr.ecr.{CFG.names.delivery.region}.amazonaws.com"
        docker("rmi", "--no-prune", f"{host}/{REPOSITORY}:{TAG}", f"{REPOSITORY}:{TAG}")


def test_build_image_push_then_already_there_then_a_changed_image_refused(
    registry_emulator: Local, cli: DeployerCLI, python_base: str
) -> None:
    local = registry_emulator
    ecr = local.client("ecr", DELIVERY)
    uri = ecr.create_repository(repositoryName=REPOSITORY, imageTagMutability="IMMUTABLE")[
        "repository"
    ]["repositoryUri"]

    pushed = cli("build-image", "--push", "--json", timeout=1200)
    assert pushed.returncode == 0, pushed.stderr[-3000:]
    doc = pushed.json()
    assert doc["status"] == "pushed" and doc["target"] == "local"
    assert doc["image"] == f"{uri}:{TAG}" and doc["base"] == python_base
    [stored] = ecr.describe_images(repositoryName=REPOSITORY)["imageDetails"]
    assert stored["imageTags"] == [TAG] and stored["imageDigest"] == doc["digest"]
    # What was pushed is what the engine built: its manifest names the image's config.
    repo_digests = docker("image", "inspect", "--format", "{{json .RepoDigests}}", doc["image"])
    assert f"{uri}@{doc['digest']}" in json.loads(repo_digests.stdout)
    manifest = ecr.batch_get_image(repositoryName=REPOSITORY, imageIds=[{"imageTag": TAG}])
    assert json.loads(manifest["images"][0]["imageManifest"])["config"]["digest"] == doc["image_id"]
    # And it has what the buildspecs run.
    tools = docker(
        "run", "--rm", doc["image"], "bash", "-c",
        "python3 -m pytest --version && docker --version && aws --version && git --version "
        "&& zip -v >/dev/null && unzip -v >/dev/null && python3 -m venv /tmp/v && echo ok",
    )  # fmt: skip
    assert tools.returncode == 0 and tools.stdout.strip().endswith("ok"), tools.stderr
    assert "[build-image] pushing" in pushed.stderr

    again = cli("build-image", "--push", "--json")
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.json()["status"] == "already there"
    assert again.json()["digest"] == doc["digest"]
    assert "pushing" not in again.stderr

    note = f"BUILD_NOTE=changed {uuid.uuid4()}"
    changed = cli("build-image", "--push", "--json", "--build-arg", note)
    assert changed.returncode == 1, changed.stderr[-3000:]
    new_id = docker("image", "inspect", "--format", "{{.Id}}", f"{REPOSITORY}:{TAG}")
    assert new_id.stdout.strip() != doc["image_id"]
    assert doc["digest"] in changed.stderr and new_id.stdout.strip() in changed.stderr
    assert "raise pipeline.build_image_tag" in changed.stderr
    assert changed.json()["ok"] is False
    assert "pushing" not in changed.stderr
    [still] = ecr.describe_images(repositoryName=REPOSITORY)["imageDetails"]
    assert still["imageDigest"] == doc["digest"]
