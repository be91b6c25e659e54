"""Small builders shared by the patch tests."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def trust_policy(*services: str) -> str:
    principal: Any = list(services) if len(services) > 1 else services[0]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def create_role(iam: Any, *services: str) -> str:
    name = unique("role")
    return str(
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy(*services))["Role"][
            "Arn"
        ]
    )


def pipeline_definition(name: str, role_arn: str) -> dict[str, Any]:
    def action(name: str, category: str, provider: str, **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "actionTypeId": {
                "category": category,
                "owner": "AWS",
                "provider": provider,
                "version": "1",
            },
            **extra,
        }

    return {
        "name": name,
        "roleArn": role_arn,
        "artifactStore": {"type": "S3", "location": "artifacts-bucket"},
        "stages": [
            {
                "name": "Source",
                "actions": [
                    action(
                        "Source",
                        "Source",
                        "CodeCommit",
                        outputArtifacts=[{"name": "source"}],
                        configuration={"RepositoryName": "repo", "BranchName": "main"},
                    )
                ],
            },
            {
                "name": "Build",
                "actions": [
                    action(
                        "Build",
                        "Build",
                        "CodeBuild",
                        inputArtifacts=[{"name": "source"}],
                        configuration={"ProjectName": "build"},
                    )
                ],
            },
        ],
    }


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def status(excinfo: pytest.ExceptionInfo[ClientError]) -> int:
    return int(excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"])
