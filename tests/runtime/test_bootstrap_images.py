"""Bootstrap images for real: `deployer images bootstrap` and `deployer apply` on the local
target push each microservice's image to the emulator's registry with the Docker CLI.

The delivery stack's repositories are created with boto3 as that stack creates them
(IMMUTABLE tags, replication to us-west-2 by the delivery prefix): the stack itself is
tested in tests/integration, and what is tested here starts at an existing repository.
The e2e-marked test runs the README's first command, `apply staging`, on an emulator with
its runtime: the delivery stack is applied first (its repositories), then staging, and its
task definitions name images that exist.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.request
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


@pytest.mark.e2e
def test_apply_staging_on_local_ends_with_its_task_definitions_images_in_ecr(
    registry_emulator: Local, cli: DeployerCLI, python_base: str
) -> None:
    """The README's first command: with the emulator's registry and an engine, staging's
    apply stands up the delivery stack first (its repositories hold the images), then
    staging, then pushes each service's bootstrap image."""
    local = registry_emulator
    cli.env["DEPLOYER_SECRET_AUTH_SERVICE_JWT_SIGNING_KEY"] = SECRET
    applied = cli("apply", "staging", "--json")
    assert applied.returncode == 0, applied.stderr[-3000:]
    assert "delivery is not applied on the local target" in applied.stderr
    document = applied.json()
    assert [r["status"] for r in document["delivery_first"]["regions"]] == ["applied"]
    assert "warning: bootstrap images" not in applied.stderr
    ecr = local.client("ecr", DELIVERY)
    uris = {
        service: ecr.describe_repositories(repositoryNames=[name])["repositories"][0][
            "repositoryUri"
        ]
        for service, name in REPOSITORIES.items()
    }
    images = {i["service"]: i for i in document["images"]["images"]}
    assert {s: i["status"] for s, i in images.items()} == dict.fromkeys(REPOSITORIES, "pushed")

    # Each task definition names <repository>:bootstrap, and that image is in ECR.
    ecs = local.client("ecs", STAGING)
    named = set()
    for arn in ecs.list_task_definitions()["taskDefinitionArns"]:
        definition = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        named |= {c["image"] for c in definition["containerDefinitions"]}
    assert named == {f"{uri}:bootstrap" for uri in uris.values()}
    for service, repository in REPOSITORIES.items():
        assert bootstrap_digest(local, repository, "us-east-1") == images[service]["digest"]

    # Every service_endpoints URL is the loopback port serving its production listener,
    # and answers /health with its service's JSON once its tasks run (auth-service's
    # after its secret is seeded: its first tasks stop with ResourceInitializationError,
    # then ECS's back-off). load_balancer_dns_names stay AWS's.
    (region,) = document["regions"]
    urls = region["outputs"]["service_endpoints"]
    assert set(urls) == set(REPOSITORIES)
    for service, url in urls.items():
        assert url.startswith("http://127.0.0.1:"), url
        assert region["outputs"]["load_balancer_dns_names"][service].endswith(".elb.amazonaws.com")
        health = wait_for_health(f"{url}/health", service)
        if service == "auth-service":
            assert health["signing_key"] == "set"  # the secret reached its environment
    shown = cli("output", "staging", "--json")
    assert shown.json()["regions"]["us-east-1"]["service_endpoints"] == urls
    # The secret's value is in no log: the deployer's, the emulator's, the services'.
    logs = local.client("logs", STAGING)
    for group in logs.describe_log_groups()["logGroups"]:
        for event in logs.filter_log_events(logGroupName=group["logGroupName"])["events"]:
            assert SECRET not in event["message"], group["logGroupName"]
    assert SECRET not in applied.stdout + applied.stderr
    emulator_log = (local.state_dir / "emulator.log").read_text(errors="replace")
    assert SECRET not in emulator_log
    # ... nor in any image layer: each pushed image's history and files.
    for image in images.values():
        history = docker("history", "--no-trunc", image["image"])
        assert history.returncode == 0 and SECRET not in history.stdout
        saved = subprocess.run(
            ["docker", "save", image["image"]], capture_output=True, timeout=300, check=False
        )
        assert saved.returncode == 0 and saved.stdout and SECRET.encode() not in saved.stdout


SECRET = "runtime-Secret-Value-7c2e1a"


def wait_for_health(url: str, service: str, timeout: float = 300.0) -> dict[str, Any]:
    """GET ``url`` until it answers 200 with ``service``'s JSON; the last answer on failure."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                body = json.loads(response.read())
                if response.status == 200 and body.get("service") == service:
                    return dict(body)
                last = (response.status, body)
        except (OSError, ValueError) as exc:
            last = exc
        time.sleep(2)
    raise AssertionError(f"{url} did not answer as {service} within {timeout:.0f} s: {last}")
