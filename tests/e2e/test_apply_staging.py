"""The README's first command: `deployer apply staging` on the local emulator.

Runs the real CLI in a subprocess against a private state folder: the emulator
is started on demand, the state bucket created, the runtime stack applied in
the staging account; re-planning shows no changes; the rollback drill refuses an
emulator without its runtime and touches nothing (tests/e2e/drill_checks.py); the gate
protects staging's
stateful resources on destroy; `emulator stop` leaves nothing behind.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from deployer.emulator.process import pid_alive
from tests.e2e.conftest import DeployerCLI, account_client
from tests.e2e.drill_checks import check_drill_refuses_without_the_runtime

pytestmark = pytest.mark.e2e

STAGING_ACCOUNT = "333333333333"
DELIVERY_ACCOUNT = "111111111111"


def _clients(endpoint: str, account: str, service: str) -> Any:
    return account_client(endpoint, account, service)


SECRET = "e2e-Secret-Value-4f1d9c"


def test_apply_staging_end_to_end(cli: DeployerCLI) -> None:
    # Nothing running yet: the apply starts the emulator itself.
    assert cli("emulator", "status", "--json").json()["running"] is False

    # The apply seeds SSM afterwards, the secret from its environment variable.
    cli.env["DEPLOYER_SECRET_AUTH_SERVICE_JWT_SIGNING_KEY"] = SECRET
    applied = cli("apply", "staging", "--json", "-vv")
    assert applied.returncode == 0, applied.stderr[-3000:]
    doc = applied.json()  # stdout is exactly one JSON document
    assert doc["environment"] == "staging"
    (region,) = doc["regions"]
    assert region["workspace"] == "staging-us-east-1"
    assert region["status"] == "applied"
    assert region["changes"]["add"] > 0
    assert doc["run_id"].endswith(("-local",)) or len(doc["run_id"].split("-")[-1]) == 7
    # Progress went to stderr, per region.
    assert "[staging-us-east-1] terraform plan" in applied.stderr
    assert "[staging-us-east-1]   created module.network.aws_vpc.this" in applied.stderr

    status = cli("emulator", "status", "--json").json()
    assert status["running"] is True
    endpoint = status["endpoint"]

    # The secret is in Parameter Store as a SecureString with the environment's key ...
    ssm = _clients(endpoint, STAGING_ACCOUNT, "ssm")
    stored = ssm.get_parameter(  # type: ignore[attr-defined]
        Name="/pipeline/staging/auth-service/JWT_SIGNING_KEY", WithDecryption=True
    )["Parameter"]
    assert (stored["Type"], stored["Value"]) == ("SecureString", SECRET)
    seeded = {p["name"]: p["action"] for p in doc["parameters"][0]["parameters"]}
    assert seeded["/pipeline/staging/auth-service/JWT_SIGNING_KEY"] == "created"
    # ... and nowhere else: not in the output (even at -vv), not in Terraform state,
    # not in any file the deployer or Terraform wrote, not in the emulator's log.
    assert SECRET not in applied.stdout + applied.stderr
    state_s3 = _clients(endpoint, DELIVERY_ACCOUNT, "s3")
    state = state_s3.get_object(  # type: ignore[attr-defined]
        Bucket="acme-shop-delivery-tfstate", Key="workspaces/staging-us-east-1/runtime.tfstate"
    )["Body"].read()
    assert b"JWT_SIGNING_KEY" in state  # the name is referenced by the task definitions ...
    assert SECRET.encode() not in state  # ... the value never
    scanned = 0
    for folder, _dirs, files in os.walk(cli.state_dir):  # links (providers) not followed
        for name in files:
            path = Path(folder) / name
            if path.is_symlink():
                continue
            scanned += 1
            assert SECRET.encode() not in path.read_bytes(), f"secret found in {path}"
    assert scanned > 10  # var files, backend files, plans' remnants, emulator log, record
    again = cli("seed", "staging", "--json")
    assert again.returncode == 0
    assert {p["action"] for p in again.json()["regions"][0]["parameters"]} == {"unchanged"}
    assert SECRET not in again.stdout + again.stderr

    # The VPC is in the staging account, over 3 AZs, as configured.
    ec2 = _clients(endpoint, STAGING_ACCOUNT, "ec2")
    vpc_id = region["outputs"]["vpc_id"]
    (vpc,) = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]  # type: ignore[attr-defined]
    assert vpc["CidrBlock"] == "10.20.0.0/16"
    tags = {t["Key"]: t["Value"] for t in vpc["Tags"]}
    assert tags["Environment"] == "staging" and tags["ManagedBy"] == "terraform"
    subnets = ec2.describe_subnets(  # type: ignore[attr-defined]
        SubnetIds=region["outputs"]["private_subnet_ids"]
    )["Subnets"]
    assert len({s["AvailabilityZone"] for s in subnets}) == 3
    assert not any(s["MapPublicIpOnLaunch"] for s in subnets)

    # State lives in the delivery account's bucket, per workspace.
    s3 = _clients(endpoint, DELIVERY_ACCOUNT, "s3")
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket="acme-shop-delivery-tfstate").get("Contents", [])  # type: ignore[attr-defined]
    ]
    assert "workspaces/staging-us-east-1/runtime.tfstate" in keys
    assert not any(k.endswith(".tflock") for k in keys), "lock file left behind"

    # Re-plan: no changes (exit 0 with --detailed-exitcode).
    replan = cli("plan", "staging", "--detailed-exitcode")
    assert replan.returncode == 0, replan.stderr[-3000:]
    assert "no changes" in replan.stdout

    # Outputs as one JSON document.
    outputs = cli("output", "staging", "--json").json()
    assert outputs["regions"]["us-east-1"]["vpc_id"] == vpc_id

    # The rollback drill refuses: this emulator runs no CodeDeploy engine.
    check_drill_refuses_without_the_runtime(cli)

    # Destroying staging's stateful resources (log groups, KMS keys) is refused by the
    # gate, before anything is asked or changed ...
    del cli.env["DEPLOYER_SECRET_AUTH_SERVICE_JWT_SIGNING_KEY"]
    gated = cli("destroy", "staging", "--auto-approve")
    assert gated.returncode == 1
    assert "refusing to apply: the plan would delete or replace stateful resources" in gated.stderr
    assert ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]  # type: ignore[attr-defined]
    stateful = [
        line.split()[-1]
        for line in gated.stderr.splitlines()
        if line.strip().startswith("staging-us-east-1: delete")
    ]
    assert "module.network.aws_cloudwatch_log_group.flow_logs[0]" in stateful
    assert "module.parameters.module.key.aws_kms_key.this" in stateful
    assert 'module.service["api-service"].aws_cloudwatch_log_group.this' in stateful
    assert all(".aws_cloudwatch_log_group." in a or ".aws_kms_key." in a for a in stateful)
    allow = [arg for address in stateful for arg in ("--allow-destroy", address)]
    # ... and, allowed, still needs --auto-approve when there is no terminal to ask.
    unconfirmed = cli("destroy", "staging", *allow)
    assert unconfirmed.returncode == 2
    assert "no terminal to ask for confirmation" in unconfirmed.stderr
    assert ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]  # type: ignore[attr-defined]
    destroyed = cli("destroy", "staging", "--auto-approve", *allow)
    assert destroyed.returncode == 0, destroyed.stderr[-3000:]
    assert (
        ec2.describe_vpcs(  # type: ignore[attr-defined]
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
        )["Vpcs"]
        == []
    )

    pid = status["pid"]
    stopped = cli("emulator", "stop")
    assert stopped.returncode == 0
    assert not pid_alive(pid)
