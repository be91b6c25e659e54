"""Bootstrap images for real: `deployer images bootstrap` and `deployer apply` on the local
target push each microservice's image to the emulator's registry with the Docker CLI.

The delivery stack's repositories are created with boto3 as that stack creates them
(IMMUTABLE tags, replication to us-west-2 by the delivery prefix): the stack itself is
tested in tests/integration, and what is tested here starts at an existing repository.
The README's first command, `apply staging`, which pushes them as part of the apply, is
tested in test_release_to_production.py.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deployer.config import load as load_config
from tests.e2e.conftest import DeployerCLI

from .conftest import ROOT, Local, docker

CFG = load_config(ROOT)
DELIVERY = CFG.delivery.account_id
STAGING = CFG.environment("staging").account_id
REPOSITORIES = dict(CFG.names.delivery.ecr_repository_names)  # microservice -> repository
PREFIX = CFG.names.delivery.name_prefix + "-"


def delivery_repositories(local: Local) -> dict[str, str]:
    """The microservices' repositories as the delivery stack makes them; their URIs."""
    ecr = local.client("ecr", DELIVERY)
    uris = {}
    for service, name in REPOSITORIES.items():
        created = ecr.create_repository(repositoryName=name, imageTagMutability="IMMUTABLE")
        uris[service] = str(created["repository"]["repositoryUri"])
    ecr.put_replication_configuration(
        replicationConfiguration={
            "rules": [
                {
                    "destinations": [{"region": "us-west-2", "registryId": DELIVERY}],
                    "repositoryFilters": [{"filter": PREFIX, "filterType": "PREFIX_MATCH"}],
                }
            ]
        }
    )
    return uris


def bootstrap_digest(local: Local, repository: str, region: str) -> str | None:
    ecr = local.client("ecr", DELIVERY, region)
    try:
        details = ecr.describe_images(
            repositoryName=repository, imageIds=[{"imageTag": "bootstrap"}]
        )
    except ecr.exceptions.ImageNotFoundException:
        return None
    return str(details["imageDetails"][0]["imageDigest"])


def docker_config_state() -> Any:
    """The user's own Docker client configuration (~/.docker/config.json), as it is."""
    path = Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker")) / "config.json"
    return path.read_text() if path.exists() else None


@pytest.fixture
def cli(registry_emulator: Local, tmp_path: Path) -> Iterator[DeployerCLI]:
    """The deployer, on the test's emulator (its state folder), with a private TMPDIR."""
    runner = DeployerCLI(registry_emulator.state_dir)
    temp = tmp_path / "tmp"
    temp.mkdir()
    runner.env["TMPDIR"] = str(temp)
    try:
        yield runner
    finally:  # the tags the pushes left in the engine
        host = f"{DELIVERY}.dkr.ecr.{CFG.names.delivery.region}.amazonaws.com"
        docker("rmi", *(f"{host}/{name}:bootstrap" for name in REPOSITORIES.values()))


def test_bootstrap_pushes_each_missing_image_once_then_finds_them_there(
    registry_emulator: Local, cli: DeployerCLI, python_base: str
) -> None:
    local = registry_emulator
    uris = delivery_repositories(local)
    before = docker_config_state()

    # No engine: the error says the services will not run and how to get an engine.
    without = DeployerCLI(local.state_dir)
    without.env.update(cli.env, DOCKER_HOST="unix:///nonexistent/docker.sock")
    no_engine = without("images", "bootstrap", "prod", "--json")
    assert no_engine.returncode == 1, no_engine.stderr
    assert "no Docker engine answers" in no_engine.stderr
    assert "services will not run" in no_engine.stderr and "bin/docker-engine" in no_engine.stderr
    assert no_engine.json()["ok"] is False

    pushed = cli("images", "bootstrap", "prod", "--json", "-vv")
    assert pushed.returncode == 0, pushed.stderr[-3000:]
    doc = pushed.json()
    assert doc["tag"] == "bootstrap" and doc["target"] == "local"
    by_service = {i["service"]: i for i in doc["images"]}
    assert set(by_service) == set(REPOSITORIES)
    for service, image in by_service.items():
        assert image["status"] == "pushed"
        assert image["image"] == f"{uris[service]}:bootstrap"  # ECR's own name, unchanged
        assert image["regions"] == {"us-east-1": "pushed", "us-west-2": "replicated"}
        digest = image["digest"]
        for region in ("us-east-1", "us-west-2"):
            assert bootstrap_digest(local, REPOSITORIES[service], region) == digest
        # What was pushed is the image the engine built: same digest, the service in /app.
        repo_digests = docker(
            "image", "inspect", "--format", "{{json .RepoDigests}}", image["image"]
        )
        assert f"{uris[service]}@{digest}" in json.loads(repo_digests.stdout)
        module = service.replace("-", "_") + ".py"
        listed = docker(
            "run", "--rm", image["image"], "python", "-c", "import os; print(os.listdir('/app'))"
        )
        assert module in listed.stdout, listed.stderr
    # The base: python:3.12-slim cannot be pulled here, so the offline one, and it says so.
    bases = {b["image"] for b in doc["base_images"].values()}
    assert bases == {python_base}
    assert "cannot be pulled" in doc["base_images"]["api-service"]["reason"]
    assert "[api-service] pushing" in pushed.stderr
    # The login went to a private folder, gone afterwards; the token was never printed.
    assert docker_config_state() == before
    assert list(Path(cli.env["TMPDIR"]).iterdir()) == []
    base64_of_user = "QVdTO"  # base64 of "AWS:", how every ECR token starts
    assert base64_of_user not in pushed.stdout + pushed.stderr
    assert not re.search(r"password", pushed.stdout + pushed.stderr, re.IGNORECASE)

    again = cli("images", "bootstrap", "prod", "--json")
    assert again.returncode == 0, again.stderr[-3000:]
    for image in again.json()["images"]:
        assert image["status"] == "already there"
        assert image["regions"] == {"us-east-1": "already there", "us-west-2": "already there"}
        assert image["digest"] == by_service[image["service"]]["digest"]
    assert "building" not in again.stderr and "pushing" not in again.stderr
