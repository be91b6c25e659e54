"""The reference configuration (every resource type of the design) on the emulator.

Real Terraform and the real AWS provider apply it to a fresh patched
emulator, re-plan with no changes, and destroy it; boto3 checks a few results,
including the resources created in the second account through the aliased
provider that assumes a role there.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
import tftest

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference"
WORKLOAD_ACCOUNT = "222222222222"
TOOLING_ACCOUNT = "123456789012"


def lambda_zip(path: Path) -> Path:
    """Deterministic zip: fixed timestamp and permissions, so the hash is stable."""
    info = zipfile.ZipInfo("notifier.py", date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(info, b"def handler(event, context):\n    return {'ok': True}\n")
    return path


def client(endpoint: str, service: str, **credentials: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=credentials.get("key", "test"),
        aws_secret_access_key=credentials.get("secret", "test"),
        aws_session_token=credentials.get("token"),
    )


def workload_client(endpoint: str, service: str) -> Any:
    creds = client(endpoint, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{WORKLOAD_ACCOUNT}:role/OrganizationAccountAccessRole",
        RoleSessionName="reference-test",
    )["Credentials"]
    return client(
        endpoint,
        service,
        key=creds["AccessKeyId"],
        secret=creds["SecretAccessKey"],
        token=creds["SessionToken"],
    )


def test_reference_applies_replans_empty_and_destroys(
    emulator: Any, tf_env: dict[str, str], terraform_binary: str, tmp_path: Path
) -> None:
    tfdir = tmp_path / "reference"
    shutil.copytree(REFERENCE, tfdir, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    tf_vars = {
        "lambda_zip_path": str(lambda_zip(tmp_path / "notifier.zip")),
        "s3_use_path_style": "true",
        "skip_credentials_validation": "true",
        "skip_metadata_api_check": "true",
        "max_retries": "2",
    }
    env = {**tf_env, "AWS_ENDPOINT_URL": emulator.endpoint}
    tf = tftest.TerraformTest(str(tfdir), binary=terraform_binary, env=env)
    tf.setup(upgrade=False)

    applied = False
    try:
        tf.apply(tf_vars=tf_vars)  # raises TerraformTestError on any error
        applied = True
        outputs = tf.output()

        # Re-plan: no changes at all (exit code 0, not 2).
        assert_no_changes(terraform_binary, tfdir, tf.env, tf_vars)

        # In-place updates: a changed setting updates the build project
        # (UpdateProject) and the deployment group (UpdateDeploymentGroup) without
        # replacing anything, and the re-plan after it is empty again.
        tf_vars["bake_minutes"] = "7"
        changes = tf.plan(output=True, tf_vars=tf_vars).resource_changes
        updated = {a: c["change"]["actions"] for a, c in changes.items()
                   if c["change"]["actions"] != ["no-op"]}  # fmt: skip
        assert updated == {
            "aws_codebuild_project.housekeeping": ["update"],
            "aws_codedeploy_deployment_group.service": ["update"],
        }
        tf.apply(tf_vars=tf_vars)
        assert_no_changes(terraform_binary, tfdir, tf.env, tf_vars)
        group = client(emulator.endpoint, "codedeploy").get_deployment_group(
            applicationName=outputs["codedeploy_app"],
            deploymentGroupName=outputs["codedeploy_group"],
        )["deploymentGroupInfo"]
        blue_green = group["blueGreenDeploymentConfiguration"]
        bake = blue_green["terminateBlueInstancesOnDeploymentSuccess"]
        assert bake["terminationWaitTimeInMinutes"] == 7

        check_pipeline(emulator.endpoint, outputs["pipeline_name"])
        check_codedeploy(emulator.endpoint, outputs["codedeploy_app"], outputs["codedeploy_group"])
        check_notifications(emulator.endpoint, outputs["notification_rule_arn"])
        check_workload_account(emulator.endpoint, outputs)
    finally:
        if applied or (tfdir / "terraform.tfstate").exists():
            tf.destroy(tf_vars=tf_vars)

    assert client(emulator.endpoint, "codepipeline").list_pipelines()["pipelines"] == []
    assert client(emulator.endpoint, "codedeploy").list_applications()["applications"] == []
    buckets = workload_client(emulator.endpoint, "s3").list_buckets()["Buckets"]
    assert outputs["workload_bucket"] not in [b["Name"] for b in buckets]


def assert_no_changes(
    terraform_binary: str, tfdir: Path, env: dict[str, str], tf_vars: dict[str, str]
) -> None:
    """A plan with -detailed-exitcode: 0 (no changes), not 2 (changes) or 1 (error)."""
    var_args = [f"-var={k}={v}" for k, v in tf_vars.items()]
    plan = subprocess.run(
        [terraform_binary, "plan", "-detailed-exitcode", "-input=false", "-no-color",
         "-lock=false", *var_args],
        cwd=tfdir, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert plan.returncode == 0, plan.stdout[-6000:] + plan.stderr[-3000:]


def check_pipeline(endpoint: str, name: str) -> None:
    pipeline = client(endpoint, "codepipeline").get_pipeline(name=name)["pipeline"]
    stages = {stage["name"]: stage["actions"] for stage in pipeline["stages"]}
    assert list(stages) == ["Source", "Build", "Approve", "Deploy"]
    assert stages["Source"][0]["actionTypeId"]["provider"] == "CodeCommit"
    # Build and Test in parallel: same run order in one stage.
    assert sorted(a["name"] for a in stages["Build"]) == ["Build", "Test"]
    assert {a["runOrder"] for a in stages["Build"]} == {1}
    (approval,) = stages["Approve"]
    assert approval["actionTypeId"]["provider"] == "Manual"
    assert approval["configuration"]["NotificationArn"].endswith(":ref-pipeline")
    (deploy,) = stages["Deploy"]
    assert deploy["actionTypeId"]["provider"] == "CodeDeployToECS"


def check_codedeploy(endpoint: str, app: str, group: str) -> None:
    info = client(endpoint, "codedeploy").get_deployment_group(
        applicationName=app, deploymentGroupName=group
    )["deploymentGroupInfo"]
    assert info["deploymentStyle"] == {
        "deploymentType": "BLUE_GREEN",
        "deploymentOption": "WITH_TRAFFIC_CONTROL",
    }
    assert info["alarmConfiguration"]["enabled"] is True
    assert info["alarmConfiguration"]["alarms"] == [{"name": "ref-service-5xx"}]
    assert info["autoRollbackConfiguration"]["enabled"] is True
    pair = info["loadBalancerInfo"]["targetGroupPairInfoList"][0]
    assert len(pair["targetGroups"]) == 2
    assert pair["testTrafficRoute"]["listenerArns"]
    assert info["ecsServices"] == [{"clusterName": "ref-cluster", "serviceName": "ref-service"}]


def check_notifications(endpoint: str, arn: str) -> None:
    rule = client(endpoint, "codestar-notifications").describe_notification_rule(Arn=arn)
    assert rule["Resource"].endswith(":ref-service")
    assert rule["Targets"][0]["TargetType"] == "SNS"


def check_workload_account(endpoint: str, outputs: dict[str, Any]) -> None:
    assert outputs["account_id"] == TOOLING_ACCOUNT
    assert outputs["workload_account_id"] == WORKLOAD_ACCOUNT
    assert outputs["workload_role_arn"].startswith(f"arn:aws:iam::{WORKLOAD_ACCOUNT}:role/")
    bucket = outputs["workload_bucket"]
    workload_s3 = workload_client(endpoint, "s3")
    assert bucket in [b["Name"] for b in workload_s3.list_buckets()["Buckets"]]
    tooling_buckets = client(endpoint, "s3").list_buckets()["Buckets"]
    assert bucket not in [b["Name"] for b in tooling_buckets]
    role = workload_client(endpoint, "iam").get_role(RoleName="ref-deploy-from-tooling")["Role"]
    assert role["Arn"] == outputs["workload_role_arn"]
