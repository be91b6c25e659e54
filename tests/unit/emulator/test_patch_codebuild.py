"""codebuild_source_location, codebuild_encryption_key, codebuild_update_project."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from ._helpers import create_role, error_code, unique
from .conftest import Server

ENVIRONMENT = {
    "type": "LINUX_CONTAINER",
    "image": "aws/codebuild/amazonlinux2-x86_64-standard:5.0",
    "computeType": "BUILD_GENERAL1_SMALL",
}


def create(server: Server, source: dict[str, Any], artifacts: dict[str, Any], **extra: Any) -> Any:
    role = create_role(server.client("iam"), "codebuild.amazonaws.com")
    return server.client("codebuild").create_project(
        name=unique("project"),
        source=source,
        artifacts=artifacts,
        environment=ENVIRONMENT,
        serviceRole=role,
        **extra,
    )["project"]


@pytest.mark.parametrize(
    ("source", "artifacts"),
    [
        ({"type": "CODEPIPELINE", "buildspec": "buildspec.yml"}, {"type": "CODEPIPELINE"}),
        ({"type": "NO_SOURCE", "buildspec": "version: 0.2\n"}, {"type": "NO_ARTIFACTS"}),
    ],
    ids=["codepipeline", "no_source"],
)
def test_source_location_not_required(
    patched: Server, stock: Server, source: dict[str, Any], artifacts: dict[str, Any]
) -> None:
    project = create(patched, source, artifacts)
    assert project["source"]["type"] == source["type"]
    assert "location" not in project["source"]

    with pytest.raises(ClientError) as excinfo:
        create(stock, source, artifacts)
    assert error_code(excinfo) == "InvalidInputException"
    assert "location is required" in str(excinfo.value)


def test_location_still_required_for_repository_sources(patched: Server) -> None:
    with pytest.raises(ClientError) as excinfo:
        create(patched, {"type": "CODECOMMIT"}, {"type": "NO_ARTIFACTS"})
    assert error_code(excinfo) == "InvalidInputException"


def test_encryption_key_kept(patched: Server, stock: Server) -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    source = {"type": "S3", "location": "bucket/source.zip"}
    for server, expected in ((patched, key), (stock, "alias/aws/s3")):
        name = create(server, source, {"type": "NO_ARTIFACTS"}, encryptionKey=key)["name"]
        (project,) = server.client("codebuild").batch_get_projects(names=[name])["projects"]
        assert project["encryptionKey"].endswith(expected), server.endpoint


def test_update_project_changes_it_in_place(patched: Server, stock: Server) -> None:
    """codebuild_update_project."""
    source = {"type": "NO_SOURCE", "buildspec": "version: 0.2\n"}
    project = create(patched, source, {"type": "NO_ARTIFACTS"})
    codebuild = patched.client("codebuild")
    environment = {**ENVIRONMENT, "environmentVariables": [{"name": "DEPLOY_FILES", "value": "{}"}]}
    updated = codebuild.update_project(
        name=project["name"], environment=environment, timeoutInMinutes=45
    )["project"]
    assert updated["environment"]["environmentVariables"] == environment["environmentVariables"]
    (stored,) = codebuild.batch_get_projects(names=[project["name"]])["projects"]
    assert stored["timeoutInMinutes"] == 45
    assert stored["source"] == project["source"]  # what was not sent is kept
    with pytest.raises(ClientError) as excinfo:
        codebuild.update_project(name=unique("missing"), timeoutInMinutes=10)
    assert error_code(excinfo) == "ResourceNotFoundException"

    # Stock moto cannot even route the call (it cannot create such a project either).
    with pytest.raises(ClientError) as excinfo:
        stock.client("codebuild").update_project(name=project["name"], timeoutInMinutes=45)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] >= 500
