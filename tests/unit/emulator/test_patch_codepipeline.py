"""codepipeline_timestamps, codepipeline_trust_policy."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from ._helpers import create_role, error_code, pipeline_definition, unique
from .conftest import Server


def test_pipeline_metadata_timestamps_are_json_numbers(patched: Server, stock: Server) -> None:
    for server, expected in ((patched, (int, float)), (stock, str)):
        role = create_role(server.client("iam"), "codepipeline.amazonaws.com")
        name = unique("pipeline")
        server.client("codepipeline").create_pipeline(pipeline=pipeline_definition(name, role))
        metadata = server.raw_json(
            "codepipeline", "CodePipeline_20150709.GetPipeline", {"name": name}
        )["metadata"]
        assert isinstance(metadata["created"], expected), server.endpoint
        assert isinstance(metadata["updated"], expected), server.endpoint
        listed = server.raw_json("codepipeline", "CodePipeline_20150709.ListPipelines", {})
        assert all(isinstance(p["created"], expected) for p in listed["pipelines"])


def test_role_trusted_by_several_services(patched: Server, stock: Server) -> None:
    services = ("codepipeline.amazonaws.com", "events.amazonaws.com")
    role = create_role(patched.client("iam"), *services)
    name = unique("pipeline")
    patched.client("codepipeline").create_pipeline(pipeline=pipeline_definition(name, role))
    assert patched.client("codepipeline").get_pipeline(name=name)["pipeline"]["roleArn"] == role

    stock_role = create_role(stock.client("iam"), *services)
    with pytest.raises(ClientError) as excinfo:
        stock.client("codepipeline").create_pipeline(
            pipeline=pipeline_definition(unique("pipeline"), stock_role)
        )
    assert error_code(excinfo) == "InvalidStructureException"
    assert "not authorized to perform AssumeRole" in str(excinfo.value)


def test_role_not_trusting_codepipeline_still_refused(patched: Server) -> None:
    role = create_role(patched.client("iam"), "codebuild.amazonaws.com", "events.amazonaws.com")
    with pytest.raises(ClientError) as excinfo:
        patched.client("codepipeline").create_pipeline(
            pipeline=pipeline_definition(unique("pipeline"), role)
        )
    assert error_code(excinfo) == "InvalidStructureException"
