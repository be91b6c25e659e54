"""A commit reaches production on the local target, through the pipeline the delivery
stack defines, with the real engines (issue 14's e2e).

A copy of the project with registry names of its own (company ``zeta``, other account
IDs), so that it runs beside the other runtime tests on an emulator of its own, and with
staging's and prod's timing knobs at AWS's minimums (health checks every 5 s, no
termination wait), as a team tunes a test account: the deploy guard watches each hook
for ``interval x (unhealthy threshold + 1)`` real seconds. At time scale 10.

* `deployer apply staging` (delivery first, the bootstrap images, the builds' offline
  base as their BASE_IMAGE), `deployer apply prod` (us-east-1 and us-west-2),
  `deployer build-image --push`;
* release 1 (`deployer release`): the push starts the pipeline; the three service builds
  overlap in time and run their unit tests; the Test stage runs the integration tests;
  the images land in ECR under their deployment IDs, in us-west-2 too (replication);
  staging deploys blue/green (CodeDeploy, the guard as its hooks) and answers with the
  new version; the approval notification names the commit and each deployment ID;
  rejected, the execution fails and production is untouched;
* release 2, approved: production deploys in both regions; every staging and prod
  endpoint answers with the new version;
* two commits in quick succession while the Build stage is held: the newer supersedes
  the older, as AWS does; that newer one's unit test fails: the execution stops at
  Build, nothing deploys, and the failure notification arrives;
* a commit whose service fails its health check: staging rolls it back (the guard fails
  the hook), production keeps release 2;
* staging's deploy role without its task-definition statement: the Staging actions fail
  with AWS's AccessDenied naming ecs:RegisterTaskDefinition (the statement restored after).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deployer.config import Config
from deployer.config import load as load_config
from tests.e2e.conftest import DeployerCLI

from .conftest import ROOT, Local, docker, get, wait_until
from .pipeline_e2e import SERVICES, SOURCES, Pipeline, project_copy, tree

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.time_scale(10.0),
    pytest.mark.registry_names("release-to-production"),
]

SECRET = "pipeline-e2e-Secret-5d1f"


@pytest.fixture
def project(registry_emulator: Local, tmp_path: Path) -> Iterator[tuple[DeployerCLI, Config]]:
    root = project_copy(tmp_path / "project")
    runner = DeployerCLI(registry_emulator.state_dir)
    runner.env["DEPLOYER_PROJECT_DIR"] = str(root)
    temp = tmp_path / "tmp"
    temp.mkdir()
    runner.env["TMPDIR"] = str(temp)
    config = load_config(root)
    try:
        yield runner, config
    finally:  # the tags this test left in the engine (its own registry names)
        host = f"{config.delivery.account_id}.dkr.ecr."
        left = docker("images", "--format", "{{.Repository}}:{{.Tag}}")
        tags = [t for t in left.stdout.split() if t.startswith(host)]
        build_image = f"{config.names.delivery.build_image_repo_name}:"
        tags += [t for t in left.stdout.split() if t.startswith(build_image)]
        if tags:
            docker("rmi", "--no-prune", *tags)


class Topic:
    """An SQS queue subscribed to an SNS topic: what reached the topic's subscribers."""

    def __init__(self, local: Local, account: str, topic_arn: str, name: str) -> None:
        self.sqs = local.client("sqs", account)
        self.url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        local.client("sns", account).subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
        self.seen: list[str] = []

    def messages(self) -> list[str]:
        while True:
            got = self.sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", [])
            if not got:
                return self.seen
            for message in got:
                self.seen.append(str(json.loads(message["Body"])["Message"]))


def versions(urls: dict[str, str]) -> dict[str, str]:
    """Each service's version, as its endpoint answers /health with that service's JSON."""
    answers = {}
    for service, url in urls.items():
        status, body = get(f"{url}/health")
        ok = status == 200 and body.get("service") == service
        answers[service] = str(body.get("version")) if ok else f"HTTP {status}: {body}"
    return answers


def test_a_commit_reaches_production(
    registry_emulator: Local, project: tuple[DeployerCLI, Config], tmp_path: Path
) -> None:
    local = registry_emulator
    cli, config = project
    started = time.monotonic()

    def phase(name: str) -> None:  # where the time goes (shown on failure, or with -s)
        print(f"{time.monotonic() - started:7.1f} s  {name}", flush=True)

    cli.env["DEPLOYER_SECRET_AUTH_SERVICE_JWT_SIGNING_KEY"] = SECRET
    applied = cli("apply", "staging", "--json", timeout=1500)
    assert applied.returncode == 0, applied.stderr[-3000:]
    built_on = applied.json()["images"]["build_parameters"]
    assert {s: p["status"] for s, p in built_on.items()} == dict.fromkeys(SERVICES, "set")
    phase("staging applied (delivery first)")
    prod = cli("apply", "prod", "--auto-approve", "--json", timeout=1500)
    assert prod.returncode == 0, prod.stderr[-3000:]
    phase("prod applied (us-east-1, us-west-2)")
    pushed = cli("build-image", "--push", "--json", timeout=1200)
    assert pushed.returncode == 0, pushed.stderr[-3000:]
    phase("build image pushed")

    delivery = cli("output", "delivery", "--json").json()["regions"][config.names.delivery.region]
    staging_urls = applied.json()["regions"][0]["outputs"]["service_endpoints"]
    prod_urls = {
        region: document["outputs"]["service_endpoints"]
        for document in prod.json()["regions"]
        for region in [document["region"]]
    }
    assert set(prod_urls) == {"us-east-1", "us-west-2"}
    pipeline = Pipeline(local, config)
    approvals = Topic(local, pipeline.account, delivery["approvals_topic_arn"], "e2e-approvals")
    notices = Topic(
        local, pipeline.account, delivery["notifications_topic_arn"], "e2e-pipeline-notices"
    )
    source = ROOT / "examples" / "monorepo"

    # -- release 1: through staging, then rejected -------------------------------------
    one = cli("release", "--source", str(tree(source, "release-1", tmp_path / "r1")),
              "--message", "release 1", "--wait", "--json", timeout=900)  # fmt: skip
    assert one.returncode == 0, one.stderr[-3000:]
    commit_one = one.json()["commit"]
    followed = one.json()["execution"]
    first = followed["execution_id"]
    assert followed["commit"]["id"] == commit_one and followed["approval"], followed
    assert pipeline.execution_of(commit_one) == first
    # It followed the execution stage by stage (progress on stderr) up to the approval.
    for stage in ("Build", "Test", "Staging"):
        assert stage in one.stderr, one.stderr[-3000:]
    phase("release 1 waits for approval")
    actions = pipeline.actions(first)
    builds = check_builds(local, pipeline, actions, commit_one)
    deployment_ids = {s: b["deployment_id"] for s, b in builds.items()}
    assert followed["deployments"] == deployment_ids
    assert actions["Test/IntegrationTests"]["status"] == "Succeeded"
    assert versions(staging_urls) == dict.fromkeys(SERVICES, "release-1")
    for region, urls in prod_urls.items():
        assert versions(urls) == dict.fromkeys(SERVICES, "dev"), region  # the bootstrap images
    # The approval request names the commit and each service's deployment ID.
    (request,) = [json.loads(m) for m in approvals.messages()]
    custom = request["approval"]["customData"]
    assert commit_one in custom, custom
    for service, deployment_id in deployment_ids.items():
        assert f"{service} {deployment_id}" in custom, custom
    assert first in request["approval"]["externalEntityLink"]
    rejected = cli("reject", "--comment", "not this one", "--json")
    assert rejected.returncode == 0, rejected.stderr[-3000:]
    decision = rejected.json()
    assert (decision["execution_id"], decision["result"]) == (first, "Rejected")
    assert decision["commit"]["id"] == commit_one and decision["deployments"] == deployment_ids
    assert pipeline.until_ended(first) == "Failed"
    approve = pipeline.actions(first)["Production/Approve"]
    assert approve["status"] == "Failed", approve
    for region, urls in prod_urls.items():
        assert versions(urls) == dict.fromkeys(SERVICES, "dev"), region
        codedeploy = local.client("codedeploy", config.environment("prod").account_id, region)
        assert codedeploy.list_deployments()["deployments"] == [], region
    nothing = cli("approve")
    assert nothing.returncode == 2 and "waits for approval" in nothing.stderr, nothing.stderr
    phase("release 1 rejected")

    # -- release 2: approved, production in both regions --------------------------------
    two = cli("release", "--source", str(tree(source, "release-2", tmp_path / "r2")),
              "--message", "release 2", "--wait", "--json", timeout=900)  # fmt: skip
    assert two.returncode == 0, two.stderr[-3000:]
    second = two.json()["execution"]["execution_id"]
    assert two.json()["execution"]["approval"], two.json()["execution"]
    assert versions(staging_urls) == dict.fromkeys(SERVICES, "release-2")
    phase("release 2 waits for approval")
    approved = cli("approve", "--comment", "ship it", "--wait", "--json", timeout=900)
    assert approved.returncode == 0, approved.stderr[-3000:] + pipeline.story(second)
    assert approved.json()["execution"]["status"] == "Succeeded"
    assert approved.json()["execution_id"] == second
    phase("release 2 in production")
    for region, urls in prod_urls.items():
        assert versions(urls) == dict.fromkeys(SERVICES, "release-2"), region
    assert versions(staging_urls) == dict.fromkeys(SERVICES, "release-2")

    # -- two commits while Build is held: the newer supersedes the older, and fails ------
    pipeline.api.disable_stage_transition(
        pipelineName=pipeline.name, stageName="Build", transitionType="Inbound",
        reason="e2e: two commits in quick succession",
    )  # fmt: skip
    three = tree(source, "release-3", tmp_path / "r3")
    older = cli("release", "--source", str(three), "--message", "release 3", "--json")
    assert older.returncode == 0, older.stderr[-3000:]
    superseded = older.json()["execution"]["execution_id"]
    test_file = three / "services" / "api-service" / "tests" / "test_api_service.py"
    test_file.write_text(
        test_file.read_text() + "\n\ndef test_a_deliberate_failure() -> None:\n"
        '    assert 1 + 1 == 3, "deliberately failing"\n'
    )
    newer = cli("release", "--source", str(three), "--message", "a failing test", "--json")
    assert newer.returncode == 0, newer.stderr[-3000:]
    failing = newer.json()["execution"]["execution_id"]
    wait_until(
        f"{superseded} superseded by {failing}",
        lambda: pipeline.status(superseded) == "Superseded",
        60,
        show=lambda: pipeline.story(superseded),
    )
    pipeline.api.enable_stage_transition(
        pipelineName=pipeline.name, stageName="Build", transitionType="Inbound"
    )
    assert pipeline.until_ended(failing) == "Failed"
    actions = pipeline.actions(failing)
    assert actions["Build/api-service"]["status"] == "Failed", pipeline.story(failing)
    assert not any(name.startswith(("Test/", "Staging/", "Production/")) for name in actions)
    assert versions(staging_urls) == dict.fromkeys(SERVICES, "release-2")
    wait_until(
        "the failure notification",
        lambda: any(failing in m and "FAILED" in m for m in notices.messages()),
        60,
        show=lambda: notices.seen,
    )
    phase("superseded, then stopped at Build")

    # -- a commit whose service fails its health check: rolled back in staging ------------
    four = tree(source, "release-4", tmp_path / "r4")
    module = four / "services" / "api-service" / SOURCES["api-service"]
    text = module.read_text()
    # A bug the unit tests cannot see: deployed (LOG_LEVEL comes from Parameter Store),
    # /health answers 503.
    broken = text.replace(
        'status = HEALTH_FAULT.get("status", HTTPStatus.OK)',
        'status = HEALTH_FAULT.get("status", HTTPStatus.SERVICE_UNAVAILABLE'
        ' if os.environ.get("LOG_LEVEL") else HTTPStatus.OK)',
    )
    assert broken != text
    module.write_text(broken)
    bad = cli("release", "--source", str(four), "--message", "unhealthy when deployed",
              "--wait", "--json", timeout=900)  # fmt: skip
    assert bad.returncode == 1, bad.stderr[-3000:]
    rolled = bad.json()["execution"]
    assert rolled["status"] == "Failed" and "Staging/api-service" in rolled["failure"], rolled
    actions = pipeline.actions(rolled["execution_id"])
    assert actions["Staging/api-service"]["status"] == "Failed"
    assert not any(name.startswith("Production/") for name in actions)
    staging_now = versions(staging_urls)
    assert staging_now["api-service"] == "release-2", staging_now  # rolled back
    for region, urls in prod_urls.items():
        assert versions(urls) == dict.fromkeys(SERVICES, "release-2"), region
    phase("an unhealthy release rolled back in staging")

    # -- a role with one statement removed: its action fails with AccessDenied ----------
    staging_account = config.environment("staging").account_id
    iam = local.client("iam", staging_account)
    role = applied.json()["regions"][0]["outputs"]["deploy_role_arn"].rsplit("/", 1)[-1]
    policy = iam.get_role_policy(RoleName=role, PolicyName="deploy")["PolicyDocument"]
    kept = [st for st in policy["Statement"] if st.get("Sid") != "TaskDefinitions"]
    assert len(kept) == len(policy["Statement"]) - 1, policy
    before = versions(staging_urls)
    iam.put_role_policy(
        RoleName=role, PolicyName="deploy", PolicyDocument=json.dumps({**policy, "Statement": kept})
    )
    try:
        denied = cli("release", "--source", str(tree(source, "release-5", tmp_path / "r5")),
                     "--message", "release 5", "--wait", "--json", timeout=900)  # fmt: skip
    finally:
        iam.put_role_policy(RoleName=role, PolicyName="deploy", PolicyDocument=json.dumps(policy))
    assert denied.returncode == 1, denied.stderr[-3000:]
    refused = denied.json()["execution"]
    assert refused["status"] == "Failed" and "Staging/" in refused["failure"], refused
    assert (
        f"assumed-role/{role}/" in refused["failure"]
        and "is not authorized to perform: ecs:RegisterTaskDefinition" in refused["failure"]
    ), refused["failure"]
    assert versions(staging_urls) == before
    assert iam.get_role_policy(RoleName=role, PolicyName="deploy")["PolicyDocument"] == policy
    phase("a deploy role without RegisterTaskDefinition: AccessDenied")


def check_builds(
    local: Local, pipeline: Pipeline, actions: dict[str, dict[str, Any]], commit: str
) -> dict[str, dict[str, Any]]:
    """The Build stage's three builds: they overlapped in time, ran their unit tests, and
    pushed each image under its deployment ID, replicated to us-west-2."""
    codebuild = local.client("codebuild", pipeline.account, pipeline.region)
    found: dict[str, dict[str, Any]] = {}
    for service in SERVICES:
        action = actions[f"Build/{service}"]
        assert action["status"] == "Succeeded", action
        build_id = action["output"]["executionResult"]["externalExecutionId"]
        (build,) = codebuild.batch_get_builds(ids=[build_id])["builds"]
        assert build["buildStatus"] == "SUCCEEDED" and build["resolvedSourceVersion"] == commit
        variables = action["output"]["outputVariables"]
        (report,) = build["reportArns"]
        cases = codebuild.describe_test_cases(reportArn=report)["testCases"]
        assert cases and {c["status"] for c in cases} == {"SUCCEEDED"}, service
        found[service] = {
            "deployment_id": variables["DEPLOYMENT_ID"],
            "start": build["startTime"],
            "end": build["endTime"],
        }
    assert max(b["start"] for b in found.values()) < min(b["end"] for b in found.values()), found
    repositories = pipeline.config.names.delivery.ecr_repository_names
    for region in ("us-east-1", "us-west-2"):
        ecr = local.client("ecr", pipeline.account, region)
        for service, build in found.items():
            tags = {
                tag
                for image in ecr.describe_images(repositoryName=repositories[service])[
                    "imageDetails"
                ]
                for tag in image.get("imageTags", [])
            }
            assert build["deployment_id"] in tags, (region, service, tags)
    return found
