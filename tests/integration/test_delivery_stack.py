"""The delivery stack on the emulator (tftest + boto3): artifacts, ECR, builds, pipeline.

Applies the stack as the deployer configures it, in the delivery account,
checks the specification through boto3, audits every policy document,
re-plans (no changes) and destroys.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deployer import report
from deployer.aws import Target
from tests import policies
from tests.integration.stacks import config, stack_run

pytestmark = pytest.mark.integration

CFG = config()
DELIVERY = CFG.delivery
PREFIX = CFG.name_prefix(DELIVERY.name)
RUNTIME_ACCOUNTS = {e.account_id for e in CFG.environments.values() if e.stack == "runtime"}


def test_delivery_stack(
    target: Target, tf_env: dict[str, str], terraform_binary: str, tmp_path: Path
) -> None:
    run = stack_run(
        CFG,
        DELIVERY.name,
        DELIVERY.primary_region,
        target=target,
        tf_env=tf_env,
        terraform_binary=terraform_binary,
        work_dir=tmp_path,
    )
    try:
        out = run.apply()

        # -- artifacts: versioned, KMS-encrypted, 30-day lifecycle, shared -------------
        s3 = run.client("s3")
        for region, bucket in out["artifact_buckets"].items():
            assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
            (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
                "Rules"
            ]
            sse = rule["ApplyServerSideEncryptionByDefault"]
            assert sse["SSEAlgorithm"] == "aws:kms"
            assert sse["KMSMasterKeyID"].startswith(f"arn:aws:kms:{region}:")
            lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
            assert any(r.get("Expiration", {}).get("Days") == 30 for r in lifecycle)
            assert any(
                r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") == 30
                for r in lifecycle
            )
            block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
            assert all(block.values())
            policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
            principals = json.dumps([s.get("Principal") for s in policy["Statement"]])
            assert all(account in principals for account in RUNTIME_ACCOUNTS)
            assert any(
                s["Effect"] == "Deny"
                and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
                for s in policy["Statement"]
            )

        # -- ECR: scan on push, immutable, lifecycle, pull grants, DR replication --------
        ecr = run.client("ecr")
        names = [f"{PREFIX}-{m.name}" for m in CFG.microservices] + [f"{PREFIX}-build-image"]
        repos = ecr.describe_repositories(repositoryNames=names)["repositories"]
        assert len(repos) == len(names)
        for repo in repos:
            assert repo["imageScanningConfiguration"]["scanOnPush"] is True
            assert repo["imageTagMutability"] == "IMMUTABLE"
            assert repo["encryptionConfiguration"]["encryptionType"] == "KMS"
            rules = json.loads(
                ecr.get_lifecycle_policy(repositoryName=repo["repositoryName"])[
                    "lifecyclePolicyText"
                ]
            )["rules"]
            selections = [r["selection"] for r in rules]
            assert {"tagStatus": "untagged", "countType": "sinceImagePushed",
                    "countUnit": "days", "countNumber": 7} in selections  # fmt: skip
            assert any(
                s["countType"] == "imageCountMoreThan" and s["countNumber"] == 10
                for s in selections
            )
            repo_policy = ecr.get_repository_policy(repositoryName=repo["repositoryName"])
            assert all(a in repo_policy["policyText"] for a in RUNTIME_ACCOUNTS)
        replication = ecr.describe_registry()["replicationConfiguration"]["rules"]
        destinations = {d["region"] for r in replication for d in r["destinations"]}
        assert destinations == {"us-west-2"}
        assert set(out["ecr_repository_urls_dr"]) == set(out["ecr_repository_urls"])

        # -- CodeBuild: one project per microservice on the custom image, logs kept ------
        codebuild = run.client("codebuild")
        projects = codebuild.batch_get_projects(
            names=[*list(out["build_project_names"].values()), f"{PREFIX}-integration-tests"]
        )["projects"]
        assert len(projects) == len(CFG.microservices) + 1
        image_repo = out["ecr_repository_urls"]["build-image"]
        for project in projects:
            assert project["environment"]["image"].startswith(image_repo + ":")
            assert project["environment"]["imagePullCredentialsType"] == "SERVICE_ROLE"
            assert project["source"]["type"] == "CODEPIPELINE"
            assert project["artifacts"]["type"] == "CODEPIPELINE"
        # Each build hands CodeDeploy a task definition and an appspec per deploy target;
        # the appspec runs the target's deploy guard on both traffic hooks.
        for project in projects:
            variables = {
                v["name"]: v["value"] for v in project["environment"]["environmentVariables"]
            }
            if "DEPLOY_FILES" not in variables:
                continue  # the integration test project
            files = json.loads(variables["DEPLOY_FILES"])
            for target, account in (("staging-us-east-1", "333333333333"),
                                    ("prod-us-west-2", "444444444444")):  # fmt: skip
                region = target.split("-", 1)[1]
                env_name = target.split("-", 1)[0]
                appspec = files[f"appspec-{target}.yaml"]
                guard = (
                    f"arn:aws:lambda:{region}:{account}:function:acme-shop-{env_name}-deploy-guard"
                )
                assert f'AfterAllowTestTraffic: "{guard}"' in appspec
                assert f'AfterAllowTraffic: "{guard}"' in appspec
                taskdef = json.loads(files[f"taskdef-{target}.json"])
                image = taskdef["containerDefinitions"][0]["image"]
                assert image.startswith(f"111111111111.dkr.ecr.{region}.amazonaws.com/")
                assert image.endswith(":<IMAGE_TAG>")
        roles = {p["serviceRole"] for p in projects}
        assert len(roles) == len(projects), "each project has its own role"
        logs = run.client("logs")
        for project in out["build_project_names"].values():
            (group,) = logs.describe_log_groups(logGroupNamePrefix=f"/aws/codebuild/{project}")[
                "logGroups"
            ]
            assert group["retentionInDays"] == DELIVERY.log_retention_days
            assert group.get("kmsKeyId")

        # -- the pipeline: five stages, parallel builds, approval, cross-account deploys -
        pipeline = run.client("codepipeline").get_pipeline(name=out["pipeline_name"])["pipeline"]
        stages = pipeline["stages"]
        assert [s["name"] for s in stages] == ["Source", "Build", "Test", "Staging", "Production"]
        builds = stages[1]["actions"]
        assert len(builds) == len(CFG.microservices)
        assert len({a["runOrder"] for a in builds}) == 1, "builds run in parallel"
        staging_actions = stages[3]["actions"]
        staging = CFG.environment(CFG.pipeline.staging)
        assert {a["actionTypeId"]["provider"] for a in staging_actions} == {"CodeDeployToECS"}
        assert {a["roleArn"].split(":")[4] for a in staging_actions} == {staging.account_id}
        production = stages[4]["actions"]
        approval = [a for a in production if a["actionTypeId"]["category"] == "Approval"]
        assert len(approval) == 1
        assert approval[0]["configuration"]["NotificationArn"] == out["approvals_topic_arn"]
        deploys = [a for a in production if a["actionTypeId"]["provider"] == "CodeDeployToECS"]
        prod = CFG.environment(CFG.pipeline.production)
        assert len(deploys) == len(CFG.microservices) * len(prod.regions)
        assert {a.get("region") for a in deploys} == {r.name for r in prod.regions}
        assert all(a["runOrder"] > approval[0]["runOrder"] for a in deploys)
        stores = pipeline.get("artifactStores") or {"us-east-1": pipeline["artifactStore"]}
        assert set(stores) == {"us-east-1", "us-west-2"}
        assert {s["encryptionKey"]["type"] for s in stores.values()} == {"KMS"}
        # A distinct role per stage: service role, source, build, test, two deploy accounts.
        action_roles = {a.get("roleArn") for s in stages for a in s["actions"] if a.get("roleArn")}
        assert len(action_roles) >= 5
        assert pipeline["roleArn"] not in action_roles
        assert out["pipeline_url"].startswith("https://us-east-1.console.aws.amazon.com/codesuite/")

        # -- notifications: topics with email subscriptions, pipeline events ----------------
        sns = run.client("sns")
        for topic in (out["notifications_topic_arn"], out["approvals_topic_arn"]):
            subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
            assert {s["Endpoint"] for s in subscriptions} == set(DELIVERY.notification_emails)
        events = run.client("events")
        rules = events.list_rules(NamePrefix=PREFIX)["Rules"]
        pipeline_rules = [
            r for r in rules
            if "CodePipeline Pipeline Execution State Change" in r.get("EventPattern", "")
        ]  # fmt: skip
        assert len(pipeline_rules) == 1
        targets = events.list_targets_by_rule(Rule=pipeline_rules[0]["Name"])["Targets"]
        assert [t["Arn"] for t in targets] == [out["notifications_topic_arn"]]
        dashboards = run.client("cloudwatch").list_dashboards(DashboardNamePrefix=PREFIX)
        assert [d["DashboardName"] for d in dashboards["DashboardEntries"]] == [
            out["dashboard_name"]
        ]

        # -- the runtime accounts' health alarm events, recorded 400 days (report) ---------
        group = report.alarm_events_log_group(PREFIX)
        logs = run.client("logs")
        (records,) = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        assert records["logGroupName"] == group and records["retentionInDays"] == 400
        assert records["kmsKeyId"].startswith(f"arn:aws:kms:{DELIVERY.primary_region}:")
        recorder = events.describe_rule(Name=f"{PREFIX}-alarm-state-changes")
        assert set(json.loads(recorder["EventPattern"])["account"]) == RUNTIME_ACCOUNTS
        (written,) = events.list_targets_by_rule(Rule=recorder["Name"])["Targets"]
        assert written["Arn"].removesuffix(":*") == records["arn"].removesuffix(":*")
        (admitted,) = json.loads(events.describe_event_bus()["Policy"])["Statement"]
        assert admitted["Action"] == "events:PutEvents"
        assert set(admitted["Principal"]["AWS"]) == {
            f"arn:aws:iam::{a}:root" for a in RUNTIME_ACCOUNTS
        }
        resource_policies = logs.describe_resource_policies()["resourcePolicies"]
        assert f"{PREFIX}-alarm-state-changes" in {p["policyName"] for p in resource_policies}

        # -- every policy document obeys the IAM rule; re-plan is empty --------------------
        plan = run.plan()
        count, problems = policies.audit(plan)
        assert count > 20, "the audit read suspiciously few policy documents"
        assert problems == [], "\n".join(problems)
        assert run.changes(plan) == [], "re-plan after apply must show no changes"
    finally:
        run.destroy()
    assert run.client("codepipeline").list_pipelines()["pipelines"] == []
