"""ECR's data plane on the local target, driven by the Docker CLI as users drive ECR.

``aws ecr get-login-password | docker login``, then ``docker push`` and ``docker pull``
by the repository's exact ``repositoryUri``: the emulator's registry (127.0.0.1:80, its
names in /etc/hosts) stores the image, ``DescribeImages`` reports it with the digest the
push printed, replication copies it to us-west-2, and the repository policy decides who
else may pull. Each image is built ``FROM scratch`` with a random file, so a pull after
removing it locally must transfer its layer back from the registry.
"""

from __future__ import annotations

import base64
import errno
import fcntl
import json
import os
import re
import secrets
import socket
from pathlib import Path

import boto3
import pytest

from deployer.emulator import Emulator, hosts

from .conftest import RUNTIME_LOCK, Local, docker

DELIVERY = "111111111111"
STAGING = "222222222222"
STRANGER = "333333333333"
NAME = "acme-api-service"


def build_image(local: Local, context: Path, tag: str) -> str:
    """A one-layer image holding a random file; returns that file's content."""
    content = secrets.token_hex(16)
    context.mkdir()
    (context / "payload.txt").write_text(content)
    (context / "Dockerfile").write_text("FROM scratch\nCOPY payload.txt /payload.txt\n")
    built = local.docker("build", "--quiet", "-t", tag, str(context))
    assert built.returncode == 0, built.stderr
    return content


def read_payload(local: Local, image: str) -> str:
    created = local.docker("create", image, "/none")
    assert created.returncode == 0, created.stderr
    container = created.stdout.strip()
    try:
        copied = local.docker("cp", f"{container}:/payload.txt", "-")
        assert copied.returncode == 0, copied.stderr
        return copied.stdout  # a tar stream holding the file
    finally:
        local.docker("rm", container)


def make_repository(local: Local, *, policy_for: list[str]) -> str:
    ecr = local.client("ecr", DELIVERY)
    uri = ecr.create_repository(repositoryName=NAME, imageTagMutability="IMMUTABLE")["repository"][
        "repositoryUri"
    ]
    ecr.set_repository_policy(
        repositoryName=NAME,
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "CrossAccountPull",
                        "Effect": "Allow",
                        "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in policy_for]},
                        "Action": [
                            "ecr:BatchCheckLayerAvailability",
                            "ecr:BatchGetImage",
                            "ecr:GetDownloadUrlForLayer",
                        ],
                    }
                ],
            }
        ),
    )
    ecr.put_replication_configuration(
        replicationConfiguration={
            "rules": [
                {
                    "destinations": [{"region": "us-west-2", "registryId": DELIVERY}],
                    "repositoryFilters": [{"filter": "acme-", "filterType": "PREFIX_MATCH"}],
                }
            ]
        }
    )
    return str(uri)


def test_push_pull_describe_replicate_and_cross_account_pulls(
    registry_emulator: Local, tmp_path: Path
) -> None:
    local = registry_emulator
    uri = make_repository(local, policy_for=[STAGING])
    host = uri.split("/")[0]
    assert uri == f"{DELIVERY}.dkr.ecr.us-east-1.amazonaws.com/{NAME}"  # ECR's own name
    names = hosts.owned_blocks().get(local.status.pid or 0, [])
    assert host in names and host.replace("us-east-1", "us-west-2") in names
    local.wait_until_resolved(host)
    image = f"{uri}:v1"
    content = build_image(local, tmp_path / "context", image)

    # No login: the client has no credentials for the host (ECR's Basic challenge).
    refused = local.docker("push", image)
    assert refused.returncode != 0 and "no basic auth credentials" in refused.stderr

    # A token ECR did not issue is refused at login.
    forged = local.docker(
        "login", "--username", "AWS", "--password-stdin", host, stdin="forged-token"
    )
    assert forged.returncode != 0 and "403 Forbidden" in forged.stderr, forged.stderr

    local.login(DELIVERY, host)
    pushed = local.docker("push", image)
    assert pushed.returncode == 0, pushed.stderr
    digest = re.search(r"digest: (sha256:[0-9a-f]{64}) size", pushed.stdout)
    assert digest, pushed.stdout

    # DescribeImages reports what the push stored, with the digest the push printed.
    for region in ("us-east-1", "us-west-2"):  # us-west-2: replicated
        details = local.client("ecr", DELIVERY, region).describe_images(repositoryName=NAME)
        [detail] = details["imageDetails"]
        assert detail["imageDigest"] == digest.group(1), region
        assert detail["imageTags"] == ["v1"], region
        assert 0 < detail["imageSizeInBytes"] < 10_000, region  # one small compressed layer

    # The same tag again, even the same image: refused, the repository is IMMUTABLE.
    again = local.docker("push", image)
    assert again.returncode != 0
    assert (
        f"The image tag 'v1' already exists in the '{NAME}' repository and cannot be "
        "overwritten because the repository is immutable" in again.stderr
    ), again.stderr

    # Pulled back by its ECR name after the local copy is gone.
    assert local.docker("rmi", image).returncode == 0
    assert local.docker("image", "inspect", image).returncode != 0
    pulled = local.docker("pull", image)
    assert pulled.returncode == 0, pulled.stderr
    assert content in read_payload(local, image)

    # From us-west-2, the replica.
    west = f"{DELIVERY}.dkr.ecr.us-west-2.amazonaws.com/{NAME}:v1"
    local.login(DELIVERY, west.split("/")[0], "us-west-2")
    assert local.docker("pull", west).returncode == 0
    assert content in read_payload(local, west)

    # The staging account may pull (the repository policy names it) but not push.
    local.docker("rmi", image)
    local.login(STAGING, host)
    staged = local.docker("pull", image)
    assert staged.returncode == 0, staged.stderr
    local.docker("tag", image, f"{uri}:from-staging")
    denied_push = local.docker("push", f"{uri}:from-staging")
    assert denied_push.returncode != 0
    assert "is not authorized to perform: ecr:InitiateLayerUpload" in denied_push.stderr or (
        "is not authorized to perform: ecr:PutImage" in denied_push.stderr
    ), denied_push.stderr

    # An account the policy does not name may not pull.
    local.docker("rmi", image)
    local.login(STRANGER, host)
    stranger = local.docker("pull", image)
    assert stranger.returncode != 0
    assert f"arn:aws:sts::{STRANGER}:assumed-role/runtime-test/runtime-test" in stranger.stderr
    assert "is not authorized to perform: ecr:BatchGetImage" in stranger.stderr


def test_stop_leaves_nothing(registry_emulator: Local) -> None:
    local = registry_emulator
    uri = make_repository(local, policy_for=[])
    pid = local.status.pid or 0
    assert hosts.owned_blocks().get(pid)
    storage = local.state_dir / "emulator-runtime" / "registry"
    assert storage.is_dir()
    # A container the runtime owns (as the ECS engine's will be): labelled with its folder.
    label = f"io.deployer.emulator={(local.state_dir / 'emulator-runtime').resolve()}"
    base = "deployer-base/python-runtime:bookworm"
    created = local.docker("create", "--label", label, base, "true")
    assert created.returncode == 0, created.stderr
    assert uri

    Emulator(local.state_dir).stop()

    assert pid not in hosts.owned_blocks()
    # None of its names is left (another emulator, of other accounts, may keep its own).
    account = f"{DELIVERY}.dkr.ecr"
    assert account not in Path("/etc/hosts").read_text()
    assert not storage.exists()
    left = local.docker("ps", "-aq", "--filter", f"label={label}")
    assert left.stdout.strip() == "", left.stdout


def test_a_token_is_the_callers_and_expires_in_12_hours(registry_emulator: Local) -> None:
    import datetime

    ecr = registry_emulator.client("ecr", STAGING)
    first = ecr.get_authorization_token()["authorizationData"][0]
    second = ecr.get_authorization_token()["authorizationData"][0]
    assert first["authorizationToken"] != second["authorizationToken"]
    user, _, password = base64.b64decode(first["authorizationToken"]).decode().partition(":")
    assert user == "AWS" and len(password) > 40
    assert first["proxyEndpoint"] == f"https://{STAGING}.dkr.ecr.us-east-1.amazonaws.com"
    left = first["expiresAt"] - datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(hours=11, minutes=59) < left <= datetime.timedelta(hours=12)


def test_a_taken_port_leaves_the_registry_down_with_the_reason(
    tmp_path: Path, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The APIs keep answering; the announcement and status say why there is no registry."""
    from deployer.emulator import controls

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        monkeypatch.setenv("DEPLOYER_REGISTRY_ADDRESS", address)
        emulator = Emulator(tmp_path / "state")
        status = emulator.start(runtime=True)
        try:
            runtime = status.runtime or {}
            assert runtime.get("registry") is None
            down = str(runtime.get("registry_down"))
            assert f"cannot listen on {address}: Address already in use" in down, down
            assert "another emulator or program holds it" in down
            served = controls.post(str(status.endpoint), "runtime", None)["runtime"]
            assert served["registry"]["up"] is False and served["names"] == []
            ecr = boto3.client(
                "ecr", endpoint_url=status.endpoint, region_name="us-east-1",
                aws_access_key_id="test", aws_secret_access_key="test",
            )  # fmt: skip
            ecr.create_repository(repositoryName="still-answers")  # no hosts entry, no error
            assert status.pid not in hosts.owned_blocks()
        finally:
            emulator.stop()


def test_a_program_on_port_80_moves_the_registry_to_another_loopback_address(
    engine: str, tmp_path: Path
) -> None:
    """127.0.0.1:80 taken: the registry takes the next free 127.77.0.N:80, announces it,
    and the hosts entries send ECR's names there, so pushes still work. (Another emulator,
    of other accounts, may run beside it: then the port may be that one's already.)"""
    from deployer.emulator import controls

    with open(RUNTIME_LOCK, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with socket.socket() as taken:
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                taken.bind(("127.0.0.1", 80))
                taken.listen()
            except OSError as exc:  # held by another emulator's registry: taken all the same
                assert exc.errno == errno.EADDRINUSE, exc
            emulator = Emulator(tmp_path / "state")
            status = emulator.start(runtime=True)
            try:
                address = str((status.runtime or {}).get("registry"))
                assert re.fullmatch(r"127\.77\.0\.[1-8]:80", address), status.runtime
                ip = address.split(":")[0]
                config = tmp_path / "docker-config"
                config.mkdir()
                local = Local(
                    status, tmp_path / "state", {**os.environ, "DOCKER_CONFIG": str(config)}
                )
                uri = make_repository(local, policy_for=[])
                host = uri.split("/")[0]
                assert f"{ip} {host}" in Path("/etc/hosts").read_text()
                local.wait_until_resolved(host)
                build_image(local, tmp_path / "context", f"{uri}:v1")
                local.login(DELIVERY, host)
                pushed = local.docker("push", f"{uri}:v1")
                assert pushed.returncode == 0, pushed.stderr

                # A second emulator with a runtime starts its registry beside the first,
                # but leaves the first one's names to it: the same account there is down.
                second = Emulator(tmp_path / "second").start(runtime=True)
                try:
                    assert (second.runtime or {}).get("registry"), second.runtime
                    sts = boto3.client(
                        "sts", endpoint_url=second.endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                    )  # fmt: skip
                    creds = sts.assume_role(
                        RoleArn=f"arn:aws:iam::{DELIVERY}:role/runtime-test",
                        RoleSessionName="runtime-test",
                    )["Credentials"]
                    same = boto3.client(
                        "ecr", endpoint_url=second.endpoint, region_name="us-east-1",
                        aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"],
                    )  # fmt: skip
                    same.create_repository(repositoryName="same-account")
                    served = controls.post(str(second.endpoint), "runtime", None)["runtime"]
                    down = str(served["registry"]["reason"])
                    assert f"the emulator with pid {status.pid} serves ECR's registry names" in down
                    assert served["registry"]["up"] is False and served["names"] == []
                finally:
                    Emulator(tmp_path / "second").stop()
                assert status.pid in hosts.owned_blocks()  # the second took nothing away
            finally:
                emulator.stop()
                docker("rmi", "--force", f"{DELIVERY}.dkr.ecr.us-east-1.amazonaws.com/{NAME}:v1")
