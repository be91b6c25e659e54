"""codecommit_timestamps, codecommit_tags."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from ._helpers import unique
from .conftest import Server

TARGET = "CodeCommit_20150413"


def test_repository_dates_are_json_numbers(patched: Server, stock: Server) -> None:
    for server, expected in ((patched, (int, float)), (stock, str)):
        name = unique("repo")
        created = server.raw_json(
            "codecommit", f"{TARGET}.CreateRepository", {"repositoryName": name}
        )["repositoryMetadata"]
        read = server.raw_json("codecommit", f"{TARGET}.GetRepository", {"repositoryName": name})[
            "repositoryMetadata"
        ]
        for metadata in (created, read):
            assert isinstance(metadata["creationDate"], expected), server.endpoint
            assert isinstance(metadata["lastModifiedDate"], expected), server.endpoint


def test_repository_tags(patched: Server, stock: Server) -> None:
    codecommit = patched.client("codecommit")
    arn = codecommit.create_repository(repositoryName=unique("repo"), tags={"team": "platform"})[
        "repositoryMetadata"
    ]["Arn"]
    assert codecommit.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "platform"}
    codecommit.tag_resource(resourceArn=arn, tags={"env": "test"})
    codecommit.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert codecommit.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "test"}
    with pytest.raises(ClientError) as excinfo:
        codecommit.list_tags_for_resource(resourceArn=arn + "-missing")
    assert "RepositoryDoesNotExist" in excinfo.value.response["Error"]["Code"]

    stock_codecommit = stock.client("codecommit")
    stock_arn = stock_codecommit.create_repository(repositoryName=unique("repo"))[
        "repositoryMetadata"
    ]["Arn"]
    with pytest.raises(ClientError):
        stock_codecommit.list_tags_for_resource(resourceArn=stock_arn)
