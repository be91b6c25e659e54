"""Lambda runs: Invoke runs a function's zip in a container on the Docker engine.

Against an emulator with its runtime (the functions' containers carry its label), in
an account of its own: functions created from a zip with boto3, as the deployer's
Terraform creates the deploy guard. One answers and calls STS through boto3 with its
role's credentials (the caller is the assumed role: the call reached the emulator);
one raises; one outlives its timeout; an asynchronous one fails and its record reaches
the on-failure destination. Each leaves START, END and REPORT in its log group.

Without an engine these tests fail, saying how to get one; they never skip (as every
runtime test).
"""

from __future__ import annotations

import io
import json
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from deployer import packaging
from deployer.emulator import runtime

from .conftest import ROOT, Local, docker

ACCOUNT = "444444444444"
HANDLERS = """
import time
import boto3

def whoami(event, context):
    arn = boto3.client("sts").get_caller_identity()["Arn"]
    print("caller", arn)
    return {"caller": arn, "event": event, "remaining": context.get_remaining_time_in_millis()}

def boom(event, context):
    raise RuntimeError("the deploy guard fell over")

def slow(event, context):
    time.sleep(30)
"""


@pytest.fixture(scope="module")
def lambda_image(python_base: str) -> str:
    """The functions' image (bin/lambda-image), built or found built."""
    built = subprocess.run(
        [str(ROOT / "bin" / "lambda-image")], capture_output=True, text=True, timeout=1200,
        check=False,
    )  # fmt: skip
    assert built.returncode == 0, f"bin/lambda-image failed:\n{built.stderr[-3000:]}"
    return "deployer-base/lambda-python:bookworm"


def package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("guard/__init__.py", "")
        archive.writestr("guard/handler.py", HANDLERS)
    return buffer.getvalue()


def log_lines(logs: Any, group: str) -> list[str]:
    lines: list[str] = []
    for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
        events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])
        lines += [e["message"] for e in events["events"]]
    return lines


def test_functions_run_answer_fail_and_time_out(
    registry_emulator: Local, lambda_image: str
) -> None:
    local = registry_emulator
    role = local.client("iam", ACCOUNT).create_role(
        RoleName="acme-staging-deploy-guard-us-east-1",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}),
    )["Role"]["Arn"]  # fmt: skip
    awslambda = local.client("lambda", ACCOUNT)
    code = package()
    for name, timeout in (("whoami", 10), ("boom", 10), ("slow", 2)):
        awslambda.create_function(
            FunctionName=f"acme-{name}", Runtime="python3.12", Role=role,
            Handler=f"guard.handler.{name}", Code={"ZipFile": code}, Timeout=timeout,
            MemorySize=128, Environment={"Variables": {"APPLICATION_NAME": "acme-staging"}},
        )  # fmt: skip

    # It answers, and its boto3 reaches the emulator as the function's role.
    answer = awslambda.invoke(FunctionName="acme-whoami", Payload=json.dumps({"alarm": "x"}))
    payload = json.loads(answer["Payload"].read())
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer, payload
    assert payload["caller"] == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/acme-staging-deploy-guard-us-east-1/acme-whoami"
    )
    assert payload["event"] == {"alarm": "x"} and 0 < payload["remaining"] <= 10_000

    # It raises: Unhandled, with the exception's type.
    failed = awslambda.invoke(FunctionName="acme-boom")
    error = json.loads(failed["Payload"].read())
    assert failed["FunctionError"] == "Unhandled"
    assert error["errorType"] == "RuntimeError"
    assert error["errorMessage"] == "the deploy guard fell over"

    # It outlives its timeout: stopped there.
    started = time.monotonic()
    late = awslambda.invoke(FunctionName="acme-slow")
    took = time.monotonic() - started
    error = json.loads(late["Payload"].read())
    assert late["FunctionError"] == "Unhandled" and error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Task timed out after 2.00 seconds")
    assert took < 12, f"the timed-out invocation took {took:.1f} s"

    # The logs: START, the function's output, END and REPORT.
    logs = local.client("logs", ACCOUNT)
    whoami = log_lines(logs, "/aws/lambda/acme-whoami")
    assert whoami[0].startswith("START RequestId: ")
    assert any(line.startswith("caller arn:aws:sts::") for line in whoami)
    assert whoami[-2].startswith("END RequestId: ")
    assert whoami[-1].startswith("REPORT RequestId: ") and "Memory Size: 128 MB" in whoami[-1]
    slow = log_lines(logs, "/aws/lambda/acme-slow")
    assert any("Task timed out after 2.00 seconds" in line for line in slow)

    # Asynchronous, no retries: the record reaches the on-failure destination.
    sqs = local.client("sqs", ACCOUNT)
    queue = sqs.create_queue(QueueName="guard-failures")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    awslambda.put_function_event_invoke_config(
        FunctionName="acme-boom", MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )  # fmt: skip
    queued = awslambda.invoke(FunctionName="acme-boom", InvocationType="Event", Payload=b"{}")
    assert queued["StatusCode"] == 202
    messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=15)["Messages"]
    record = json.loads(messages[0]["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responsePayload"]["errorType"] == "RuntimeError"

    # No container of the functions is left.
    owner = runtime.runtime_dir(local.state_dir).resolve()
    left = docker("ps", "-aq", "--filter", f"label={runtime.LABEL}={owner}",
                  "--filter", "label=io.deployer.lambda-function").stdout.split()  # fmt: skip
    assert left == []


def test_the_deploy_guard_runs_and_reaches_the_emulator(
    registry_emulator: Local, lambda_image: str, tmp_path: Path
) -> None:
    """The deploy guard's package, built as the deployer builds it, set up as the
    deploy-guard module sets it up (log group first, APPLICATION_NAME, TOPIC_ARN), given
    an alarm event: it reads CodeDeploy through boto3 and answers."""
    local = registry_emulator
    built = packaging.build_lambda_zip(ROOT / packaging.GUARD_SOURCE, tmp_path / "guard.zip")
    name = "acme-staging-deploy-guard"
    role = local.client("iam", ACCOUNT).create_role(
        RoleName=f"{name}-us-east-1", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    topic = local.client("sns", ACCOUNT).create_topic(Name="acme-staging-notifications")
    local.client("codedeploy", ACCOUNT).create_application(
        applicationName="acme-staging", computePlatform="ECS"
    )
    logs = local.client("logs", ACCOUNT)
    logs.create_log_group(logGroupName=f"/aws/lambda/{name}")
    logs.put_retention_policy(logGroupName=f"/aws/lambda/{name}", retentionInDays=30)
    awslambda = local.client("lambda", ACCOUNT)
    awslambda.create_function(
        FunctionName=name, Runtime="python3.12", Role=role,
        Handler="deploy_guard.handler.handler", Code={"ZipFile": built.path.read_bytes()},
        Timeout=30, MemorySize=256,
        Environment={"Variables": {"APPLICATION_NAME": "acme-staging",
                                   "TOPIC_ARN": topic["TopicArn"]}},
    )  # fmt: skip
    event = {
        "source": "aws.cloudwatch",
        "detail-type": "CloudWatch Alarm State Change",
        "detail": {"alarmName": "acme-staging-api-5xx", "state": {"value": "ALARM"}},
    }
    answer = awslambda.invoke(FunctionName=name, Payload=json.dumps(event))
    result = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, result
    assert result["action"] == "none", result
    assert result["reason"] == (
        "no deployment group of acme-staging watches alarm acme-staging-api-5xx: nothing to do"
    )
    # The group the module created stays as it was (Lambda creates one only when missing).
    [group] = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
    assert group.get("retentionInDays") == 30
    lines = log_lines(logs, f"/aws/lambda/{name}")
    assert lines[0].startswith("START") and lines[-1].startswith("REPORT")
