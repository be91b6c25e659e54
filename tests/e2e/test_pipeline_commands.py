"""`deployer release --wait`, `pipeline status`, `approve` and `reject` through the real CLI.

One emulator (without its container runtime) for the module. Instead of applying the
delivery stack, the test creates in the delivery account, with boto3, what the commands
meet there: the monorepo's CodeCommit repository, the artifact bucket, the approvals topic,
the pipeline role and the pipeline with the delivery stack's name and the shape of
modules/pipeline/main.tf where it matters (Source/Source: CodeCommit, namespace
SourceVariables; Production/Approve: Manual, CustomData and link with variables), without
the stages that need containers (Build, Test, the deployments), and the stack's source
rule (a push starts the pipeline). The commands' results are checked through boto3.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from deployer.config import load
from tests.e2e.conftest import ROOT, DeployerCLI, Run, account_client

pytestmark = pytest.mark.e2e

CFG = load(ROOT)
NAMES = CFG.names.delivery
DELIVERY_ACCOUNT, REGION = NAMES.account_id, NAMES.region
PIPELINE = NAMES.pipeline_name
REPOSITORY = NAMES.repository_name
BRANCH = CFG.pipeline.branch
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def trust(principal: str | dict[str, str]) -> str:
    """A trust policy for a service (its name) or another principal ({"AWS": role ARN})."""
    named = principal if isinstance(principal, dict) else {"Service": principal}
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": named, "Action": "sts:AssumeRole"}],
        }
    )


def allow(iam: Any, role: str, grants: list[tuple[str | list[str], str]]) -> None:
    statements = [{"Effect": "Allow", "Action": a, "Resource": r} for a, r in grants]
    iam.put_role_policy(
        RoleName=role,
        PolicyName="pipeline",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )


def kind(category: str, provider: str) -> dict[str, str]:
    return {"category": category, "owner": "AWS", "provider": provider, "version": "1"}


def the_delivery_pipeline(client: Callable[[str], Any]) -> None:
    """What `deployer apply delivery` would make that the commands use (see the docstring)."""
    iam, codecommit, s3 = client("iam"), client("codecommit"), client("s3")
    sns, events, codepipeline = client("sns"), client("events"), client("codepipeline")
    repository_arn = codecommit.create_repository(repositoryName=REPOSITORY)["repositoryMetadata"][
        "Arn"
    ]
    bucket = NAMES.artifact_buckets[REGION]
    s3.create_bucket(Bucket=bucket)
    topic = sns.create_topic(Name=f"{NAMES.name_prefix}-approvals")["TopicArn"]
    # The service role and the Source stage's role, with modules/pipeline/iam.tf's policies
    # (the emulator holds the actions to them).
    role = iam.create_role(
        RoleName=PIPELINE, AssumeRolePolicyDocument=trust("codepipeline.amazonaws.com")
    )["Role"]["Arn"]
    assert role == NAMES.pipeline_role_arn
    source_role = iam.create_role(
        RoleName=f"{PIPELINE}-source", AssumeRolePolicyDocument=trust({"AWS": role})
    )["Role"]["Arn"]
    objects = f"arn:aws:s3:::{bucket}/*"
    allow(iam, PIPELINE, [
        ("sts:AssumeRole", source_role),
        (["s3:GetBucketVersioning", "s3:GetBucketLocation"], f"arn:aws:s3:::{bucket}"),
        (["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"], objects),
        ("sns:Publish", topic),
    ])  # fmt: skip
    allow(iam, f"{PIPELINE}-source", [
        (["codecommit:GetBranch", "codecommit:GetCommit", "codecommit:UploadArchive",
          "codecommit:GetUploadArchiveStatus", "codecommit:CancelUploadArchive"], repository_arn),
        ("s3:PutObject", objects),
    ])  # fmt: skip
    trigger = iam.create_role(
        RoleName=f"{PIPELINE}-trigger", AssumeRolePolicyDocument=trust("events.amazonaws.com")
    )["Role"]["Arn"]
    link = (
        f"https://{REGION}.console.aws.amazon.com/codesuite/codepipeline/pipelines/{PIPELINE}"
        "/executions/#{codepipeline.PipelineExecutionId}/timeline"
    )
    codepipeline.create_pipeline(
        pipeline={
            "name": PIPELINE,
            "roleArn": role,
            "pipelineType": "V2",
            "artifactStore": {"type": "S3", "location": bucket},
            "stages": [
                {
                    "name": "Source",
                    "actions": [
                        {
                            "name": "Source",
                            "actionTypeId": kind("Source", "CodeCommit"),
                            "runOrder": 1,
                            "namespace": "SourceVariables",
                            "roleArn": source_role,
                            "outputArtifacts": [{"name": "SourceOutput"}],
                            "configuration": {
                                "RepositoryName": REPOSITORY,
                                "BranchName": BRANCH,
                                "OutputArtifactFormat": "CODE_ZIP",
                                "PollForSourceChanges": "false",
                            },
                        }
                    ],
                },
                {
                    "name": "Production",
                    "actions": [
                        {
                            "name": "Approve",
                            "actionTypeId": kind("Approval", "Manual"),
                            "runOrder": 1,
                            "configuration": {
                                "NotificationArn": topic,
                                "CustomData": f"Promote {PIPELINE} to production? Commit "
                                f"#{{SourceVariables.CommitId}} on {BRANCH} passed staging.",
                                "ExternalEntityLink": link,
                            },
                        }
                    ],
                },
            ],
        }
    )
    rule = f"{PIPELINE}-trigger"
    events.put_rule(
        Name=rule,
        EventPattern=json.dumps(
            {
                "source": ["aws.codecommit"],
                "detail-type": ["CodeCommit Repository State Change"],
                "resources": [repository_arn],
                "detail": {
                    "event": ["referenceCreated", "referenceUpdated"],
                    "referenceType": ["branch"],
                    "referenceName": [BRANCH],
                },
            }
        ),
    )
    events.put_targets(
        Rule=rule,
        Targets=[
            {
                "Id": "pipeline",
                "Arn": f"arn:aws:codepipeline:{REGION}:{DELIVERY_ACCOUNT}:{PIPELINE}",
                "RoleArn": trigger,
            }
        ],
    )


def eventually(check: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def ok(run: Run, code: int = 0) -> Run:
    assert run.returncode == code, f"exit {run.returncode}\n{run.stdout}\n{run.stderr[-3000:]}"
    return run


def test_release_follow_approve_reject_and_bad_input(cli: DeployerCLI, tmp_path: Path) -> None:
    ok(cli("emulator", "start", "--no-runtime", timeout=120))
    endpoint = cli("emulator", "status", "--json").json()["endpoint"]

    def client(service: str) -> Any:
        return account_client(endpoint, DELIVERY_ACCOUNT, service, "e2e-pipeline-check")

    the_delivery_pipeline(client)
    codepipeline, codecommit = client("codepipeline"), client("codecommit")
    source = tmp_path / "monorepo"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "test-reports")
    shutil.copytree(ROOT / "examples" / "monorepo", source, ignore=skip)

    # -- nothing waits yet: approve is refused, and so is an unknown execution --------------
    nothing = ok(cli("approve"), 2)
    assert f"nothing waits for approval in {PIPELINE}" in nothing.stderr
    empty_status = ok(cli("pipeline", "status"), 2)
    assert f"{PIPELINE} has no execution yet" in empty_status.stderr

    # -- release --wait: the commit, its execution, each step, then the approval waits ------
    first = ok(cli("release", "--source", str(source), "--message", "first", "--wait"))
    commit = codecommit.get_branch(repositoryName=REPOSITORY, branchName=BRANCH)["branch"][
        "commitId"
    ]
    [summary] = codepipeline.list_pipeline_executions(pipelineName=PIPELINE)[
        "pipelineExecutionSummaries"
    ]
    execution = summary["pipelineExecutionId"]
    assert [r["revisionId"] for r in summary["sourceRevisions"]] == [commit]
    assert summary["trigger"]["triggerType"] == "CloudWatchEvent"
    assert f"commit {commit}" in first.stdout
    assert f"{PIPELINE} execution {execution}: InProgress" in first.stdout
    assert "waiting for approval at Production/Approve" in first.stdout
    assert f"Commit {commit} on {BRANCH} passed staging" in first.stdout  # CustomData, resolved
    assert "deployer approve" in first.stdout and "deployer reject" in first.stdout
    progress = first.stderr
    assert f"release: following {PIPELINE} execution {execution}" in progress
    for line in ("Source/Source: Succeeded - first", "Production: InProgress",
                 "Production/Approve: InProgress - waiting for approval"):  # fmt: skip
        assert line in progress, progress
    assert progress.index("Source/Source: Succeeded") < progress.index("Production/Approve")
    state = codepipeline.get_pipeline_state(name=PIPELINE)["stageStates"]
    approve_state = state[1]["actionStates"][0]["latestExecution"]
    assert approve_state["status"] == "InProgress" and approve_state["token"]

    # -- pipeline status: the same, as text and as one JSON document ------------------------
    shown = ok(cli("pipeline", "status"))
    assert f"{PIPELINE} execution {execution}: InProgress" in shown.stdout
    assert f"commit:       {commit}  first" in shown.stdout
    assert "trigger:      CloudWatchEvent (arn:aws:events:" in shown.stdout
    assert f"  Source/Source  https://{REGION}.console.aws.amazon.com/codesuite/codecommit" in (
        shown.stdout
    )  # the commit's page, as the source action links it
    document = ok(cli("pipeline", "status", "--json")).json()
    assert (document["execution_id"], document["status"]) == (execution, "InProgress")
    assert document["commit"] == {
        "id": commit,
        "message": "first",
        "url": document["commit"]["url"],
    }
    assert [(s["name"], s["status"]) for s in document["stages"]] == [
        ("Source", "Succeeded"),
        ("Production", "InProgress"),
    ]
    assert document["approval"]["stage"] == "Production"
    assert document["approval"]["link"].endswith(f"/executions/{execution}/timeline")
    assert document["deployments"] == {}  # no Build stage here

    # -- approve --wait: answered, then followed to the end ---------------------------------
    approved = ok(cli("approve", "--comment", "checked staging", "--wait"))
    assert f"approved Production/Approve of {PIPELINE} execution {execution}" in approved.stderr
    assert f"commit:  {commit}  first" in approved.stderr
    assert f"{PIPELINE} execution {execution}: Succeeded" in approved.stdout
    assert "Production/Approve: Succeeded - checked staging" in approved.stderr
    assert "Source/Source" not in approved.stderr  # only what changed after the approval
    done = codepipeline.get_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=execution)
    assert done["pipelineExecution"]["status"] == "Succeeded"
    [answer] = [
        d
        for d in codepipeline.list_action_executions(
            pipelineName=PIPELINE, filter={"pipelineExecutionId": execution}
        )["actionExecutionDetails"]
        if d["actionName"] == "Approve"
    ]
    assert answer["output"]["executionResult"]["externalExecutionSummary"] == "checked staging"

    # -- a second release, rejected with a comment -----------------------------------------
    readme = source / "README.md"
    readme.write_text(readme.read_text() + "\nA second release.\n")
    second = ok(cli("release", "--source", str(source), "-m", "second", "--wait", "--json"))
    doc = second.json()
    assert doc["changed"] is True and doc["parent"] == commit and doc["updated"] == ["README.md"]
    second_execution = doc["execution"]["execution_id"]
    assert second_execution != execution and doc["execution"]["followed_until"] == "approval"
    assert doc["execution"]["commit"]["id"] == doc["commit"]
    assert doc["execution"]["approval"]["execution_id"] == second_execution
    ok(cli("approve", "--execution", execution), 2)  # not the one waiting: refused
    rejected = ok(cli("reject", "--comment", "staging shows the old prices"))
    assert f"rejected Production/Approve of {PIPELINE} execution {second_execution}" in (
        rejected.stdout
    )
    assert f"commit:  {doc['commit']}  second" in rejected.stdout

    def ended() -> Any:
        found = codepipeline.get_pipeline_execution(
            pipelineName=PIPELINE, pipelineExecutionId=second_execution
        )["pipelineExecution"]
        return found if found["status"] != "InProgress" else None

    finished = eventually(ended)
    assert finished and finished["status"] == "Failed", finished
    assert "staging shows the old prices" in finished["statusSummary"]

    # -- nothing to commit: the tip's execution, which failed: exit 1, with or without --wait -
    told = ok(cli("release", "--source", str(source)), 1)
    assert f"{PIPELINE} execution {second_execution}: Failed: Production/Approve failed: " in (
        told.stdout
    )
    assert f"see it: deployer pipeline status --execution {second_execution}" in told.stdout
    again = ok(cli("release", "--source", str(source), "--wait"), 1)
    assert "nothing committed" in again.stdout
    assert f"{PIPELINE} execution {second_execution}: Failed" in again.stdout
    assert "Failed: Production/Approve failed: staging shows the old prices" in again.stdout
    older = ok(cli("pipeline", "status", "--execution", execution, "--json")).json()
    assert (older["status"], older["commit"]["id"]) == ("Succeeded", commit)

    # -- bad input changes nothing (exit 2) --------------------------------------------------
    executions_before = codepipeline.list_pipeline_executions(pipelineName=PIPELINE)[
        "pipelineExecutionSummaries"
    ]
    tip_before = codecommit.get_branch(repositoryName=REPOSITORY, branchName=BRANCH)["branch"]
    nothing_waits = ok(cli("approve"), 2)
    assert f"nothing waits for approval in {PIPELINE}" in nothing_waits.stderr
    assert f"the latest execution, {second_execution}, is Failed" in nothing_waits.stderr
    unknown = ok(cli("approve", "--execution", UNKNOWN, "--json"), 2)
    assert unknown.json()["error"].startswith(f"no execution {UNKNOWN} of {PIPELINE}")
    assert "PipelineExecutionNotFoundException" in unknown.json()["error"]
    ok(cli("reject", "--execution", UNKNOWN), 2)
    ok(cli("pipeline", "status", "--execution", UNKNOWN), 2)
    (tmp_path / "empty").mkdir()
    empty = ok(cli("release", "--source", str(tmp_path / "empty")), 2)
    assert "no files to commit" in empty.stderr
    missing = ok(cli("release", "--source", str(tmp_path / "missing")), 2)
    assert "no such folder" in missing.stderr
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "app.py").write_text("print('not a monorepo')\n")
    without = ok(cli("release", "--source", str(flat), "--wait"), 2)
    assert "no services/ folder" in without.stderr
    tip_after = codecommit.get_branch(repositoryName=REPOSITORY, branchName=BRANCH)["branch"]
    assert tip_after["commitId"] == tip_before["commitId"]
    executions_after = codepipeline.list_pipeline_executions(pipelineName=PIPELINE)[
        "pipelineExecutionSummaries"
    ]
    assert [e["pipelineExecutionId"] for e in executions_after] == [
        e["pipelineExecutionId"] for e in executions_before
    ]
    assert [e["status"] for e in executions_after] == ["Failed", "Succeeded"]
