"""The codepipeline engine's CodeDeployToECS and cross-account/region scenarios.

Run as ``_codepipeline_scenarios.py`` is (one separate interpreter, fresh moto backends
per scenario, the engine's rounds by hand on a fake clock), reusing its :class:`Case`.
A pipeline builds one service (the CodeBuild test double of ``Case.finish_builds``,
then the build's output artifact replaced by what the delivery stack's buildspec
writes: ``imageDetail.json``, ``taskdef-<target>.json``, ``appspec-<target>.yaml``)
and deploys it with a CodeDeployToECS action. Deployments are not run:
:func:`end_deployments` is the test double of the CodeDeploy engine (the deployment
ended Succeeded or Failed in moto's backend as that engine ends it).

Importing this module imports neither moto nor the patches: only :func:`main` does.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from collections.abc import Callable
from typing import Any

from tests.unit.emulator._codepipeline_scenarios import (
    ACCOUNT,
    BUCKET,
    ENVIRONMENT,
    LEFT_OUT,
    PIPELINE,
    REGION,
    Case,
    Out,
    action,
    build_action,
)
from tests.unit.emulator._helpers import trust_policy

OTHER_ACCOUNT = "222222222222"
OTHER_REGION = "us-west-2"
WEST_BUCKET = "delivery-artifacts-west"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/acme-api:d-API123"
#: a task definition as the stack's build leaves it (one image by placeholder, one
#: written by Terraform's jsonencode with < and > escaped)
TASKDEF = (
    '{"family": "acme-api", "networkMode": "awsvpc", "cpu": "256", "memory": "512",'
    ' "requiresCompatibilities": ["FARGATE"], "containerDefinitions": ['
    '{"name": "api", "image": "<IMAGE1_NAME>", "essential": true,'
    ' "portMappings": [{"containerPort": 8080}]},'
    ' {"name": "proxy", "image": "\\u003cIMAGE1_NAME\\u003e", "essential": false}]}'
)
#: as environments/stacks/delivery/templates/appspec.yaml.tftpl renders it
APPSPEC = """version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: "<TASK_DEFINITION>"
        LoadBalancerInfo:
          ContainerName: "api"
          ContainerPort: 8080
Hooks:
  - AfterAllowTestTraffic: "arn:aws:lambda:us-east-1:123456789012:function:acme-deploy-guard"
  - AfterAllowTraffic: "arn:aws:lambda:us-east-1:123456789012:function:acme-deploy-guard"
"""

#: as TASKDEF, with the roles its tasks run as (the action's role must pass them to ECS)
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/acme-api-execution"
TASKDEF_WITH_ROLES = json.dumps(
    {**json.loads(TASKDEF), "executionRoleArn": EXECUTION_ROLE, "taskRoleArn": EXECUTION_ROLE}
)
ARTIFACT_ALIAS = "alias/acme-artifacts"
#: What a CodeDeployToECS action's role needs (the CodePipeline user guide's "Service
#: role policy and permissions" for CodeDeployToECS, as modules/deploy-role grants it),
#: by Sid; resources of any account and region, so one set serves every scenario.
DEPLOY_STATEMENTS: dict[str, dict[str, Any]] = {
    "CodeDeployDeployments": {
        "Action": ["codedeploy:CreateDeployment", "codedeploy:GetDeployment"],
        "Resource": "arn:aws:codedeploy:*:*:deploymentgroup:acme/*",
    },
    "CodeDeployApplication": {
        "Action": [
            "codedeploy:GetApplication",
            "codedeploy:GetApplicationRevision",
            "codedeploy:RegisterApplicationRevision",
        ],
        "Resource": "arn:aws:codedeploy:*:*:application:acme",
    },
    "CodeDeployConfigs": {
        "Action": "codedeploy:GetDeploymentConfig",
        "Resource": "arn:aws:codedeploy:*:*:deploymentconfig:*",
    },
    "TaskDefinitions": {"Action": "ecs:RegisterTaskDefinition", "Resource": "*"},
    "PassTaskRolesToEcs": {
        "Action": "iam:PassRole",
        "Resource": EXECUTION_ROLE,
        "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
    },
    "ReadArtifacts": {
        "Action": "s3:GetObject",
        "Resource": [f"arn:aws:s3:::{BUCKET}/*", f"arn:aws:s3:::{WEST_BUCKET}/*"],
    },
    "DecryptArtifacts": {
        "Action": "kms:Decrypt",
        "Resource": f"arn:aws:kms:*:{ACCOUNT}:key/*",
        "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": ARTIFACT_ALIAS}},
    },
}

Scenario = Callable[[Case, Out], None]
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    def register(function: Scenario) -> Scenario:
        SCENARIOS[name] = function
        return function

    return register


def deploy_action(name: str, **extra: Any) -> dict[str, Any]:
    configuration = {
        "ApplicationName": "acme",
        "DeploymentGroupName": "acme-api",
        "TaskDefinitionTemplateArtifact": "BuildOutput_api_service",
        "TaskDefinitionTemplatePath": "taskdef-staging.json",
        "AppSpecTemplateArtifact": "BuildOutput_api_service",
        "AppSpecTemplatePath": "appspec-staging.yaml",
        "Image1ArtifactName": "BuildOutput_api_service",
        "Image1ContainerName": "IMAGE1_NAME",
    }
    configuration.update(extra.pop("configuration", {}))
    return action(
        name,
        "Deploy",
        "CodeDeployToECS",
        inputArtifacts=[{"name": "BuildOutput_api_service"}],
        configuration={k: v for k, v in configuration.items() if v is not None},
        **extra,
    )


def create(c: Case, *deploys: dict[str, Any], stores: bool = False, key: str | None = None) -> None:
    """The pipeline (Source, Build, Staging with ``deploys``); its role may deploy too
    (the actions without a role of their own) and assume the scenarios' deploy roles."""
    c.grant(
        "pipeline",
        "deploy",
        {
            **DEPLOY_STATEMENTS,
            "AssumeDeployRoles": {
                "Action": "sts:AssumeRole",
                "Resource": [
                    f"arn:aws:iam::{ACCOUNT}:role/acme-deploy",
                    f"arn:aws:iam::{OTHER_ACCOUNT}:role/deploy",
                    f"arn:aws:iam::{OTHER_ACCOUNT}:role/closed",
                ],
            },
            "ArtifactKeys": {
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": f"arn:aws:kms:*:{ACCOUNT}:key/*",
            },
        },
    )
    source = action(
        "Source",
        "Source",
        "CodeCommit",
        namespace="SourceVariables",
        outputArtifacts=[{"name": "SourceOutput"}],
        configuration={"RepositoryName": "acme-monorepo", "BranchName": "main"},
    )
    pipeline: dict[str, Any] = {
        "name": PIPELINE,
        "roleArn": c.role,
        "pipelineType": "V2",
        "stages": [
            {"name": "Source", "actions": [source]},
            {"name": "Build", "actions": [build_action("api-service", "acme-api")]},
            {"name": "Staging", "actions": list(deploys)},
        ],
    }
    if stores:
        pipeline["artifactStores"] = {
            REGION: {"type": "S3", "location": BUCKET},
            OTHER_REGION: {"type": "S3", "location": WEST_BUCKET},
        }
    else:
        pipeline["artifactStore"] = {"type": "S3", "location": BUCKET}
        if key:
            pipeline["artifactStore"]["encryptionKey"] = {"id": key, "type": "KMS"}
    c.cp.create_pipeline(pipeline=pipeline)


def deployment_group(clients: dict[str, Any]) -> None:
    """An ECS application and blue/green deployment group (in the clients' account/region)."""
    iam, codedeploy = clients["iam"], clients["codedeploy"]
    role = iam.create_role(
        RoleName="codedeploy", AssumeRolePolicyDocument=trust_policy("codedeploy.amazonaws.com")
    )["Role"]["Arn"]
    codedeploy.create_application(applicationName="acme", computePlatform="ECS")
    codedeploy.create_deployment_group(
        applicationName="acme",
        deploymentGroupName="acme-api",
        serviceRoleArn=role,
        deploymentStyle={
            "deploymentType": "BLUE_GREEN",
            "deploymentOption": "WITH_TRAFFIC_CONTROL",
        },
        ecsServices=[{"serviceName": "acme-api", "clusterName": "acme"}],
    )


def build(c: Case, key: str | None = None) -> None:
    """Source and the build: the build's artifact as the stack's buildspec writes it
    (SSE-KMS with ``key``, as CodeBuild encrypts it with its project's key)."""
    from moto.s3.models import s3_backends

    c.rounds()
    c.finish_builds()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("imageDetail.json", json.dumps({"ImageURI": IMAGE}))
        archive.writestr("taskdef-staging.json", TASKDEF)
        archive.writestr("appspec-staging.yaml", APPSPEC)
        archive.writestr("taskdef-roles.json", TASKDEF_WITH_ROLES)
        archive.writestr("deployment-id.txt", "d-API123\n")
    for finished in c.finished:
        bucket, _, object_key = finished["artifacts"].split(":::", 1)[1].partition("/")
        s3_backends[ACCOUNT]["aws"].put_object(
            bucket,
            object_key,
            buffer.getvalue(),
            encryption="aws:kms" if key else None,
            kms_key_id=key,
        )


def deployments(account: str = ACCOUNT, region: str = REGION) -> list[Any]:
    from moto.codedeploy.models import codedeploy_backends

    return list(codedeploy_backends[account][region].deployments.values())


def end_deployments(status: str, account: str = ACCOUNT, region: str = REGION) -> None:
    """The CodeDeploy engine's part: each deployment in progress ended with ``status``."""
    from deployer.emulator.patches import _codedeploy_state as state

    for deployment in deployments(account, region):
        if deployment.status == "InProgress":
            if status == "Failed":
                state.finish(
                    deployment, status, code="HEALTH_CONSTRAINTS", message="tasks unhealthy"
                )
            else:
                state.finish(deployment, status)


def other_account(c: Case) -> dict[str, Any]:
    """Clients in OTHER_ACCOUNT (credentials of a role there, as moto's STS maps them)."""
    import boto3

    creds = c.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/bootstrap", RoleSessionName="setup"
    )["Credentials"]
    session = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    return {s: session.client(s, region_name=OTHER_REGION) for s in ("iam", "codedeploy", "ecs")}


def action_view(c: Case, e: str, name: str) -> dict[str, Any]:
    found = c.actions(e)[name]
    return {
        "status": found["status"],
        "input": found["input"],
        "result": found["output"].get("executionResult", {}),
    }


# -- the scenarios -------------------------------------------------------------------------------


@scenario("ecs_deploy")
def ecs_deploy(c: Case, out: Out) -> None:
    deployment_group({"iam": c.client("iam"), "codedeploy": c.client("codedeploy")})
    create(c, deploy_action("api"))
    e = c.start()
    build(c)
    c.rounds()
    out["deploying"] = [c.status(e), action_view(c, e, "api")]
    found = deployments()
    out["deployments"] = len(found)
    deployment = c.client("codedeploy").get_deployment(deploymentId=found[0].deployment_id)
    info = deployment["deploymentInfo"]
    out["deployment"] = {
        "id": info["deploymentId"],
        "status": info["status"],
        "group": [info["applicationName"], info["deploymentGroupName"]],
        "revision": info["revision"],
    }
    ecs = c.client("ecs")
    arns = ecs.list_task_definitions(familyPrefix="acme-api")["taskDefinitionArns"]
    out["task_definitions"] = arns
    registered = ecs.describe_task_definition(taskDefinition=arns[-1])["taskDefinition"]
    out["registered"] = {
        "images": [d["image"] for d in registered["containerDefinitions"]],
        "cpu": registered.get("cpu"),
        "networkMode": registered.get("networkMode"),
        "requiresCompatibilities": registered.get("requiresCompatibilities"),
    }
    c.rounds(2)
    out["still"] = [c.status(e), c.actions(e)["api"]["status"]]
    end_deployments("Succeeded")
    c.rounds()
    out["final"] = [c.status(e), action_view(c, e, "api")]


@scenario("ecs_deploy_failed")
def ecs_deploy_failed(c: Case, out: Out) -> None:
    deployment_group({"iam": c.client("iam"), "codedeploy": c.client("codedeploy")})
    create(c, deploy_action("api"))
    e = c.start()
    build(c)
    c.rounds()
    end_deployments("Failed")
    c.rounds()
    found = c.cp.get_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=e)
    out["final"] = [found["pipelineExecution"]["status"], action_view(c, e, "api")]
    out["summary"] = found["pipelineExecution"].get("statusSummary")
    out["deployment"] = deployments()[0].deployment_id


@scenario("ecs_deploy_bad_config")
def ecs_deploy_bad_config(c: Case, out: Out) -> None:
    deployment_group({"iam": c.client("iam"), "codedeploy": c.client("codedeploy")})
    create(
        c,
        deploy_action("missing_file", configuration={"TaskDefinitionTemplatePath": "nope.json"}),
        deploy_action("half_image", configuration={"Image1ContainerName": None}),
        deploy_action("no_group", configuration={"DeploymentGroupName": "nope"}),
        deploy_action("defaults", configuration={"TaskDefinitionTemplatePath": None}),
    )
    e = c.start()
    build(c)
    c.rounds()
    out["actions"] = {
        n: [d["status"], d["output"]["executionResult"].get("errorDetails")]
        for n, d in c.actions(e).items()
        if n in ("missing_file", "half_image", "no_group", "defaults")
    }
    out["deployments"] = len(deployments())
    out["final"] = c.status(e)


@scenario("cross_account_region")
def cross_account_region(c: Case, out: Out) -> None:
    other = other_account(c)
    deployment_group(other)
    trusted = other["iam"].create_role(
        RoleName="deploy",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    c.grant("deploy", "deploy", DEPLOY_STATEMENTS, iam=other["iam"])
    untrusted = other["iam"].create_role(
        RoleName="closed",
        AssumeRolePolicyDocument=trust_policy("codedeploy.amazonaws.com"),
    )["Role"]["Arn"]
    c.s3.create_bucket(
        Bucket=WEST_BUCKET, CreateBucketConfiguration={"LocationConstraint": OTHER_REGION}
    )
    create(
        c,
        deploy_action("west", region=OTHER_REGION, roleArn=trusted),
        deploy_action("refused", region=OTHER_REGION, roleArn=untrusted, runOrder=1),
        stores=True,
    )
    e = c.start()
    build(c)
    c.rounds()
    west = action_view(c, e, "west")
    out["west"] = west
    out["refused"] = action_view(c, e, "refused")
    location = west["input"]["inputArtifacts"][0]["s3location"]
    out["copied"] = [o["Key"] for o in c.s3.list_objects_v2(Bucket=WEST_BUCKET).get("Contents", [])]
    out["location"] = location
    out["build_key"] = c.actions(e)["api-service"]["output"]["outputArtifacts"][0]["s3location"]
    out["in_other"] = [d.deployment_id for d in deployments(OTHER_ACCOUNT, OTHER_REGION)]
    out["in_pipeline_account"] = len(deployments()) + len(deployments(ACCOUNT, OTHER_REGION))
    out["task_definitions"] = other["ecs"].list_task_definitions()["taskDefinitionArns"]
    out["local_task_definitions"] = c.client("ecs").list_task_definitions()["taskDefinitionArns"]
    end_deployments("Succeeded", OTHER_ACCOUNT, OTHER_REGION)
    c.rounds()
    out["final"] = [c.status(e), c.actions(e)["west"]["status"]]


def deploy_role(c: Case, statements: dict[str, dict[str, Any]]) -> str:
    """The runtime account's deploy role (modules/deploy-role): trusts the pipeline's role,
    allowed ``statements``."""
    iam = c.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": c.role}, "Action": "sts:AssumeRole"}
        ],
    }
    arn = str(
        iam.create_role(RoleName="acme-deploy", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]
    )
    c.grant("acme-deploy", "deploy", statements)
    return arn


def without(*sids: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in DEPLOY_STATEMENTS.items() if k not in sids}


def attempt(c: Case, key: str | None = None) -> dict[str, Any]:
    """One execution to its Staging action: what the action shows."""
    e = c.start()
    build(c, key)
    c.rounds()
    view = action_view(c, e, "api")
    return {"execution": e, "status": view["status"], "result": view["result"]}


@scenario("deploy_role_least_privilege")
def deploy_role_least_privilege(c: Case, out: Out) -> None:
    deployment_group({"iam": c.client("iam"), "codedeploy": c.client("codedeploy")})
    role = deploy_role(c, without("TaskDefinitions"))
    create(
        c,
        deploy_action(
            "api", roleArn=role, configuration={"TaskDefinitionTemplatePath": "taskdef-roles.json"}
        ),
    )
    out["no_register"] = attempt(c)
    out["registered_then"] = c.client("ecs").list_task_definitions()["taskDefinitionArns"]
    c.grant("acme-deploy", "deploy", without("PassTaskRolesToEcs"))
    out["no_pass_role"] = attempt(c)
    c.grant("acme-deploy", "deploy", DEPLOY_STATEMENTS)
    out["restored"] = attempt(c)
    end_deployments("Succeeded")
    c.rounds()
    e = out["restored"]["execution"]
    out["final"] = [c.status(e), c.actions(e)["api"]["status"]]
    out["summary"] = c.cp.get_pipeline_execution(
        pipelineName=PIPELINE, pipelineExecutionId=out["no_register"]["execution"]
    )["pipelineExecution"].get("statusSummary")


@scenario("kms_artifacts")
def kms_artifacts(c: Case, out: Out) -> None:
    kms = c.client("kms")
    key = kms.create_key(Description="artifacts")["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName=ARTIFACT_ALIAS, TargetKeyId=key)
    deployment_group({"iam": c.client("iam"), "codedeploy": c.client("codedeploy")})
    role = deploy_role(c, without("DecryptArtifacts"))
    create(c, deploy_action("api", roleArn=role), key=key)
    out["key"] = key
    out["no_decrypt"] = attempt(c, key)
    e = out["no_decrypt"]["execution"]
    source = c.actions(e)["Source"]["output"]["outputArtifacts"][0]["s3location"]
    head = c.s3.head_object(Bucket=source["bucket"], Key=source["key"])
    out["source_object"] = [head.get("ServerSideEncryption"), head.get("SSEKMSKeyId")]
    c.grant("acme-deploy", "deploy", DEPLOY_STATEMENTS)
    out["with_decrypt"] = attempt(c, key)
    end_deployments("Succeeded")
    c.rounds()
    kms.disable_key(KeyId=key.rsplit("/", 1)[-1])  # moto 5.2.5 takes no ARN here
    e = c.start()
    c.rounds()
    found = c.actions(e)["Source"]
    out["disabled"] = [found["status"], found["output"]["executionResult"].get("errorDetails")]


@scenario("pipeline_role_without_kms")
def pipeline_role_without_kms(c: Case, out: Out) -> None:
    """The source action (the pipeline's role) cannot write its artifact without
    kms:GenerateDataKey on the store's key."""
    key = c.client("kms").create_key(Description="artifacts")["KeyMetadata"]["Arn"]
    create(c, deploy_action("api"), key=key)
    c.client("iam").delete_role_policy(RoleName="pipeline", PolicyName="deploy")
    e = c.start()
    c.rounds()
    found = c.actions(e)["Source"]
    out["source"] = [found["status"], found["output"]["executionResult"].get("errorDetails")]
    out["key"] = key


def main(argv: list[str]) -> int:
    from tests.unit.emulator._scenario_runner import main as run_main

    return run_main(
        argv,
        doc=__doc__,
        scenarios=SCENARIOS,
        case=Case,
        environment=ENVIRONMENT,
        left_out=LEFT_OUT,
        default=str,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
