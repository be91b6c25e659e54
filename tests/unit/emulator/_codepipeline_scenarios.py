"""The codepipeline engine's scenarios, all run by one separate interpreter.

``python -m tests.unit.emulator._codepipeline_scenarios RESULTS.json [NAME ...]`` applies
the fidelity patches (they must not leak into the pytest process's moto), then runs each
scenario on fresh moto backends inside one ``mock_aws()`` (as ``_codedeploy_scenarios``
does) and writes ``{name: {"out", "error", "seconds"}}`` to RESULTS.json;
``test_codepipeline_engine.py`` asserts on each scenario's ``out``.

A scenario lays out what the delivery stack gives a pipeline (a CodeCommit monorepo
with a commit, CodeBuild projects, an artifact bucket, an approval topic with a queue
subscribed) and runs the engine's rounds by hand on a fake clock. Builds are not run:
:meth:`Case.finish_builds` is the test double of the CodeBuild engine, completing the
pipeline's builds in moto's backend as that engine would (the source zip read from the
CODEPIPELINE location, the artifact zip written to the output location,
``exportedEnvironmentVariables``, ``buildStatus``, the phases ended).

Importing this module imports neither moto nor the patches: only :func:`main` does.
"""

from __future__ import annotations

import io
import json
import sys
import threading
import zipfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.unit.emulator._helpers import action as declare
from tests.unit.emulator._helpers import trust_policy

if TYPE_CHECKING:
    from deployer.emulator.engines.codepipeline import CodePipelineEngine

ACCOUNT = "123456789012"
REGION = "us-east-1"
START = 1_796_083_200.0
BUCKET = "delivery-artifacts"
PIPELINE = "acme-delivery-pipeline"
LEFT_OUT = frozenset({"iam_aws_managed_policies"})  # as _codedeploy_scenarios
ENVIRONMENT = {"MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}

#: The pipeline role's policy: what the actions without a role of their own call, each
#: statement named for what it lets the pipeline do (a scenario removes one by its Sid).
PIPELINE_STATEMENTS: dict[str, dict[str, Any]] = {
    "ReadRepository": {
        "Action": [
            "codecommit:GetBranch",
            "codecommit:GetCommit",
            "codecommit:UploadArchive",
            "codecommit:GetUploadArchiveStatus",
        ],
        "Resource": f"arn:aws:codecommit:{REGION}:{ACCOUNT}:acme-monorepo",
    },
    "ReadSourceObject": {"Action": "s3:GetObject", "Resource": "arn:aws:s3:::sources/*"},
    "Artifacts": {
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": [f"arn:aws:s3:::{BUCKET}/*", f"arn:aws:s3:::{BUCKET}-west/*"],
    },
    "RunBuilds": {
        "Action": ["codebuild:StartBuild", "codebuild:BatchGetBuilds"],
        "Resource": f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/acme-*",
    },
    "PublishApprovalRequest": {
        "Action": "sns:Publish",
        "Resource": f"arn:aws:sns:{REGION}:{ACCOUNT}:approvals",
    },
}

Out = dict[str, Any]
Scenario = Callable[["Case", Out], None]
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    def register(function: Scenario) -> Scenario:
        SCENARIOS[name] = function
        return function

    return register


def action(name: str, category: str, provider: str, **extra: Any) -> dict[str, Any]:
    """An action of the first ``runOrder`` unless ``extra`` says otherwise."""
    return declare(name, category, provider, **{"runOrder": 1, **extra})


def build_action(
    name: str, project: str, run_order: int = 1, output: bool = True, **extra: Any
) -> dict[str, Any]:
    token = name.replace("-", "_")
    found = action(
        name,
        "Build",
        "CodeBuild",
        runOrder=run_order,
        namespace=f"Build_{token}",
        inputArtifacts=[{"name": "SourceOutput"}],
        configuration={"ProjectName": project, **extra},
    )
    if output:
        found["outputArtifacts"] = [{"name": f"BuildOutput_{token}"}]
    return found


def definition(
    role: str, topic: str, *, test_config: dict[str, str] | None = None
) -> dict[str, Any]:
    """The delivery stack's shape: Source, Build (two services in parallel, then a check
    on what they exported), Production (a manual approval)."""
    return {
        "name": PIPELINE,
        "roleArn": role,
        "pipelineType": "V2",
        "executionMode": "SUPERSEDED",
        "artifactStore": {"type": "S3", "location": BUCKET},
        "stages": [
            {
                "name": "Source",
                "actions": [
                    action(
                        "Source",
                        "Source",
                        "CodeCommit",
                        namespace="SourceVariables",
                        outputArtifacts=[{"name": "SourceOutput"}],
                        configuration={
                            "RepositoryName": "acme-monorepo",
                            "BranchName": "main",
                            "OutputArtifactFormat": "CODE_ZIP",
                            "PollForSourceChanges": "false",
                        },
                    )
                ],
            },
            {
                "name": "Build",
                "actions": [
                    build_action("api-service", "acme-api"),
                    build_action("web-service", "acme-web"),
                    build_action(
                        "check",
                        "acme-check",
                        run_order=2,
                        output=False,
                        **(
                            test_config
                            or {
                                "EnvironmentVariables": json.dumps(
                                    [
                                        {
                                            "name": "DEPLOYMENT",
                                            "value": "#{Build_api_service.DEPLOYMENT_ID}",
                                            "type": "PLAINTEXT",
                                        },
                                        {
                                            "name": "EXECUTION",
                                            "value": "#{codepipeline.PipelineExecutionId}",
                                        },
                                    ]
                                )
                            }
                        ),
                    ),
                ],
            },
            {
                "name": "Production",
                "actions": [
                    action(
                        "Approve",
                        "Approval",
                        "Manual",
                        configuration={
                            "NotificationArn": topic,
                            "CustomData": "Commit #{SourceVariables.CommitId} deploys "
                            "#{Build_api_service.DEPLOYMENT_ID}.",
                            "ExternalEntityLink": "https://console/executions/#{codepipeline.PipelineExecutionId}",
                        },
                    )
                ],
            },
        ],
    }


class Case:
    """One scenario's world on fresh backends, and an engine on a fake clock."""

    def __init__(self, clients: dict[str, Any]) -> None:
        from deployer.emulator.engines.codepipeline import CodePipelineEngine
        from deployer.emulator.patches import codebuild_builds, codepipeline_executions

        self.clients = clients
        self.clock = START
        codepipeline_executions.use_clock(lambda: self.clock)
        codebuild_builds.use_clock(lambda: self.clock)
        self.cp = self.client("codepipeline")
        if self.cp.list_pipelines()["pipelines"]:
            raise RuntimeError("moto state leaked from an earlier scenario")
        iam, self.s3, self.cb = self.client("iam"), self.client("s3"), self.client("codebuild")
        self.role = iam.create_role(
            RoleName="pipeline",
            AssumeRolePolicyDocument=trust_policy(
                "codepipeline.amazonaws.com", "codebuild.amazonaws.com"
            ),
        )["Role"]["Arn"]
        self.grant("pipeline", "pipeline", PIPELINE_STATEMENTS)
        self.s3.create_bucket(Bucket=BUCKET)
        cc = self.client("codecommit")
        cc.create_repository(repositoryName="acme-monorepo")
        self.commit = cc.create_commit(
            repositoryName="acme-monorepo",
            branchName="main",
            commitMessage="services: v2",
            authorName="dev",
            email="dev@example.com",
            putFiles=[
                {"filePath": "services/api/VERSION", "fileContent": b"2\n"},
                {
                    "filePath": "bin/build.sh",
                    "fileContent": b"#!/bin/sh\n",
                    "fileMode": "EXECUTABLE",
                },
            ],
        )["commitId"]
        for project in ("acme-api", "acme-web", "acme-check"):
            self.cb.create_project(
                name=project,
                source={"type": "CODEPIPELINE"},
                artifacts={"type": "CODEPIPELINE"},
                serviceRole=self.role,
                environment={
                    "type": "LINUX_CONTAINER",
                    "image": "builder:1",
                    "computeType": "BUILD_GENERAL1_SMALL",
                },
            )
        sns, sqs = self.client("sns"), self.client("sqs")
        self.topic = sns.create_topic(Name="approvals")["TopicArn"]
        self.queue = sqs.create_queue(QueueName="approvals")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(
            TopicArn=self.topic,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        self.events_queue = sqs.create_queue(QueueName="pipeline-events")["QueueUrl"]
        events_arn = sqs.get_queue_attributes(
            QueueUrl=self.events_queue, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        events = self.client("events")
        events.put_rule(Name="cp", EventPattern=json.dumps({"source": ["aws.codepipeline"]}))
        events.put_targets(Rule="cp", Targets=[{"Id": "q", "Arn": events_arn}])
        self.engine: CodePipelineEngine = CodePipelineEngine(lock=threading.RLock())
        #: project -> (status, exported variables) the test double ends its builds with
        self.outcomes: dict[str, tuple[str, dict[str, str]]] = {
            "acme-api": ("SUCCEEDED", {"DEPLOYMENT_ID": "d-API123"})
        }
        #: every build the double finished: (project, its request as the engine gave it)
        self.finished: list[dict[str, Any]] = []

    def grant(self, role: str, name: str, statements: dict[str, dict[str, Any]],
              iam: Any = None) -> None:  # fmt: skip
        """The inline policy ``name`` of ``role``: ``statements`` by Sid, each an Allow."""
        document = {
            "Version": "2012-10-17",
            "Statement": [{"Sid": k, "Effect": "Allow", **v} for k, v in statements.items()],
        }
        (iam or self.client("iam")).put_role_policy(
            RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document)
        )

    def client(self, service: str) -> Any:
        import boto3

        if service not in self.clients:
            make: Callable[..., Any] = boto3.client
            self.clients[service] = make(service, region_name=REGION)
        return self.clients[service]

    def create(self, **kwargs: Any) -> None:
        self.cp.create_pipeline(pipeline=definition(self.role, self.topic, **kwargs))

    def start(self) -> str:
        return str(self.cp.start_pipeline_execution(name=PIPELINE)["pipelineExecutionId"])

    def rounds(self, n: int = 1, step: float = 1.0) -> None:
        for _ in range(n):
            self.clock += step
            self.engine.run(now=self.clock)

    def status(self, execution: str) -> str:
        found = self.cp.get_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=execution)
        return str(found["pipelineExecution"]["status"])

    def stages(self) -> dict[str, Any]:
        state = self.cp.get_pipeline_state(name=PIPELINE)
        return {s["stageName"]: s for s in state["stageStates"]}

    def actions(self, execution: str) -> dict[str, dict[str, Any]]:
        found = self.cp.list_action_executions(
            pipelineName=PIPELINE, filter={"pipelineExecutionId": execution}
        )["actionExecutionDetails"]
        return {d["actionName"]: d for d in found}

    def running_builds(self) -> list[dict[str, Any]]:
        from moto.codebuild.models import codebuild_backends

        backend = codebuild_backends[ACCOUNT][REGION]
        return [
            b
            for history in backend.build_metadata_history.values()
            for b in history
            if b["buildStatus"] == "IN_PROGRESS"
        ]

    def finish_builds(self, *projects: str) -> list[str]:
        """The CodeBuild engine's part, for the running builds of ``projects`` (all if
        none named): the source read, the artifact written, the build ended with the
        project's outcome (SUCCEEDED, no variables, unless ``outcomes`` says)."""
        from moto.s3.models import s3_backends

        from deployer.emulator.patches.codebuild_builds import CONTROL, finish

        done = []
        s3 = s3_backends[ACCOUNT]["aws"]
        for build in self.running_builds():
            if projects and build["projectName"] not in projects:
                continue
            CONTROL[build["arn"]]["taken"] = True
            bucket, _, key = build["source"]["location"].split(":::", 1)[1].partition("/")
            stored = s3.get_object(bucket, key)
            assert stored is not None, f"no source artifact at {bucket}/{key}"
            source = zipfile.ZipFile(io.BytesIO(stored.value))
            status, exported = self.outcomes.get(build["projectName"], ("SUCCEEDED", {}))
            location = (build.get("artifacts") or {}).get("location") or ""
            if status == "SUCCEEDED" and location:
                out_bucket, _, out_key = location.split(":::", 1)[1].partition("/")
                buffer = io.BytesIO()
                with zipfile.ZipFile(buffer, "w") as archive:
                    archive.writestr("taskdef.json", json.dumps({"built": build["projectName"]}))
                s3.put_object(out_bucket, out_key, buffer.getvalue())
            build["exportedEnvironmentVariables"] = [
                {"name": k, "value": v} for k, v in exported.items()
            ]
            finish(build, status, self.clock)
            self.finished.append(
                {
                    "project": build["projectName"],
                    "source": sorted(source.namelist()),
                    "sourceVersion": build.get("sourceVersion"),
                    "artifacts": location,
                    "env": {
                        v["name"]: v["value"] for v in build["environment"]["environmentVariables"]
                    },
                    "initiator": build["initiator"],
                    "type": build["source"]["type"],
                }
            )
            done.append(build["projectName"])
        return sorted(done)

    def events(self) -> list[dict[str, Any]]:
        """The CodePipeline events delivered since the last call, whole."""
        sqs = self.client("sqs")
        found: list[dict[str, Any]] = []
        while True:
            got = sqs.receive_message(QueueUrl=self.events_queue, MaxNumberOfMessages=10)
            if not got.get("Messages"):
                return found
            for m in got["Messages"]:
                found.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=self.events_queue, ReceiptHandle=m["ReceiptHandle"])

    def states(self) -> list[str]:
        """The events since the last call, each as ``level stage/action STATE``."""
        found = []
        for event in self.events():
            detail = event["detail"]
            level = event["detail-type"].split()[1].lower()
            where = "/".join(detail[k] for k in ("stage", "action") if k in detail)
            found.append(" ".join(p for p in (level, where, detail["state"]) if p))
        return found

    def messages(self) -> list[dict[str, Any]]:
        sqs = self.client("sqs")
        found = sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in found.get("Messages", [])]

    def token(self) -> str:
        latest = self.stages()["Production"]["actionStates"][0]["latestExecution"]
        return str(latest["token"])

    def approve(self, status: str = "Approved", summary: str = "ok") -> Any:
        return self.cp.put_approval_result(
            pipelineName=PIPELINE,
            stageName="Production",
            actionName="Approve",
            result={"summary": summary, "status": status},
            token=self.token(),
        )

    def to_approval(self, execution: str) -> None:
        """Rounds and builds until the execution waits for its approval."""
        for _ in range(10):
            self.rounds()
            self.finish_builds()
            state = self.stages()["Production"].get("latestExecution") or {}
            if state.get("pipelineExecutionId") == execution:
                return
        raise AssertionError(f"{execution} never reached the approval: {self.status(execution)}")


def error(call: Callable[[], Any]) -> list[str]:
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as e:
        return [e.response["Error"]["Code"], e.response["Error"]["Message"]]
    return ["no error"]


# -- the scenarios -------------------------------------------------------------------------------


@scenario("succeeded")
def succeeded(c: Case, out: Out) -> None:
    c.create()
    c.outcomes["acme-api"] = ("SUCCEEDED", {"DEPLOYMENT_ID": "d-API123"})
    c.outcomes["acme-web"] = ("SUCCEEDED", {"DEPLOYMENT_ID": "d-WEB456"})
    e = c.start()
    out["started"] = c.status(e)
    c.rounds()
    out["after_round_1"] = {
        n: s.get("latestExecution", {}).get("status") for n, s in c.stages().items()
    }
    out["running_together"] = sorted(b["projectName"] for b in c.running_builds())
    c.finish_builds("acme-api")
    c.rounds()
    out["check_before_web"] = sorted(b["projectName"] for b in c.running_builds())
    c.finish_builds("acme-web")
    c.rounds()
    out["check_running"] = sorted(b["projectName"] for b in c.running_builds())
    c.finish_builds()
    c.rounds()
    out["waiting_approval"] = [
        c.status(e),
        c.stages()["Production"]["actionStates"][0]["latestExecution"]["status"],
    ]
    out["messages"] = c.messages()
    out["token"] = c.token()
    out["approved"] = sorted(c.approve())
    out["twice"] = error(c.approve)
    c.rounds()
    out["final"] = c.status(e)
    out["builds"] = c.finished
    events = c.events()
    out["states"] = [
        " ".join(
            p
            for p in (
                e["detail-type"].split()[1].lower(),
                "/".join(e["detail"][k] for k in ("stage", "action") if k in e["detail"]),
                e["detail"]["state"],
            )
            if p
        )
        for e in events
    ]
    out["first_event"] = events[0]
    out["source_succeeded"] = next(
        e
        for e in events
        if e["detail"].get("action") == "Source" and e["detail"]["state"] == "SUCCEEDED"
    )
    out["commit"] = c.commit
    out["execution"] = e
    out["actions"] = c.actions(e)
    out["get"] = c.cp.get_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=e)[
        "pipelineExecution"
    ]
    out["stage_states"] = {
        n: [
            s["latestExecution"]["status"],
            [a["latestExecution"]["status"] for a in s["actionStates"]],
        ]
        for n, s in c.stages().items()
    }
    keys = c.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    out["objects"] = sorted(o["Key"] for o in keys)
    source_key = out["actions"]["Source"]["output"]["outputArtifacts"][0]["s3location"]["key"]
    body = c.s3.get_object(Bucket=BUCKET, Key=source_key)["Body"].read()
    archive = zipfile.ZipFile(io.BytesIO(body))
    out["source_zip"] = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
    head = c.s3.head_object(Bucket=BUCKET, Key=source_key)
    out["source_sse"] = [head.get("ServerSideEncryption"), head.get("SSEKMSKeyId")]
    out["aws_s3_key"] = c.client("kms").describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["Arn"]
    out["listed"] = [
        s["status"]
        for s in c.cp.list_pipeline_executions(pipelineName=PIPELINE)["pipelineExecutionSummaries"]
    ]


@scenario("build_failed")
def build_failed(c: Case, out: Out) -> None:
    c.create()
    c.outcomes["acme-api"] = ("FAILED", {})
    e = c.start()
    c.rounds()
    c.finish_builds("acme-api")
    c.rounds()
    out["while_web_runs"] = [c.status(e), c.stages()["Build"]["latestExecution"]["status"]]
    c.finish_builds()
    c.rounds()
    out["final"] = [
        c.status(e),
        c.cp.get_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=e)[
            "pipelineExecution"
        ].get("statusSummary"),
    ]
    actions = c.actions(e)
    out["actions"] = {n: d["status"] for n, d in actions.items()}
    out["api_result"] = actions["api-service"]["output"]["executionResult"]
    out["stages"] = {
        n: (s.get("latestExecution") or {}).get("status") for n, s in c.stages().items()
    }
    out["checked"] = [b["project"] for b in c.finished if b["project"] == "acme-check"]
    out["states"] = c.states()
    out["stop_failed"] = error(
        lambda: c.cp.stop_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=e)
    )


@scenario("superseded")
def superseded(c: Case, out: Out) -> None:
    c.create()
    first = c.start()
    c.rounds(2)  # first: Source, then its builds run
    second = c.start()
    c.rounds(2)  # second: Source done, waits to enter Build
    out["second_waiting"] = [c.status(second), c.stages()["Build"].get("inboundExecution")]
    third = c.start()
    c.rounds(2)
    out["after_third"] = [c.status(first), c.status(second), c.status(third)]
    out["inbound"] = c.stages()["Build"]["inboundExecution"]["pipelineExecutionId"] == third
    c.finish_builds()
    c.rounds()
    out["builds_of"] = sorted({b["pipelineExecution"] for b in _build_executions(c)})
    c.finish_builds()
    c.rounds()
    out["builds_then"] = sorted({b["pipelineExecution"] for b in _build_executions(c)})
    out["first_then"] = [c.status(first), c.stages()["Production"]["latestExecution"]]
    out["ids"] = {"first": first, "second": second, "third": third}
    out["listed"] = [
        (s["pipelineExecutionId"], s["status"])
        for s in c.cp.list_pipeline_executions(pipelineName=PIPELINE)["pipelineExecutionSummaries"]
    ]
    out["superseded_events"] = [
        e["detail"]["execution-id"] for e in c.events() if e["detail"]["state"] == "SUPERSEDED"
    ]
    out["stop_superseded"] = error(
        lambda: c.cp.stop_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=second)
    )


@scenario("queued")
def queued(c: Case, out: Out) -> None:
    pipeline = definition(c.role, c.topic)
    pipeline["executionMode"] = "QUEUED"
    c.cp.create_pipeline(pipeline=pipeline)
    first = c.start()
    c.rounds(2)
    second = c.start()
    c.rounds(2)
    third = c.start()
    c.rounds(2)
    out["statuses"] = [c.status(first), c.status(second), c.status(third)]
    out["inbound"] = [
        i["pipelineExecutionId"] for i in c.stages()["Build"].get("inboundExecutions", [])
    ]
    out["builds_of"] = sorted({b["pipelineExecution"] for b in _build_executions(c)})
    c.finish_builds()
    c.rounds()
    c.finish_builds()
    c.rounds()
    out["builds_then"] = sorted({b["pipelineExecution"] for b in _build_executions(c)})
    out["ids"] = {"first": first, "second": second, "third": third}
    out["mode"] = c.cp.list_pipeline_executions(pipelineName=PIPELINE)[
        "pipelineExecutionSummaries"
    ][0]["executionMode"]


@scenario("parallel")
def parallel(c: Case, out: Out) -> None:
    pipeline = definition(c.role, c.topic)
    pipeline["executionMode"] = "PARALLEL"
    c.cp.create_pipeline(pipeline=pipeline)
    first = c.start()
    second = c.start()
    c.rounds(2)
    out["statuses"] = [c.status(first), c.status(second)]
    out["builds"] = len(c.running_builds())
    out["builds_of"] = sorted({b["pipelineExecution"] for b in _build_executions(c)})
    out["ids"] = sorted([first, second])


def _build_executions(c: Case) -> list[dict[str, str]]:
    """Which execution each running build is of (by the check's EXECUTION variable or the
    action executions' external ids)."""
    found = []
    for summary in c.cp.list_pipeline_executions(pipelineName=PIPELINE)[
        "pipelineExecutionSummaries"
    ]:
        e = summary["pipelineExecutionId"]
        for detail in c.actions(e).values():
            if detail["stageName"] == "Build" and detail["status"] == "InProgress":
                found.append({"pipelineExecution": e, "action": detail["actionName"]})
    return found


@scenario("stop_and_wait")
def stop_and_wait(c: Case, out: Out) -> None:
    c.create()
    e = c.start()
    c.rounds(2)
    out["stop"] = (
        c.cp.stop_pipeline_execution(
            pipelineName=PIPELINE, pipelineExecutionId=e, reason="hold on"
        )["pipelineExecutionId"]
        == e
    )
    out["stopping"] = [c.status(e), c.stages()["Build"]["latestExecution"]["status"]]
    out["again"] = error(
        lambda: c.cp.stop_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=e)
    )
    c.rounds()
    out["still_stopping"] = c.status(e)
    c.finish_builds()
    c.rounds()
    out["final"] = c.status(e)
    out["actions"] = {n: d["status"] for n, d in c.actions(e).items()}
    out["build_stage"] = c.stages()["Build"]["latestExecution"]["status"]
    out["states"] = [s for s in c.states() if "STOP" in s]
    out["summary"] = c.cp.list_pipeline_executions(pipelineName=PIPELINE)[
        "pipelineExecutionSummaries"
    ][0].get("stopTrigger")


@scenario("abandon")
def abandon(c: Case, out: Out) -> None:
    c.create()
    e = c.start()
    c.rounds(2)
    c.cp.stop_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=e, abandon=True)
    out["at_once"] = c.status(e)
    out["states"] = [s for s in c.states() if "STOP" in s or "ABANDON" in s]
    out["actions"] = {n: d["status"] for n, d in c.actions(e).items()}
    c.finish_builds()
    c.rounds(2)
    out["after"] = [c.status(e), {n: d["status"] for n, d in c.actions(e).items()}]
    out["build_stage"] = c.stages()["Build"]["latestExecution"]["status"]
    out["again"] = error(
        lambda: c.cp.stop_pipeline_execution(
            pipelineName=PIPELINE, pipelineExecutionId=e, abandon=True
        )
    )


@scenario("disabled_transition")
def disabled_transition(c: Case, out: Out) -> None:
    c.create()
    c.cp.disable_stage_transition(
        pipelineName=PIPELINE, stageName="Build", transitionType="Inbound", reason="freeze"
    )
    e = c.start()
    c.rounds(3)
    build = c.stages()["Build"]
    out["waiting"] = [
        c.status(e),
        build.get("inboundExecution", {}).get("pipelineExecutionId") == e,
        build["inboundTransitionState"]["enabled"],
        build["inboundTransitionState"].get("disabledReason"),
        "latestExecution" in build,
        len(c.running_builds()),
    ]
    out["unknown_stage"] = error(
        lambda: c.cp.enable_stage_transition(
            pipelineName=PIPELINE, stageName="Nope", transitionType="Inbound"
        )
    )
    c.cp.enable_stage_transition(pipelineName=PIPELINE, stageName="Build", transitionType="Inbound")
    c.rounds()
    out["entered"] = [
        c.stages()["Build"]["latestExecution"]["status"],
        sorted(b["projectName"] for b in c.running_builds()),
    ]


def _approval(verdict: str, c: Case, out: Out) -> None:
    c.create()
    e = c.start()
    c.to_approval(e)
    out["wrong_token"] = error(
        lambda: c.cp.put_approval_result(
            pipelineName=PIPELINE,
            stageName="Production",
            actionName="Approve",
            result={"summary": "x", "status": "Approved"},
            token="not-the-token",
        )
    )
    token = c.token()
    if verdict == "timeout":
        c.rounds(1, step=7 * 24 * 3600 - 60)
        out["before"] = c.status(e)
        c.rounds(1, step=120)
    else:
        c.approve(verdict, "not this one")
        c.rounds()
    out["final"] = c.status(e)
    latest = c.stages()["Production"]["actionStates"][0]["latestExecution"]
    out["action"] = [latest["status"], latest.get("summary"), "token" in latest]
    out["late"] = error(
        lambda: c.cp.put_approval_result(
            pipelineName=PIPELINE,
            stageName="Production",
            actionName="Approve",
            result={"summary": "x", "status": "Approved"},
            token=token,
        )
    )


SCENARIOS["approval_rejected"] = lambda c, out: _approval("Rejected", c, out)
SCENARIOS["approval_timed_out"] = lambda c, out: _approval("timeout", c, out)


@scenario("unresolvable_variable")
def unresolvable_variable(c: Case, out: Out) -> None:
    c.create(
        test_config={
            "EnvironmentVariables": json.dumps(
                [{"name": "X", "value": "#{Build_nothing.DEPLOYMENT_ID}"}]
            )
        }
    )
    e = c.start()
    c.rounds()
    c.finish_builds()
    c.rounds()
    check = c.actions(e)["check"]
    out["check"] = [check["status"], check["output"]["executionResult"]]
    out["final"] = c.status(e)
    out["check_built"] = [b for b in c.finished if b["project"] == "acme-check"]


@scenario("s3_source")
def s3_source(c: Case, out: Out) -> None:
    c.s3.create_bucket(Bucket="sources")
    c.s3.put_bucket_versioning(Bucket="sources", VersioningConfiguration={"Status": "Enabled"})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("services/api/VERSION", "3\n")
    put = c.s3.put_object(Bucket="sources", Key="monorepo.zip", Body=buffer.getvalue())
    pipeline = definition(c.role, c.topic)
    pipeline["stages"][0]["actions"][0] = action(
        "Source",
        "Source",
        "S3",
        namespace="SourceVariables",
        outputArtifacts=[{"name": "SourceOutput"}],
        configuration={
            "S3Bucket": "sources",
            "S3ObjectKey": "monorepo.zip",
            "PollForSourceChanges": "true",
        },
    )
    pipeline["stages"] = pipeline["stages"][:2]
    c.cp.create_pipeline(pipeline=pipeline)
    e = c.start()
    c.rounds()
    source = c.actions(e)["Source"]
    out["version"] = put["VersionId"]
    out["etag"] = put["ETag"].strip('"')
    out["variables"] = source["output"]["outputVariables"]
    key = source["output"]["outputArtifacts"][0]["s3location"]["key"]
    out["same_zip"] = c.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == buffer.getvalue()
    out["revisions"] = [
        r["revisionId"]
        for r in c.cp.get_pipeline_execution(pipelineName=PIPELINE, pipelineExecutionId=e)[
            "pipelineExecution"
        ]["artifactRevisions"]
    ]
    c.finish_builds()
    out["source_version"] = sorted({b["sourceVersion"] for b in c.finished})
    c.rounds()
    c.finish_builds()
    c.rounds()
    out["final"] = c.status(e)
    c.s3.delete_object(Bucket="sources", Key="monorepo.zip")
    again = c.start()
    c.rounds()
    out["missing"] = [c.status(again), c.actions(again)["Source"]["status"]]


@scenario("approval_without_publish")
def approval_without_publish(c: Case, out: Out) -> None:
    """The pipeline's role without its sns:Publish statement: the approval fails."""
    kept = {k: v for k, v in PIPELINE_STATEMENTS.items() if k != "PublishApprovalRequest"}
    c.grant("pipeline", "pipeline", kept)
    c.create()
    e = c.start()
    for _ in range(4):
        c.rounds()
        c.finish_builds()
    approve = c.actions(e)["Approve"]
    out["approve"] = [approve["status"], approve["output"]["executionResult"].get("errorDetails")]
    out["final"] = c.status(e)
    out["messages"] = c.messages()
    out["execution"] = e


@scenario("errors")
def errors(c: Case, out: Out) -> None:
    c.create()
    out["state"] = error(lambda: c.cp.get_pipeline_state(name="nope"))
    out["execution"] = error(
        lambda: c.cp.get_pipeline_execution(
            pipelineName=PIPELINE, pipelineExecutionId="00000000-0000-0000-0000-000000000000"
        )
    )
    out["actions"] = error(lambda: c.cp.list_action_executions(pipelineName="nope"))
    out["approval_action"] = error(
        lambda: c.cp.put_approval_result(
            pipelineName=PIPELINE,
            stageName="Production",
            actionName="Nope",
            result={"summary": "x", "status": "Approved"},
            token="t",
        )
    )
    # a pipeline nobody starts: GetPipeline and the state answer, no execution
    out["idle_state"] = {n: sorted(s) for n, s in c.stages().items()}
    out["get"] = c.cp.get_pipeline(name=PIPELINE)["pipeline"]["stages"][1]["actions"][2]["runOrder"]


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
