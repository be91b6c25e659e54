"""iam_session_auth: requests signed by an assumed role's session are authorized as AWS does.

On the shared patched emulator (and the stock one, for the gap): a role with one policy,
assumed through STS; its session's calls succeed while a statement allows them and are
refused with AWS's AccessDenied of the service, message included, once it does not; the
account's own credentials are never checked.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore import handlers
from botocore.config import Config
from botocore.exceptions import ClientError

from ._helpers import unique
from .conftest import ACCOUNT, REGION, Server

PARAMETERS = {
    "Effect": "Allow",
    "Action": ["ssm:GetParameter", "ssm:GetParameters"],
    "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/pipeline/*",
}
OBJECTS = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::{bucket}/*"}
DENY_SECRET = {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::{bucket}/secret"}


def policy(*statements: dict[str, Any], bucket: str) -> str:
    filled = [json.loads(json.dumps(s).replace("{bucket}", bucket)) for s in statements]
    return json.dumps({"Version": "2012-10-17", "Statement": filled})


class SessionClients(dict[str, Any]):
    """Clients signed with one session's credentials, made when first asked for (on
    boto3's default session, whose service models are loaded once)."""

    def __init__(self, server: Server, credentials: dict[str, str]) -> None:
        super().__init__()
        self.server, self.credentials = server, credentials

    def __missing__(self, service: str) -> Any:
        made = boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.server.endpoint,
            region_name=REGION,
            aws_access_key_id=self.credentials["AccessKeyId"],
            aws_secret_access_key=self.credentials["SecretAccessKey"],
            aws_session_token=self.credentials["SessionToken"],
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )
        self[service] = made
        return made


def session_clients(server: Server, role: str) -> SessionClients:
    creds = server.client("sts").assume_role(RoleArn=role, RoleSessionName="build-1")["Credentials"]
    return SessionClients(server, creds)


def trust(principal: dict[str, str]) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def world(server: Server, principal: dict[str, str] | None = None) -> tuple[str, str, str]:
    """A role CodeBuild may assume (or ``principal``), parameters and a bucket; (role
    name, ARN, bucket)."""
    principal = principal or {"Service": "codebuild.amazonaws.com"}
    iam, ssm, s3 = server.client("iam"), server.client("ssm"), server.client("s3")
    # no "Expect: 100-continue": the emulator's HTTP server does not answer it, so each
    # PutObject would wait botocore's one second for it
    s3.meta.events.unregister("before-call.s3", handlers.add_expect_header)
    name, bucket = unique("builder"), unique("artifacts")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(principal))["Role"]["Arn"]
    for parameter in ("/pipeline/api/url", "/other/api/url"):
        ssm.put_parameter(Name=parameter, Value="v", Type="String", Overwrite=True)
    s3.create_bucket(Bucket=bucket)
    for key in ("source.zip", "secret"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"zip")
    return name, arn, bucket


def refusal(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as excinfo:
        call()
    response = excinfo.value.response
    return {
        "code": response["Error"]["Code"],
        "message": response["Error"]["Message"],
        "status": response["ResponseMetadata"]["HTTPStatusCode"],
    }


def test_a_session_may_do_what_its_role_allows_and_no_more(patched: Server) -> None:
    name, arn, bucket = world(patched)
    patched.client("iam").put_role_policy(
        RoleName=name, PolicyName="build", PolicyDocument=policy(PARAMETERS, OBJECTS, bucket=bucket)
    )
    clients = session_clients(patched, arn)
    assert clients["ssm"].get_parameter(Name="/pipeline/api/url")["Parameter"]["Value"] == "v"
    assert clients["s3"].get_object(Bucket=bucket, Key="source.zip")["Body"].read() == b"zip"
    # ListObjectsV2 is authorized as s3:ListBucket, which the role was not given
    listed = refusal(lambda: clients["s3"].list_objects_v2(Bucket=bucket))
    assert (
        f'perform: s3:ListBucket on resource: "arn:aws:s3:::{bucket}" because'
        in (listed["message"])
    )
    user = f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/build-1"
    resource = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/other/api/url"
    assert refusal(lambda: clients["ssm"].get_parameter(Name="/other/api/url")) == {
        "code": "AccessDeniedException",
        "message": f"User: {user} is not authorized to perform: ssm:GetParameter on resource: "
        f"{resource} because no identity-based policy allows the ssm:GetParameter action",
        "status": 403,
    }
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:approvals"
    denied = refusal(lambda: clients["sns"].publish(TopicArn=topic, Message="m"))
    assert (denied["code"], denied["status"]) == ("AuthorizationError", 403)
    assert denied["message"].endswith(
        f"sns:Publish on resource: {topic} because no identity-based policy allows the "
        "sns:Publish action"
    )


def test_removing_the_one_statement_refuses_the_call(patched: Server) -> None:
    name, arn, bucket = world(patched)
    iam = patched.client("iam")
    iam.put_role_policy(
        RoleName=name, PolicyName="build", PolicyDocument=policy(PARAMETERS, OBJECTS, bucket=bucket)
    )
    clients = session_clients(patched, arn)
    clients["s3"].get_object(Bucket=bucket, Key="source.zip")
    iam.put_role_policy(
        RoleName=name, PolicyName="build", PolicyDocument=policy(PARAMETERS, bucket=bucket)
    )
    denied = refusal(lambda: clients["s3"].get_object(Bucket=bucket, Key="source.zip"))
    # S3 quotes the resource in its message
    assert denied == {
        "code": "AccessDenied",
        "message": f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{name}/build-1 is not authorized "
        f'to perform: s3:GetObject on resource: "arn:aws:s3:::{bucket}/source.zip" because no '
        "identity-based policy allows the s3:GetObject action",
        "status": 403,
    }


def test_an_explicit_deny_wins_over_an_allow(patched: Server) -> None:
    name, arn, bucket = world(patched)
    iam = patched.client("iam")
    iam.put_role_policy(
        RoleName=name, PolicyName="build", PolicyDocument=policy(OBJECTS, bucket=bucket)
    )
    managed = iam.create_policy(
        PolicyName=unique("deny"), PolicyDocument=policy(DENY_SECRET, bucket=bucket)
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=name, PolicyArn=managed)
    clients = session_clients(patched, arn)
    assert clients["s3"].get_object(Bucket=bucket, Key="source.zip")["Body"].read() == b"zip"
    denied = refusal(lambda: clients["s3"].get_object(Bucket=bucket, Key="secret"))
    assert denied["message"].endswith(
        f'on resource: "arn:aws:s3:::{bucket}/secret" with an explicit deny in an '
        "identity-based policy"
    )


def test_register_task_definition_needs_pass_role_for_its_roles(patched: Server) -> None:
    name, arn, bucket = world(patched)
    iam = patched.client("iam")
    task_role = f"arn:aws:iam::{ACCOUNT}:role/{unique('task')}"
    register = {
        "Effect": "Allow",
        "Action": "ecs:RegisterTaskDefinition",
        "Resource": "*",
    }
    pass_role = {
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": task_role,
        "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
    }
    iam.put_role_policy(
        RoleName=name, PolicyName="deploy", PolicyDocument=policy(register, bucket=bucket)
    )
    clients = session_clients(patched, arn)

    def call() -> Any:
        return clients["ecs"].register_task_definition(
            family="api",
            taskRoleArn=task_role,
            containerDefinitions=[{"name": "api", "image": "api:1", "memory": 128}],
        )

    denied = refusal(call)
    assert denied["code"] == "AccessDeniedException"
    assert f"iam:PassRole on resource: {task_role} because" in denied["message"]
    iam.put_role_policy(
        RoleName=name,
        PolicyName="deploy",
        PolicyDocument=policy(register, pass_role, bucket=bucket),
    )
    assert call()["taskDefinition"]["family"] == "api"


def test_the_accounts_own_credentials_are_not_checked(patched: Server, stock: Server) -> None:
    _, _, bucket = world(patched)  # the role has no policy at all
    assert patched.client("s3").get_object(Bucket=bucket, Key="secret")["Body"].read() == b"zip"
    assert patched.client("ssm").get_parameter(Name="/other/api/url")["Parameter"]["Value"] == "v"
    # nor the sessions of roles people assume, as the deployer and Terraform do: one
    # trusting the account, and one that does not exist (moto lets it be assumed)
    _, person, bucket = world(patched, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    missing = f"arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole"
    for role in (person, missing):
        clients = session_clients(patched, role)
        assert clients["s3"].get_object(Bucket=bucket, Key="secret")["Body"].read() == b"zip"
    # stock moto checks no session either: the gap this patch closes
    _, arn, _ = world(stock)
    clients = session_clients(stock, arn)
    assert clients["ssm"].get_parameter(Name="/other/api/url")["Parameter"]["Value"] == "v"
