"""The source trigger: commits put CodeCommit events, and the stack's rule starts the pipeline.

Through the patched emulator's API (the ``patched`` server, every patch applied), as the
delivery stack sets it up: ``modules/pipeline/main.tf``'s ``aws_cloudwatch_event_rule``
and ``aws_cloudwatch_event_target`` "source" (the same pattern, the pipeline as target),
and a second rule sending the repository's events to a queue to read them whole.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from ._helpers import trust_policy, unique
from .conftest import Server

ACCOUNT = "123456789012"
REGION = "us-east-1"


def stack_pattern(repository_arn: str, branch: str) -> dict[str, Any]:
    """modules/pipeline/main.tf, aws_cloudwatch_event_rule.source's event_pattern."""
    return {
        "source": ["aws.codecommit"],
        "detail-type": ["CodeCommit Repository State Change"],
        "resources": [repository_arn],
        "detail": {
            "event": ["referenceCreated", "referenceUpdated"],
            "referenceType": ["branch"],
            "referenceName": [branch],
        },
    }


@pytest.fixture(scope="module")
def world(patched: Server) -> dict[str, Any]:
    """A repository, its pipeline, the stack's rule; then the pushes each test looks at."""
    iam, s3, cc = patched.client("iam"), patched.client("s3"), patched.client("codecommit")
    events, sqs, cp = (
        patched.client("events"),
        patched.client("sqs"),
        patched.client("codepipeline"),
    )
    repository = unique("monorepo")
    pipeline = unique("delivery")
    bucket = unique("artifacts")
    s3.create_bucket(Bucket=bucket)
    role = iam.create_role(
        RoleName=unique("pipeline"),
        AssumeRolePolicyDocument=trust_policy("codepipeline.amazonaws.com"),
    )["Role"]["Arn"]
    trigger_role = iam.create_role(
        RoleName=unique("trigger"), AssumeRolePolicyDocument=trust_policy("events.amazonaws.com")
    )["Role"]["Arn"]
    repository_arn = cc.create_repository(repositoryName=repository)["repositoryMetadata"]["Arn"]
    cp.create_pipeline(
        pipeline={
            "name": pipeline,
            "roleArn": role,
            "pipelineType": "V2",
            "artifactStore": {"type": "S3", "location": bucket},
            "stages": [
                {
                    "name": "Source",
                    "actions": [
                        {
                            "name": "Source",
                            "actionTypeId": {
                                "category": "Source",
                                "owner": "AWS",
                                "provider": "CodeCommit",
                                "version": "1",
                            },
                            "outputArtifacts": [{"name": "SourceOutput"}],
                            "configuration": {
                                "RepositoryName": repository,
                                "BranchName": "main",
                                "PollForSourceChanges": "false",
                            },
                        }
                    ],
                },
                {
                    "name": "Approval",
                    "actions": [
                        {
                            "name": "Approve",
                            "actionTypeId": {
                                "category": "Approval",
                                "owner": "AWS",
                                "provider": "Manual",
                                "version": "1",
                            },
                        }
                    ],
                },
            ],
        }
    )
    rule_arn = events.put_rule(
        Name=unique("trigger"), EventPattern=json.dumps(stack_pattern(repository_arn, "main"))
    )["RuleArn"]
    events.put_targets(
        Rule=rule_arn.split("/")[-1],
        Targets=[
            {
                "Id": "pipeline",
                "Arn": f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:{pipeline}",
                "RoleArn": trigger_role,
            }
        ],
    )
    queue = sqs.create_queue(QueueName=unique("codecommit-events"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    capture = unique("capture")
    events.put_rule(
        Name=capture,
        EventPattern=json.dumps({"source": ["aws.codecommit"], "resources": [repository_arn]}),
    )
    events.put_targets(Rule=capture, Targets=[{"Id": "q", "Arn": queue_arn}])

    first = cc.create_commit(
        repositoryName=repository,
        branchName="main",
        commitMessage="first",
        putFiles=[{"filePath": "services/api/VERSION", "fileContent": b"1\n"}],
    )["commitId"]
    second = cc.put_file(
        repositoryName=repository,
        branchName="main",
        parentCommitId=first,
        filePath="services/api/VERSION",
        fileContent=b"2\n",
    )["commitId"]
    cc.create_branch(repositoryName=repository, branchName="feature", commitId=second)
    feature = cc.put_file(
        repositoryName=repository,
        branchName="feature",
        parentCommitId=second,
        filePath="services/web/VERSION",
        fileContent=b"1\n",
    )["commitId"]
    cc.delete_branch(repositoryName=repository, branchName="feature")

    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while len(received) < 5 and time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        received += [json.loads(m["Body"]) for m in got.get("Messages", [])]
    executions = cp.list_pipeline_executions(pipelineName=pipeline)["pipelineExecutionSummaries"]
    return {
        "repository": repository,
        "repository_arn": repository_arn,
        "rule_arn": rule_arn,
        "commits": {"first": first, "second": second, "feature": feature},
        "events": received,
        "executions": executions,
    }


def test_each_push_puts_a_repository_state_change_event(world: dict[str, Any]) -> None:
    commits = world["commits"]
    found = [
        (
            e["detail"]["event"],
            e["detail"]["referenceName"],
            e["detail"].get("commitId"),
            e["detail"].get("oldCommitId"),
        )
        for e in world["events"]
    ]
    assert sorted(found, key=str) == sorted(
        [
            ("referenceCreated", "main", commits["first"], None),
            ("referenceUpdated", "main", commits["second"], commits["first"]),
            ("referenceCreated", "feature", commits["second"], None),
            ("referenceUpdated", "feature", commits["feature"], commits["second"]),
            ("referenceDeleted", "feature", None, commits["feature"]),
        ],
        key=str,
    )


def test_the_event_has_the_documented_envelope_and_detail(world: dict[str, Any]) -> None:
    event = next(
        e for e in world["events"] if e["detail"].get("oldCommitId") == world["commits"]["first"]
    )
    assert event["source"] == "aws.codecommit"
    assert event["detail-type"] == "CodeCommit Repository State Change"
    assert (event["account"], event["region"]) == (ACCOUNT, REGION)
    assert event["resources"] == [world["repository_arn"]]
    detail = event["detail"]
    assert detail["referenceFullName"] == "refs/heads/main"
    assert detail["referenceType"] == "branch"
    assert detail["repositoryName"] == world["repository"]
    assert detail["repositoryId"]
    assert detail["callerUserArn"].startswith("arn:aws:")


def test_the_stack_rule_starts_the_pipeline_on_its_branch_only(world: dict[str, Any]) -> None:
    # two pushes to main (created, then updated); the feature branch's three start nothing
    triggers = [e["trigger"] for e in world["executions"]]
    assert triggers == [
        {"triggerType": "CloudWatchEvent", "triggerDetail": world["rule_arn"]},
        {"triggerType": "CloudWatchEvent", "triggerDetail": world["rule_arn"]},
    ]
