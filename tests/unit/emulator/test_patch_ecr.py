"""ecr_authorization_tokens, ecr_image_size, ecr_image_tag_immutability, ecr_registry_names."""

from __future__ import annotations

import base64
import datetime
import json

import pytest
from botocore.exceptions import ClientError

from ._helpers import error_code, unique
from ._isolated import output, script
from .conftest import Server


def manifest(*layer_sizes: int, config_size: int = 7) -> str:
    def blob(n: int, size: int) -> dict[str, object]:
        return {
            "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "size": size,
            "digest": f"sha256:{n:064x}",
        }

    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": config_size,
                "digest": f"sha256:{999:064x}",
            },
            "layers": [blob(i + 1, size) for i, size in enumerate(layer_sizes)],
        }
    )


def test_authorization_tokens_are_new_each_call_and_expire_in_12_hours(
    patched: Server, stock: Server
) -> None:
    ecr = patched.client("ecr")
    first = ecr.get_authorization_token()["authorizationData"][0]
    second = ecr.get_authorization_token()["authorizationData"][0]
    assert first["authorizationToken"] != second["authorizationToken"]
    user, _, password = base64.b64decode(first["authorizationToken"]).decode().partition(":")
    assert user == "AWS" and len(password) >= 40
    left = first["expiresAt"] - datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(hours=11, minutes=59) < left <= datetime.timedelta(hours=12)
    assert first["proxyEndpoint"] == "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"

    old = stock.client("ecr")
    a = old.get_authorization_token()["authorizationData"][0]
    b = old.get_authorization_token()["authorizationData"][0]
    assert a["authorizationToken"] == b["authorizationToken"]  # one fixed password
    assert a["expiresAt"].year == 2015


def test_image_size_is_the_sum_of_its_layers(patched: Server, stock: Server) -> None:
    for server, expected in ((patched, 300), (stock, 7)):  # stock: the config blob's size
        ecr = server.client("ecr")
        name = unique("repo")
        ecr.create_repository(repositoryName=name)
        ecr.put_image(repositoryName=name, imageManifest=manifest(100, 200), imageTag="v1")
        [detail] = ecr.describe_images(repositoryName=name)["imageDetails"]
        assert detail["imageSizeInBytes"] == expected


def test_an_immutable_tag_cannot_be_pushed_again(patched: Server, stock: Server) -> None:
    for server, code in (
        (patched, "ImageTagAlreadyExistsException"),
        (stock, "ImageAlreadyExistsException"),
    ):
        ecr = server.client("ecr")
        name = unique("repo")
        ecr.create_repository(repositoryName=name, imageTagMutability="IMMUTABLE")
        ecr.put_image(repositoryName=name, imageManifest=manifest(100), imageTag="v1")
        with pytest.raises(ClientError) as excinfo:
            ecr.put_image(repositoryName=name, imageManifest=manifest(101), imageTag="v1")
        assert error_code(excinfo) == code
        if server is patched:
            assert str(excinfo.value).endswith(
                f"The image tag 'v1' already exists in the '{name}' repository and cannot be "
                "overwritten because the tag is immutable."
            )
    # A mutable repository still moves the tag.
    ecr = patched.client("ecr")
    name = unique("repo")
    ecr.create_repository(repositoryName=name)
    ecr.put_image(repositoryName=name, imageManifest=manifest(100), imageTag="v1")
    ecr.put_image(repositoryName=name, imageManifest=manifest(101), imageTag="v1")


HOOK_CHECK = """
import sys
from moto import mock_aws
from deployer.emulator import registry
if sys.argv[1] == "patched":
    from deployer.emulator.patches import ecr_registry_names
    ecr_registry_names.apply()
seen = []
registry.REPOSITORY_HOOKS.append(lambda account, region: seen.append((account, region)))
with mock_aws():
    import boto3
    boto3.client("ecr", region_name="us-west-2").create_repository(repositoryName="repo")
print(seen)
"""


for _which in ("patched", "stock"):
    script(_which, "ecr_registry_names", HOOK_CHECK, _which)


@pytest.mark.parametrize("which", ["patched", "stock"])
def test_the_registry_learns_of_each_new_repository(
    tmp_path_factory: pytest.TempPathFactory, which: str
) -> None:
    # In a separate interpreter: the patch must not leak into this one's moto (_isolated
    # runs the script once per test session, in the interpreter of its group).
    printed = output(tmp_path_factory, which, "ecr_registry_names")
    expected = "[('123456789012', 'us-west-2')]" if which == "patched" else "[]"
    assert printed.strip() == expected
