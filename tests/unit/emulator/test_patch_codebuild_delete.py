"""codebuild_delete_by_arn."""

from __future__ import annotations

from ._helpers import create_role, unique
from .conftest import Server


def create(server: Server) -> tuple[str, str]:
    project = server.client("codebuild").create_project(
        name=unique("project"),
        source={"type": "S3", "location": "bucket/source.zip"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/amazonlinux2-x86_64-standard:5.0",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        serviceRole=create_role(server.client("iam"), "codebuild.amazonaws.com"),
    )["project"]
    return str(project["name"]), str(project["arn"])


def test_delete_project_by_arn(patched: Server, stock: Server) -> None:
    codebuild = patched.client("codebuild")
    name, arn = create(patched)
    codebuild.delete_project(name=arn)
    assert name not in codebuild.list_projects()["projects"]

    # By name, as before.
    name, _ = create(patched)
    codebuild.delete_project(name=name)
    assert name not in codebuild.list_projects()["projects"]

    stock_codebuild = stock.client("codebuild")
    name, arn = create(stock)
    stock_codebuild.delete_project(name=arn)
    assert name in stock_codebuild.list_projects()["projects"]
