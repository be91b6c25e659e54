"""CodePipeline runs executions: stage after stage, action groups in ``runOrder``.

Reproduces, after the CodePipeline user guide ("How pipeline executions work",
"Superseded executions", "Stopped executions", "Variables reference", "CodePipeline
action structure reference" of each provider below, "JSON data format for manual
approval notifications") and the API reference, for the executions
``patches/codepipeline_executions.py`` records at StartPipelineExecution:

* stages in order, one execution at a time in a stage but in PARALLEL mode (a stage
  is locked while an execution runs through it); within a stage, the actions grouped
  by ``runOrder``, a group's actions started together, the next group once all of
  them succeeded; a failed action lets the other actions in progress of its group
  end, then fails its stage and the execution (``Failed``, statusSummary naming the
  action);
* execution modes ("How pipeline executions work"): SUPERSEDED (the default), an
  execution that finished a stage waits to enter the next one while another
  execution runs there or while its inbound transition is disabled, and a newer
  execution arriving to wait at the same place replaces it (``Superseded``);
  QUEUED, the waiting executions enter one by one in the order they started;
  PARALLEL, no stage is locked (a disabled transition still holds executions);
* StopPipelineExecution: stop and wait lets the actions in progress end and starts
  no new one (``Stopping``, then the stage and the execution ``Stopped``); abandon is
  done by the patch at the request;
* artifacts: each output artifact a zip in the artifact store of the action's region
  (``artifactStores[region]``, else ``artifactStore``), key
  ``<pipeline name, 20 characters>/<artifact name, 10 characters>/<7 random>``, its
  S3 location in the action's ListActionExecutions input/output; input artifacts by
  name from earlier actions of the execution; each zip stored SSE-KMS ("Configure
  server-side encryption for artifacts stored in Amazon S3 for CodePipeline") with the
  store's ``encryptionKey``, else the account's AWS managed ``aws/s3`` key (the object
  reports ServerSideEncryption ``aws:kms`` and the key's ARN); a key that does not
  exist, is disabled or pending deletion fails the action writing or reading with it
  (KMS's NotFoundException, DisabledException, KMSInvalidStateException words);
* variables: ``#{codepipeline.PipelineExecutionId}``, ``#{variables.<name>}``
  (pipeline-level) and ``#{<Namespace>.<Variable>}`` of an earlier action's namespace
  are resolved in the action's configuration before it runs (the resolved one in
  ``resolvedConfiguration``); one that does not resolve fails the action;
* action providers: Source/CodeCommit (the branch tip, read with
  ``codecommit_commits.read_tree``; a CODE_ZIP of its files; output variables
  AuthorDate, BranchName, CommitId, CommitMessage, CommitterDate, RepositoryName),
  Source/S3 (the object's current version copied as the artifact; variables ETag,
  VersionId), Build/CodeBuild (StartBuild of ``ProjectName`` with a CODEPIPELINE
  source at the primary input artifact (``PrimarySource``, else the first), the
  source revision as ``sourceVersion``, the output artifact's location as CODEPIPELINE
  artifacts, ``EnvironmentVariables`` as overrides; the action waits for the build,
  fails with it ("Build terminated with state: <status>") and outputs the build's
  ``exportedEnvironmentVariables``), Approval/Manual (publishes the documented JSON to
  ``NotificationArn``'s topic with CustomData and ExternalEntityLink, waits for
  PutApprovalResult with its token; Rejected fails it; after 7 days it fails),
  Deploy/CodeDeployToECS ("Amazon ECS and CodeDeploy blue/green deploy action
  reference"): the task definition template (TaskDefinitionTemplateArtifact and
  ...Path, default ``taskdef.json``) read from the input artifact's zip, each
  ``<Image<n>ContainerName>`` placeholder (n = 1..4, with Image<n>ArtifactName) replaced
  in its string values by the ``ImageURI`` of that artifact's ``imageDetail.json``
  (so a placeholder JSON-escaped as ``\\u003c...\\u003e`` is replaced too), the result
  registered (RegisterTaskDefinition's fields) in the action's account and region, its
  ARN put where the AppSpec template (AppSpecTemplateArtifact and ...Path, default
  ``appspec.yaml``) says ``<TASK_DEFINITION>``, then CreateDeployment of ApplicationName/
  DeploymentGroupName with that AppSpec as an AppSpecContent revision (refused while
  the group has an active deployment, AWS's ``d-`` id, InProgress at once, as
  ``patches/codedeploy_ecs_deployments.py`` does); the action waits for the deployment
  and succeeds or fails with it (externalExecutionId the deployment id, the URL its
  CodeDeploy console page);
* action roles ("Pipeline structure reference", roleArn): an action with a ``roleArn``
  other than the pipeline's works in that role's account's backends, once the role
  exists there and its trust policy has an Allow statement for ``sts:AssumeRole``
  whose AWS principal is the pipeline's role ARN, its account ID or root ARN, or
  ``*`` (and no such Deny) and the pipeline role's identity policies allow it
  sts:AssumeRole on the role; the role is then assumed through moto's STS as the
  pipeline's execution session; otherwise the action fails with PermissionError
  ("CodePipeline is not authorized to perform AssumeRole on role <arn>");
* least privilege ("CodePipeline service role" policy and permissions, "IAM
  permissions for each action"): every call an action makes is authorized first, as
  its role's session (the action's ``roleArn`` once assumed, else the pipeline's role;
  session name the execution id), by ``deployer.emulator.authz`` (identity policies:
  inline and attached managed, Action/Resource/Condition, explicit Deny first): Source/
  CodeCommit codecommit:GetBranch, GetCommit, UploadArchive, GetUploadArchiveStatus on
  the repository; Source/S3 s3:GetObject on the object (kms:Decrypt when it is
  SSE-KMS); Build/CodeBuild codebuild:StartBuild, then BatchGetBuilds at each poll, on
  the project; Approval/Manual sns:Publish on the topic; Deploy/CodeDeployToECS
  s3:GetObject and kms:Decrypt on its input artifacts, ecs:RegisterTaskDefinition
  (``*``), iam:PassRole of the task definition's taskRoleArn and executionRoleArn
  (``iam:PassedToService`` ecs-tasks.amazonaws.com), codedeploy:
  RegisterApplicationRevision and GetApplicationRevision on the application,
  CreateDeployment on the deployment group, GetDeploymentConfig on the group's
  configuration, GetDeployment at each poll; every output artifact s3:PutObject and
  kms:GenerateDataKey; the pipeline's role for CodePipeline's own part
  (sts:AssumeRole of action roles, the copies of artifacts to another region's store:
  s3:GetObject, kms:Decrypt, s3:PutObject, kms:GenerateDataKey). KMS calls carry
  ``kms:ResourceAliases``, ``kms:ViaService`` (``s3.<region>.amazonaws.com``) and
  ``kms:CallerAccount``; the AWS managed ``aws/s3`` key is not checked against
  identity policies (its key policy lets the account's principals use it through S3).
  A refused call fails the action with PermissionError and AWS's AccessDenied message
  ("User: arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION is not authorized to perform:
  ACTION on resource: RESOURCE because no identity-based policy allows the ACTION
  action"), also its execution's statusSummary;
* action regions (``region``): the action uses that region's backends and artifact
  store; its input artifacts, made in another region's store, are copied to the
  action region's store under the same key the first time an action there needs them;
* events ("Monitoring CodePipeline events"): "CodePipeline Pipeline/Stage/Action
  Execution State Change" to the default bus of the pipeline's account and region,
  source ``aws.codepipeline``, the pipeline's ARN as resource, detail ``pipeline``,
  ``execution-id``, ``state``, ``version``, ``pipeline-execution-attempt`` (1), the
  pipeline's ``execution-trigger``, a stage's ``stage``, an action's ``action``,
  ``region``, ``type``, ``input-artifacts``, ``output-artifacts`` and
  ``execution-result``; states STARTED, SUCCEEDED, FAILED, SUPERSEDED, STOPPING,
  STOPPED, ABANDONED (the stop's are put by the patch at the request).

Left out (next slices): every other provider (such an action fails, saying the
emulator does not run it), of an execution the source-change trigger starts
(``patches/events_delivery.py`` and ``codecommit_commits.py``) the event's commit (its
source action reads the branch tip when it runs), of the trust policy its Conditions
(an ``sts:ExternalId`` condition is not evaluated), of the permissions: resource-based
policies (the artifact bucket's policy, the key's key policy and grants, the topic's
policy), SCPs, permissions boundaries and session policies (only identity policies are
evaluated, see ``authz``), of
CodeDeployToECS a placeholder not found (nothing is replaced, no error) and the
deployment's own ``description``, a mode changed while executions run (the newest's
mode rules), retries and rollbacks (no RESUMED or CANCELED events), CloudWatch
metrics, action timeouts but the approval's, secondary sources of a build action (only
PrimarySource is given to the build), several output artifacts of one action (the
first is written). The artifact key's truncations (20 and 10 characters) follow the
keys AWS writes, not a documented rule; the failure messages of an unresolved
variable, of a timed-out approval, of an unsupported provider and of CodeDeployToECS's
failures (a missing file or configuration, a failed deployment) are ours (AWS
documents none). A round holds the backend lock while it advances every execution
(zipping a source tree included: CPU, no I/O).
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import logging
import re
import string
import zipfile
from collections.abc import Callable
from typing import Any

from deployer.emulator import authz
from deployer.emulator.scheduler import BACKEND_LOCK, Scheduler

log = logging.getLogger(__name__)

#: Real seconds between two rounds.
ROUND_S = 1.0
#: How long a manual approval waits (emulated seconds): seven days.
APPROVAL_TIMEOUT_S = 7 * 24 * 3600
VARIABLE = re.compile(r"#\{([A-Za-z0-9@_-]+)\.([A-Za-z0-9@_.-]+)\}")
BUILD_FAILED = ("FAILED", "FAULT", "TIMED_OUT", "STOPPED")
#: What a CodeCommit source action calls, as the CodePipeline user guide's service role
#: policy lists it ("Add permissions for CodeCommit").
SOURCE_CODECOMMIT_CALLS = (
    "codecommit:GetBranch",
    "codecommit:GetCommit",
    "codecommit:UploadArchive",
    "codecommit:GetUploadArchiveStatus",
)
REQUIRED_ECS_DEPLOY = (
    "ApplicationName",
    "DeploymentGroupName",
    "TaskDefinitionTemplateArtifact",
    "AppSpecTemplateArtifact",
)
#: RegisterTaskDefinition's request fields (as in a taskdef.json) and moto's arguments.
TASK_DEFINITION_FIELDS = {
    "volumes": "volumes",
    "networkMode": "network_mode",
    "tags": "tags",
    "placementConstraints": "placement_constraints",
    "requiresCompatibilities": "requires_compatibilities",
    "cpu": "cpu",
    "memory": "memory",
    "taskRoleArn": "task_role_arn",
    "executionRoleArn": "execution_role_arn",
    "proxyConfiguration": "proxy_configuration",
    "inferenceAccelerators": "inference_accelerators",
    "runtimePlatform": "runtime_platform",
    "ipcMode": "ipc_mode",
    "pidMode": "pid_mode",
    "ephemeralStorage": "ephemeral_storage",
}


class ActionFailed(Exception):
    """An action fails with this summary (and error code)."""

    def __init__(self, message: str, code: str = "JobFailed") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class CodePipelineEngine:
    """The engine (see the module docstring)."""

    name = "codepipeline"

    def __init__(self, lock: Any = BACKEND_LOCK, random: Callable[[], str] | None = None) -> None:
        self.lock = lock
        self._scheduler: Scheduler | None = None
        self._random = random or _random_id
        self.completed = 0

    # -- the engine protocol -------------------------------------------------------------------
    def start(self, scheduler: Scheduler) -> None:
        from deployer.emulator.patches.codepipeline_executions import use_clock

        self._scheduler = scheduler
        use_clock(scheduler.now)
        scheduler.every(ROUND_S * scheduler.time_scale, self.run, name="codepipeline")

    def status(self) -> dict[str, Any]:
        return {"completed": self.completed}

    def now(self) -> float:
        import time

        return self._scheduler.now() if self._scheduler else time.time()

    def run(self, now: float | None = None) -> None:
        """One round: every pipeline with an execution in progress advanced."""
        from moto.codepipeline.models import codepipeline_backends

        from deployer.emulator.patches.codepipeline_executions import ACTIVE, state

        now = self.now() if now is None else now
        with self.lock:
            for account in list(codepipeline_backends.keys()):
                for backend in list(codepipeline_backends[account].values()):
                    for pipeline in list(backend.pipelines.values()):
                        active = [
                            e
                            for e in pipeline.executions.values()
                            if e.status in ACTIVE and state(e) is not None
                        ]
                        if active:
                            self._advance(pipeline, active, now)

    # -- the execution model (under the lock) --------------------------------------------------
    def _advance(self, pipeline: Any, active: list[Any], now: float) -> None:
        from deployer.emulator.patches.codepipeline_executions import state, transitions

        for execution in active:
            if not state(execution)["waiting"]:  # type: ignore[index]
                self._step_stage(execution, now)
        moving = [e for e in active if e.status in ("InProgress", "Stopping")]
        if not moving:
            return
        mode = state(moving[-1])["mode"]  # type: ignore[index]
        stages = max(len(state(e)["definition"]["stages"]) for e in moving)  # type: ignore[index]
        for index in range(stages):
            waiting = [
                e
                for e in moving
                if e.status == "InProgress"
                and state(e)["waiting"]  # type: ignore[index]
                and state(e)["at"] == index  # type: ignore[index]
            ]
            if not waiting:
                continue
            # executions are kept in the order they started
            if mode == "QUEUED":
                candidates = waiting[:1]
            elif mode == "PARALLEL":
                candidates = waiting
            else:  # SUPERSEDED
                candidates = waiting[-1:]
                for older in waiting[:-1]:
                    older.status = "Superseded"
                    older.status_summary = None
                    _touch(older, now)
                    _event(older, "SUPERSEDED", now)
            for candidate in candidates:
                occupied = mode != "PARALLEL" and any(
                    e is not candidate
                    and e.status in ("InProgress", "Stopping")
                    and not state(e)["waiting"]  # type: ignore[index]
                    and state(e)["at"] == index  # type: ignore[index]
                    for e in moving
                )
                name = state(candidate)["definition"]["stages"][index]["name"]  # type: ignore[index]
                enabled = (
                    index == 0 or (transitions(pipeline).get(name) or {"enabled": True})["enabled"]
                )
                if not occupied and enabled:
                    self._enter(candidate, index, now)
                    self._step_stage(candidate, now)

    def _enter(self, execution: Any, index: int, now: float) -> None:
        from deployer.emulator.patches.codepipeline_executions import state

        recorded = state(execution)
        assert recorded is not None
        recorded["at"] = index
        recorded["waiting"] = False
        stage = recorded["definition"]["stages"][index]
        recorded["stages"][stage["name"]] = {"status": "InProgress", "group": -1}
        _touch(execution, now)
        if index == 0:
            _event(execution, "STARTED", now)
        _event(execution, "STARTED", now, stage["name"])

    def _step_stage(self, execution: Any, now: float) -> None:
        """Poll the stage's actions in progress; start the next group; end the stage."""
        from deployer.emulator.patches.codepipeline_executions import state

        recorded = state(execution)
        assert recorded is not None
        stage = recorded["definition"]["stages"][recorded["at"]]
        stage_state = recorded["stages"][stage["name"]]
        orders = sorted({int(a.get("runOrder") or 1) for a in stage["actions"]})
        while True:
            group = [
                a
                for a in stage["actions"]
                if stage_state["group"] >= 0
                and int(a.get("runOrder") or 1) == orders[stage_state["group"]]
            ]
            keys = [f"{stage['name']}/{a['name']}" for a in group]
            for action, key in zip(group, keys, strict=True):
                if recorded["actions"][key]["status"] == "InProgress":
                    self._poll(execution, stage, action, now)
            details = [recorded["actions"][k] for k in keys]
            if any(d["status"] == "InProgress" for d in details):
                return
            failed = [d for d in details if d["status"] == "Failed"]
            if failed:
                stage_state["status"] = "Failed"
                execution.status = "Failed"
                summary = _summary(failed[0])
                execution.status_summary = f"Action {failed[0]['actionName']} failed" + (
                    f": {summary}" if summary else ""
                )
                self.completed += 1
                _touch(execution, now)
                _event(execution, "FAILED", now, stage["name"])
                _event(execution, "FAILED", now)
                return
            if recorded["stop"] is not None:
                stage_state["status"] = "Stopped"
                execution.status = "Stopped"
                execution.status_summary = recorded["stop"].get("reason") or None
                self.completed += 1
                _touch(execution, now)
                _event(execution, "STOPPED", now, stage["name"])
                _event(execution, "STOPPED", now)
                return
            if stage_state["group"] + 1 >= len(orders):
                stage_state["status"] = "Succeeded"
                _event(execution, "SUCCEEDED", now, stage["name"])
                if recorded["at"] + 1 >= len(recorded["definition"]["stages"]):
                    execution.status = "Succeeded"
                    self.completed += 1
                    _event(execution, "SUCCEEDED", now)
                else:
                    recorded["at"] += 1
                    recorded["waiting"] = True
                _touch(execution, now)
                return
            stage_state["group"] += 1
            for action in stage["actions"]:
                if int(action.get("runOrder") or 1) == orders[stage_state["group"]]:
                    self._begin(execution, stage, action, now)

    # -- one action ------------------------------------------------------------------------------
    def _begin(
        self, execution: Any, stage: dict[str, Any], action: dict[str, Any], now: float
    ) -> None:
        from deployer.emulator.patches.codepipeline_executions import state

        recorded = state(execution)
        assert recorded is not None
        key = f"{stage['name']}/{action['name']}"
        region = action.get("region") or recorded["region"]
        detail: dict[str, Any] = {
            "pipelineExecutionId": execution.pipeline_execution_id,
            "actionExecutionId": _uuid(),
            "pipelineVersion": recorded["definition"]["version"],
            "stageName": stage["name"],
            "actionName": action["name"],
            "startTime": now,
            "lastUpdateTime": now,
            "status": "InProgress",
            "input": {
                "actionTypeId": dict(action["actionTypeId"]),
                "configuration": dict(action.get("configuration") or {}),
                "resolvedConfiguration": {},
                "region": region,
                "inputArtifacts": [],
            },
            "output": {"outputArtifacts": [], "executionResult": {}, "outputVariables": {}},
        }
        if action.get("roleArn"):
            detail["input"]["roleArn"] = action["roleArn"]
        if action.get("namespace"):
            detail["input"]["namespace"] = action["namespace"]
        recorded["actions"][key] = detail
        recorded["private"][key] = {}
        _event(execution, "STARTED", now, stage["name"], detail)
        try:
            detail["input"]["resolvedConfiguration"] = self._resolve(execution, action)
            recorded["private"][key]["account"] = self._assume(execution, detail, now)
            for artifact in action.get("inputArtifacts") or []:
                found = recorded["artifacts"].get(artifact["name"])
                if found is None:
                    raise ActionFailed(f"Input artifact {artifact['name']} was not produced")
                detail["input"]["inputArtifacts"].append(
                    {
                        "name": artifact["name"],
                        "s3location": self._in_region(execution, detail, artifact["name"], region),
                    }
                )
            kind = action["actionTypeId"]
            begin = {
                ("Source", "CodeCommit"): self._codecommit,
                ("Source", "S3"): self._s3_source,
                ("Build", "CodeBuild"): self._codebuild_start,
                ("Approval", "Manual"): self._approval_start,
                ("Deploy", "CodeDeployToECS"): self._ecs_deploy_start,
            }.get((kind["category"], kind["provider"]))
            if begin is None:
                raise ActionFailed(
                    f"The emulator does not run {kind['category']} actions of provider "
                    f"{kind['provider']}",
                    "ConfigurationError",
                )
            begin(execution, stage, action, detail, now)
        except ActionFailed as failure:
            self._fail(execution, detail, failure, now)
        _touch(execution, now)

    def _poll(
        self, execution: Any, stage: dict[str, Any], action: dict[str, Any], now: float
    ) -> None:
        from deployer.emulator.patches.codepipeline_executions import state

        recorded = state(execution)
        assert recorded is not None
        detail = recorded["actions"][f"{stage['name']}/{action['name']}"]
        kind = action["actionTypeId"]
        poll = {
            ("Build", "CodeBuild"): self._codebuild_poll,
            ("Approval", "Manual"): self._approval_poll,
            ("Deploy", "CodeDeployToECS"): self._ecs_deploy_poll,
        }.get((kind["category"], kind["provider"]))
        if poll is None:
            return
        try:
            poll(execution, stage, action, detail, now)
        except ActionFailed as failure:
            self._fail(execution, detail, failure, now)
        _touch(execution, now)

    def _fail(
        self, execution: Any, detail: dict[str, Any], failure: ActionFailed, now: float
    ) -> None:
        detail["status"] = "Failed"
        detail["lastUpdateTime"] = now
        result = detail["output"]["executionResult"]
        result["externalExecutionSummary"] = failure.message
        result["errorDetails"] = {"code": failure.code, "message": failure.message}
        _event(execution, "FAILED", now, detail["stageName"], detail)

    def _succeed(self, execution: Any, action: dict[str, Any], detail: dict[str, Any],
                 variables: dict[str, str], now: float) -> None:  # fmt: skip
        from deployer.emulator.patches.codepipeline_executions import state

        detail["status"] = "Succeeded"
        detail["lastUpdateTime"] = now
        detail["output"]["outputVariables"] = dict(variables)
        if action.get("namespace"):
            state(execution)["namespaces"][action["namespace"]] = dict(variables)  # type: ignore[index]
        _event(execution, "SUCCEEDED", now, detail["stageName"], detail)

    # -- variables -------------------------------------------------------------------------------
    def _resolve(self, execution: Any, action: dict[str, Any]) -> dict[str, str]:
        from deployer.emulator.patches.codepipeline_executions import state

        recorded = state(execution)
        assert recorded is not None
        known: dict[str, dict[str, str]] = {
            "codepipeline": {"PipelineExecutionId": execution.pipeline_execution_id},
            "variables": {v["name"]: v["value"] for v in execution.variables},
            **recorded["namespaces"],
        }
        unresolved: list[str] = []

        def value(match: re.Match[str]) -> str:
            found = known.get(match.group(1), {}).get(match.group(2))
            if found is None:
                unresolved.append(match.group(0))
                return match.group(0)
            return str(found)

        resolved = {
            key: VARIABLE.sub(value, str(text))
            for key, text in (action.get("configuration") or {}).items()
        }
        if unresolved:
            raise ActionFailed(
                "Unable to resolve the variable reference(s) "
                f"{', '.join(dict.fromkeys(unresolved))} in the action configuration",
                "ConfigurationError",
            )
        return resolved

    # -- artifacts -------------------------------------------------------------------------------
    def _store(self, execution: Any, region: str) -> str:
        from deployer.emulator.patches.codepipeline_executions import state

        definition = state(execution)["definition"]  # type: ignore[index]
        stores = definition.get("artifactStores") or {}
        store = stores.get(region) or definition.get("artifactStore")
        if not store:
            raise ActionFailed(f"The pipeline has no artifact store in {region}")
        return str(store["location"])

    def _put_artifact(self, execution: Any, action: dict[str, Any], detail: dict[str, Any],
                      data: bytes, revision: str) -> None:  # fmt: skip
        """The action's (first) output artifact: the zip into the artifact store."""
        from deployer.emulator.patches.codepipeline_executions import state

        outputs = action.get("outputArtifacts") or []
        if not outputs:
            return
        name = outputs[0]["name"]
        location = self._allocate(execution, detail, name)
        self._write(execution, detail, location, data, detail["input"]["region"], name)
        state(execution)["artifacts"][name]["revision"] = revision  # type: ignore[index]

    def _store_key(self, execution: Any, region: str) -> authz.Key:
        """The KMS key of ``region``'s artifact store: its ``encryptionKey``, else the
        account's AWS managed key for S3 (``alias/aws/s3``), as CodePipeline uses."""
        from deployer.emulator.patches.codepipeline_executions import state

        definition = state(execution)["definition"]  # type: ignore[index]
        store = (definition.get("artifactStores") or {}).get(region) or definition.get(
            "artifactStore"
        )
        reference = str(((store or {}).get("encryptionKey") or {}).get("id") or "alias/aws/s3")
        try:
            return authz.kms_key(reference, detail_account(execution), region)
        except authz.KeyNotFound as missing:
            raise ActionFailed(
                f"The artifact store's encryption key is not usable: KMS.NotFoundException: "
                f"{missing.message}"
            ) from None

    def _use_key(self, execution: Any, detail: dict[str, Any], key: authz.Key, operation: str,
                 region: str, as_pipeline: bool) -> None:  # fmt: skip
        """``kms:<operation>`` on ``key`` through S3, as the acting role (a key it cannot use,
        or one that is not Enabled, fails the action)."""
        try:
            authz.key_usable(key)
        except authz.KeyUnusable as unusable:
            raise ActionFailed(
                f"The artifact store's encryption key is not usable: KMS.{unusable.code}: "
                f"{unusable.message}"
            ) from None
        if authz.aws_managed(key):
            return
        context = {
            "kms:ResourceAliases": list(key.aliases),
            "kms:ViaService": f"s3.{region}.amazonaws.com",
            "kms:CallerAccount": self._acting(execution, detail, as_pipeline).account,
        }
        self._authorize(execution, detail, f"kms:{operation}", key.arn, context, as_pipeline)

    def _write(self, execution: Any, detail: dict[str, Any], location: dict[str, str],
               data: bytes, region: str, name: str, as_pipeline: bool = False) -> None:  # fmt: skip
        """An artifact zip into its store, SSE-KMS with the store's key, as the acting role
        (s3:PutObject, kms:GenerateDataKey)."""
        from moto.s3.models import s3_backends

        self._authorize(execution, detail, "s3:PutObject", _arn(location), None, as_pipeline)
        key = self._store_key(execution, region)
        self._use_key(execution, detail, key, "GenerateDataKey", region, as_pipeline)
        try:
            s3_backends[detail_account(execution)]["aws"].put_object(
                location["bucket"], location["key"], data, encryption="aws:kms", kms_key_id=key.arn
            )
        except Exception as exc:
            raise ActionFailed(f"Could not write artifact {name}: {_message(exc)}") from exc

    def _read(self, execution: Any, detail: dict[str, Any], location: dict[str, str], name: str,
              as_pipeline: bool = False, account: str | None = None) -> bytes:  # fmt: skip
        """An object's bytes, as the acting role (s3:GetObject; kms:Decrypt of its key when
        it is SSE-KMS); ``account``'s S3 (the pipeline's by default)."""
        from moto.s3.models import s3_backends

        self._authorize(execution, detail, "s3:GetObject", _arn(location), None, as_pipeline)
        try:
            stored = s3_backends[account or detail_account(execution)]["aws"].get_object(
                location["bucket"], location["key"]
            )
        except Exception as exc:
            raise ActionFailed(f"Could not read artifact {name}: {_message(exc)}") from exc
        if stored is None:
            raise ActionFailed(f"Input artifact {name} is missing from its store")
        if stored.encryption == "aws:kms" and stored.kms_key_id:
            try:
                key = authz.kms_key(str(stored.kms_key_id), detail_account(execution),
                                    detail["input"]["region"])  # fmt: skip
            except authz.KeyNotFound as missing:
                raise ActionFailed(
                    f"The artifact {name} cannot be decrypted: KMS.NotFoundException: "
                    f"{missing.message}"
                ) from None
            self._use_key(execution, detail, key, "Decrypt", key.arn.split(":")[3], as_pipeline)
        return bytes(stored.value)

    # -- acting as a role ------------------------------------------------------------------------
    def _acting(self, execution: Any, detail: dict[str, Any], as_pipeline: bool) -> authz.Session:
        """Who the action's calls are made as: its role's session once assumed (the pipeline
        role's otherwise, or with ``as_pipeline``: CodePipeline's own part)."""
        from deployer.emulator.patches.codepipeline_executions import state

        recorded = state(execution)
        assert recorded is not None
        private = recorded["private"][f"{detail['stageName']}/{detail['actionName']}"]
        pipeline_role = str(recorded["definition"].get("roleArn") or "")
        role = pipeline_role if as_pipeline else str(private.get("as") or pipeline_role)
        return authz.Session(role, str(execution.pipeline_execution_id)[:64])

    def _authorize(self, execution: Any, detail: dict[str, Any], action: str,
                   resources: str | list[str], context: dict[str, Any] | None = None,
                   as_pipeline: bool = False) -> None:  # fmt: skip
        """Fail the action with AWS's AccessDenied message unless the acting role's
        identity policies allow ``action`` on each of ``resources``."""
        session = self._acting(execution, detail, as_pipeline)
        given = {"aws:RequestedRegion": detail["input"]["region"], **(context or {})}
        try:
            authz.authorize(session, action, resources, given)
        except authz.AccessDenied as denied:
            raise ActionFailed(denied.message, "PermissionError") from None

    def _allocate(self, execution: Any, detail: dict[str, Any], name: str) -> dict[str, str]:
        """An output artifact's place in the store, recorded on the action and execution."""
        from deployer.emulator.patches.codepipeline_executions import state

        recorded = state(execution)
        assert recorded is not None
        bucket = self._store(execution, detail["input"]["region"])
        pipeline = str(recorded["definition"]["name"])[:20]
        key = f"{pipeline}/{name[:10]}/{self._random()}"
        region = detail["input"]["region"]
        recorded["artifacts"][name] = {"bucket": bucket, "key": key, "revision": "",
                                       "region": region, "copies": {}}  # fmt: skip
        detail["output"]["outputArtifacts"].append(
            {"name": name, "s3location": {"bucket": bucket, "key": key}}
        )
        return {"bucket": bucket, "key": key}

    def _revision(self, execution: Any, action: dict[str, Any], revision: dict[str, Any]) -> None:
        from deployer.emulator.patches.codepipeline_executions import state

        recorded = state(execution)
        assert recorded is not None
        name = (action.get("outputArtifacts") or [{}])[0].get("name", "")
        recorded["revisions"].append({"name": name, **revision})

    # -- Source/CodeCommit -----------------------------------------------------------------------
    def _codecommit(self, execution: Any, stage: dict[str, Any], action: dict[str, Any],
                    detail: dict[str, Any], now: float) -> None:  # fmt: skip
        from moto.codecommit.models import codecommit_backends

        from deployer.emulator.patches.codecommit_commits import _repository, _store, read_tree

        config = detail["input"]["resolvedConfiguration"]
        repository, branch = config.get("RepositoryName"), config.get("BranchName")
        account, region = action_account(execution, detail), detail["input"]["region"]
        arn = f"arn:aws:codecommit:{region}:{account}:{repository}"
        for call in SOURCE_CODECOMMIT_CALLS:
            self._authorize(execution, detail, call, arn)
        backend = codecommit_backends[account][region]
        try:
            commit_id, files = read_tree(backend, repository, branch)
        except Exception as exc:
            raise ActionFailed(_message(exc)) from exc
        commit = _store(_repository(backend, repository)).commits[commit_id]
        if (config.get("OutputArtifactFormat") or "CODE_ZIP") != "CODE_ZIP":
            raise ActionFailed(
                "The emulator produces CODE_ZIP artifacts only", "ConfigurationError"
            )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path, (mode, content) in sorted(files.items()):
                info = zipfile.ZipInfo(path)
                info.external_attr = (0o755 if mode == "EXECUTABLE" else 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, content)
        self._put_artifact(execution, action, detail, buffer.getvalue(), commit_id)
        variables = {
            "AuthorDate": _git_date(commit.author.get("date", "")),
            "BranchName": str(branch),
            "CommitId": commit_id,
            "CommitMessage": commit.message,
            "CommitterDate": _git_date(commit.committer.get("date", "")),
            "RepositoryName": str(repository),
        }
        region = detail["input"]["region"]
        url = (
            f"https://{region}.console.aws.amazon.com/codesuite/codecommit/repositories/"
            f"{repository}/commit/{commit_id}?region={region}"
        )
        detail["output"]["executionResult"] = {
            "externalExecutionId": commit_id,
            "externalExecutionSummary": commit.message,
            "externalExecutionUrl": url,
        }
        self._revision(execution, action, {"actionName": action["name"], "revisionId": commit_id,
                                           "revisionSummary": commit.message, "revisionUrl": url,
                                           "created": now})  # fmt: skip
        self._succeed(execution, action, detail, variables, now)

    # -- Source/S3 -------------------------------------------------------------------------------
    def _s3_source(self, execution: Any, stage: dict[str, Any], action: dict[str, Any],
                   detail: dict[str, Any], now: float) -> None:  # fmt: skip
        from moto.s3.models import s3_backends

        config = detail["input"]["resolvedConfiguration"]
        bucket, key = config.get("S3Bucket"), config.get("S3ObjectKey")
        self._authorize(execution, detail, "s3:GetObject", f"arn:aws:s3:::{bucket}/{key}")
        try:
            found = s3_backends[action_account(execution, detail)]["aws"].get_object(bucket, key)
        except Exception as exc:
            raise ActionFailed(_message(exc)) from exc
        if found is None:
            raise ActionFailed(f"The object {key} does not exist in the bucket {bucket}")
        if found.encryption == "aws:kms" and found.kms_key_id:
            try:
                source_key = authz.kms_key(
                    str(found.kms_key_id),
                    action_account(execution, detail),
                    detail["input"]["region"],
                )
            except authz.KeyNotFound as missing:
                raise ActionFailed(f"KMS.NotFoundException: {missing.message}") from None
            self._use_key(
                execution, detail, source_key, "Decrypt", source_key.arn.split(":")[3], False
            )
        version = str(found.version_id or "null")
        etag = str(found.etag).strip('"')
        self._put_artifact(execution, action, detail, bytes(found.value), version)
        detail["output"]["executionResult"] = {
            "externalExecutionId": version,
            "externalExecutionSummary": f"Amazon S3 version id: {version}",
        }
        self._revision(execution, action, {"actionName": action["name"], "revisionId": version,
                                           "revisionSummary": f"Amazon S3 version id: {version}",
                                           "created": now})  # fmt: skip
        self._succeed(execution, action, detail, {"ETag": etag, "VersionId": version}, now)

    # -- Build/CodeBuild -------------------------------------------------------------------------
    def _codebuild_start(self, execution: Any, stage: dict[str, Any], action: dict[str, Any],
                         detail: dict[str, Any], now: float) -> None:  # fmt: skip
        from moto.codebuild.models import codebuild_backends

        from deployer.emulator.patches.codepipeline_executions import state

        recorded = state(execution)
        assert recorded is not None
        config = detail["input"]["resolvedConfiguration"]
        region = detail["input"]["region"]
        backend: Any = codebuild_backends[action_account(execution, detail)][region]
        project = config.get("ProjectName")
        project_arn = (
            f"arn:aws:codebuild:{region}:{action_account(execution, detail)}:project/{project}"
        )
        self._authorize(execution, detail, "codebuild:StartBuild", project_arn)
        if project not in backend.codebuild_projects:
            raise ActionFailed(
                f"Project cannot be found: arn:aws:codebuild:{region}:"
                f"{action_account(execution, detail)}:project/{project}",
                "ConfigurationError",
            )
        inputs = detail["input"]["inputArtifacts"]
        if not inputs:
            raise ActionFailed("A CodeBuild action needs an input artifact", "ConfigurationError")
        primary = next((i for i in inputs if i["name"] == config.get("PrimarySource")), inputs[0])
        overrides: dict[str, Any] = {
            "sourceTypeOverride": "CODEPIPELINE",
            "sourceLocationOverride": _arn(primary["s3location"]),
        }
        revision = recorded["artifacts"][primary["name"]].get("revision")
        if revision:
            overrides["sourceVersion"] = revision
        outputs = action.get("outputArtifacts") or []
        if outputs:
            location = self._allocate(execution, detail, outputs[0]["name"])
            overrides["artifactsOverride"] = {
                "type": "CODEPIPELINE",
                "location": _arn(location),
                "packaging": "ZIP",
            }
            recorded["artifacts"][outputs[0]["name"]]["revision"] = revision or ""
        else:
            overrides["artifactsOverride"] = {"type": "NO_ARTIFACTS"}
        if config.get("EnvironmentVariables"):
            try:
                variables = json.loads(config["EnvironmentVariables"])
            except ValueError as exc:
                raise ActionFailed(
                    f"EnvironmentVariables is not a JSON list: {exc}", "ConfigurationError"
                ) from exc
            overrides["environmentVariablesOverride"] = [
                {
                    "name": v["name"],
                    "value": str(v.get("value", "")),
                    "type": v.get("type") or "PLAINTEXT",
                }
                for v in variables
            ]
        try:
            build = backend.start_build(
                project, overrides, f"codepipeline/{recorded['definition']['name']}"
            )
        except Exception as exc:
            raise ActionFailed(_message(exc)) from exc
        recorded["private"][f"{stage['name']}/{action['name']}"]["build"] = build["id"]
        detail["output"]["executionResult"] = {
            "externalExecutionId": build["id"],
            "externalExecutionUrl": (
                f"https://console.aws.amazon.com/codebuild/home?region={region}#/builds/"
                f"{build['id']}/view/new"
            ),
        }

    def _codebuild_poll(self, execution: Any, stage: dict[str, Any], action: dict[str, Any],
                        detail: dict[str, Any], now: float) -> None:  # fmt: skip
        from moto.codebuild.models import codebuild_backends

        from deployer.emulator.patches.codepipeline_executions import state

        private = state(execution)["private"][f"{stage['name']}/{action['name']}"]  # type: ignore[index]
        backend: Any = codebuild_backends[action_account(execution, detail)][
            detail["input"]["region"]
        ]
        region = detail["input"]["region"]
        project = str(private["build"]).split(":")[0]
        self._authorize(
            execution,
            detail,
            "codebuild:BatchGetBuilds",
            f"arn:aws:codebuild:{region}:{action_account(execution, detail)}:project/{project}",
        )
        build = backend.find_build(private["build"])
        if build is None:
            raise ActionFailed(f"Build {private['build']} was not found")
        status = build["buildStatus"]
        if status == "IN_PROGRESS":
            return
        if status in BUILD_FAILED or status != "SUCCEEDED":
            raise ActionFailed(f"Build terminated with state: {status}")
        variables = {
            str(v["name"]): str(v.get("value", ""))
            for v in build.get("exportedEnvironmentVariables") or []
        }
        self._succeed(execution, action, detail, variables, now)

    # -- Approval/Manual -------------------------------------------------------------------------
    def _approval_start(self, execution: Any, stage: dict[str, Any], action: dict[str, Any],
                        detail: dict[str, Any], now: float) -> None:  # fmt: skip
        from moto.sns.models import sns_backends

        from deployer.emulator.patches.codepipeline_executions import state

        recorded = state(execution)
        assert recorded is not None
        token = _uuid()
        private = recorded["private"][f"{stage['name']}/{action['name']}"]
        private.update(token=token, deadline=now + APPROVAL_TIMEOUT_S, result=None)
        config = detail["input"]["resolvedConfiguration"]
        topic = config.get("NotificationArn")
        if not topic:
            return
        region = detail["input"]["region"]
        pipeline = recorded["definition"]["name"]
        console = f"https://console.aws.amazon.com/codepipeline/home?region={region}"
        expires = datetime.datetime.fromtimestamp(now + APPROVAL_TIMEOUT_S, datetime.UTC)
        approval: dict[str, Any] = {
            "pipelineName": pipeline,
            "stageName": stage["name"],
            "actionName": action["name"],
            "token": token,
            "expires": expires.strftime("%Y-%m-%dT%H:%MZ"),
            "externalEntityLink": config.get("ExternalEntityLink"),
            "approvalReviewLink": (
                f"{console}#/view/{pipeline}/{stage['name']}/{action['name']}/approve/{token}"
            ),
            "customData": config.get("CustomData"),
        }
        message = {
            "region": region,
            "consoleLink": f"{console}#/view/{pipeline}",
            "approval": approval,
        }
        topic_region = topic.split(":")[3]
        self._authorize(execution, detail, "sns:Publish", topic)
        try:
            sns_backends[topic.split(":")[4]][topic_region].publish(
                message=json.dumps(message),
                arn=topic,
                subject=f"APPROVAL NEEDED: AWS CodePipeline {pipeline} for action {action['name']}"[
                    :100
                ],
            )
        except Exception as exc:
            raise ActionFailed(f"Could not publish to {topic}: {_message(exc)}") from exc

    def _approval_poll(self, execution: Any, stage: dict[str, Any], action: dict[str, Any],
                       detail: dict[str, Any], now: float) -> None:  # fmt: skip
        from deployer.emulator.patches.codepipeline_executions import state

        private = state(execution)["private"][f"{stage['name']}/{action['name']}"]  # type: ignore[index]
        result = private.get("result")
        if result is None:
            if now >= private["deadline"]:
                raise ActionFailed("The approval action timed out after 7 days", "JobFailed")
            return
        detail["updatedBy"] = result["by"]
        detail["output"]["executionResult"] = {
            "externalExecutionSummary": result["summary"],
        }
        if result["status"] == "Rejected":
            raise ActionFailed(result["summary"] or "Rejected", "JobFailed")
        self._succeed(execution, action, detail, {}, now)

    # -- the action's role and region ----------------------------------------------------------
    def _assume(self, execution: Any, detail: dict[str, Any], now: float) -> str:
        """The account the action works in: its ``roleArn``'s, assumed through moto's STS by
        the pipeline's role once the role's trust policy allows that (else the pipeline's)."""
        from moto.iam.models import iam_backends
        from moto.sts.models import sts_backends

        from deployer.emulator.patches.codepipeline_executions import state

        recorded = state(execution)
        assert recorded is not None
        role = str(detail["input"].get("roleArn") or "")
        pipeline_role = str(recorded["definition"].get("roleArn") or "")
        private = recorded["private"][f"{detail['stageName']}/{detail['actionName']}"]
        if not role or role == pipeline_role:
            private["as"] = pipeline_role
            return str(recorded["account"])
        parts = role.split(":")
        if len(parts) < 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
            raise ActionFailed(
                f"The action's roleArn {role} is not a role ARN", "ConfigurationError"
            )
        partition, account = parts[1], parts[4]
        denied = ActionFailed(
            f"CodePipeline is not authorized to perform AssumeRole on role {role}",
            "PermissionError",
        )
        try:
            found = iam_backends[account][partition].get_role_by_arn(role)
        except Exception as exc:
            raise denied from exc
        if not _trusts(found.assume_role_policy_document, pipeline_role):
            raise denied
        try:  # the pipeline's role must also be allowed sts:AssumeRole by its own policies
            self._authorize(execution, detail, "sts:AssumeRole", role, as_pipeline=True)
        except ActionFailed:
            raise denied from None
        session = sts_backends[account][partition].assume_role(
            region_name=detail["input"]["region"],
            role_session_name=str(execution.pipeline_execution_id)[:64],
            role_arn=role,
            policy="",
            duration=3600,
            external_id="",
        )
        private.update(session=session.arn, **{"as": role})
        return account

    def _in_region(
        self, execution: Any, detail: dict[str, Any], name: str, region: str
    ) -> dict[str, str]:
        """An input artifact's location in ``region``'s artifact store: where it was made, or
        a copy made there (same key) the first time an action in that region needs it."""
        from deployer.emulator.patches.codepipeline_executions import state

        recorded = state(execution)
        assert recorded is not None
        found = recorded["artifacts"][name]
        if (found.get("region") or recorded["region"]) == region:
            return {"bucket": found["bucket"], "key": found["key"]}
        copies = found.setdefault("copies", {})
        bucket = self._store(execution, region)
        if bucket == found["bucket"]:  # one store for every region: nothing to copy
            return {"bucket": found["bucket"], "key": found["key"]}
        if region not in copies:  # CodePipeline copies it, as the pipeline's role
            data = self._read(execution, detail, found, name, as_pipeline=True)
            copy = {"bucket": bucket, "key": found["key"]}
            self._write(execution, detail, copy, data, region, name, as_pipeline=True)
            copies[region] = copy
        return dict(copies[region])

    def _member(self, execution: Any, detail: dict[str, Any], artifact: str, path: str) -> str:
        """The text of the file ``path`` in the input artifact ``artifact``'s zip, read as
        the action's role."""
        location = next(
            (i["s3location"] for i in detail["input"]["inputArtifacts"] if i["name"] == artifact),
            None,
        )
        if location is None:
            raise ActionFailed(
                f"The artifact {artifact} is not an input artifact of the action",
                "ConfigurationError",
            )
        data = self._read(execution, detail, location, artifact)
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return archive.read(path).decode()
        except KeyError:
            raise ActionFailed(
                f"The file {path} was not found in the artifact {artifact}", "ConfigurationError"
            ) from None
        except (zipfile.BadZipFile, UnicodeDecodeError) as exc:
            raise ActionFailed(f"The artifact {artifact} cannot be read: {exc}") from exc

    # -- Deploy/CodeDeployToECS ------------------------------------------------------------------
    def _ecs_deploy_start(self, execution: Any, stage: dict[str, Any], action: dict[str, Any],
                          detail: dict[str, Any], now: float) -> None:  # fmt: skip
        from moto.codedeploy.models import codedeploy_backends
        from moto.core.utils import utcnow
        from moto.ecs.models import ecs_backends

        from deployer.emulator.patches import _codedeploy_state as codedeploy_state
        from deployer.emulator.patches.codedeploy_ecs_deployments import _active_in_group
        from deployer.emulator.patches.codepipeline_executions import state

        config = detail["input"]["resolvedConfiguration"]
        for required in REQUIRED_ECS_DEPLOY:
            if not config.get(required):
                raise ActionFailed(
                    f"The action configuration has no {required}", "ConfigurationError"
                )
        account, region = action_account(execution, detail), detail["input"]["region"]
        taskdef_text = self._member(
            execution,
            detail,
            config["TaskDefinitionTemplateArtifact"],
            config.get("TaskDefinitionTemplatePath") or "taskdef.json",
        )
        appspec_text = self._member(
            execution,
            detail,
            config["AppSpecTemplateArtifact"],
            config.get("AppSpecTemplatePath") or "appspec.yaml",
        )
        images: dict[str, str] = {}
        for n in range(1, 5):
            artifact, container = (
                config.get(f"Image{n}ArtifactName"),
                config.get(f"Image{n}ContainerName"),
            )
            if not artifact and not container:
                continue
            if not artifact or not container:
                raise ActionFailed(
                    f"Image{n}ArtifactName and Image{n}ContainerName go together",
                    "ConfigurationError",
                )
            text = self._member(execution, detail, artifact, "imageDetail.json")
            try:
                uri = json.loads(text)["ImageURI"]
            except (ValueError, KeyError, TypeError):
                raise ActionFailed(
                    f"The imageDetail.json of the artifact {artifact} has no ImageURI",
                    "ConfigurationError",
                ) from None
            images[f"<{container}>"] = str(uri)
        try:
            template = json.loads(taskdef_text)
        except ValueError as exc:
            raise ActionFailed(
                f"The task definition file is not valid JSON: {exc}", "ConfigurationError"
            ) from exc
        template = _substitute(template, images)
        if not isinstance(template, dict) or not template.get("family"):
            raise ActionFailed("The task definition file has no family", "ConfigurationError")
        self._authorize(execution, detail, "ecs:RegisterTaskDefinition", "*")
        for passed in ("taskRoleArn", "executionRoleArn"):
            if template.get(passed):
                self._authorize(execution, detail, "iam:PassRole", str(template[passed]),
                                {"iam:PassedToService": "ecs-tasks.amazonaws.com"})  # fmt: skip
        try:
            registered = ecs_backends[account][region].register_task_definition(
                template["family"],
                template.get("containerDefinitions") or [],
                **{
                    argument: template[key]
                    for key, argument in TASK_DEFINITION_FIELDS.items()
                    if key in template
                },
            )
        except Exception as exc:
            raise ActionFailed(
                f"RegisterTaskDefinition failed: {_message(exc)}", "JobFailed"
            ) from exc
        appspec = appspec_text.replace("<TASK_DEFINITION>", registered.arn)
        backend: Any = codedeploy_backends[account][region]
        application, group = config["ApplicationName"], config["DeploymentGroupName"]
        arn = f"arn:aws:codedeploy:{region}:{account}"
        for call in ("RegisterApplicationRevision", "GetApplicationRevision"):
            self._authorize(
                execution, detail, f"codedeploy:{call}", f"{arn}:application:{application}"
            )
        self._authorize(execution, detail, "codedeploy:CreateDeployment",
                        f"{arn}:deploymentgroup:{application}/{group}")  # fmt: skip
        try:
            config_name = backend.get_deployment_group(application, group).deployment_config_name
        except Exception:
            config_name = None
        self._authorize(
            execution,
            detail,
            "codedeploy:GetDeploymentConfig",
            f"{arn}:deploymentconfig:{config_name or 'CodeDeployDefault.ECSAllAtOnce'}",
        )
        try:
            active = _active_in_group(backend, application, group)
            if active is not None:
                raise ActionFailed(
                    f"The Deployment Group '{group}' already has an active Deployment "
                    f"'{active.deployment_id}'"
                )
            moto_id = backend.create_deployment(
                application,
                group,
                {
                    "revisionType": "AppSpecContent",
                    "appSpecContent": {
                        "content": appspec,
                        "sha256": hashlib.sha256(appspec.encode()).hexdigest(),
                    },
                },
            )
        except ActionFailed:
            raise
        except Exception as exc:
            raise ActionFailed(f"CreateDeployment failed: {_message(exc)}") from exc
        # as patches/codedeploy_ecs_deployments.py does at CreateDeployment: AWS's id, started
        deployment = backend.deployments.pop(moto_id)
        deployment.deployment_id = codedeploy_state.new_deployment_id()
        deployment.creator = "user"
        deployment.status = "InProgress"
        deployment.start_time = utcnow()
        backend.deployments[deployment.deployment_id] = deployment
        private = state(execution)["private"][f"{stage['name']}/{action['name']}"]  # type: ignore[index]
        private.update(deployment=deployment.deployment_id, taskDefinition=registered.arn)
        detail["output"]["executionResult"] = {
            "externalExecutionId": deployment.deployment_id,
            "externalExecutionSummary": f"Deployment {deployment.deployment_id}",
            "externalExecutionUrl": (
                f"https://console.aws.amazon.com/codedeploy/home?region={region}"
                f"#/deployments/{deployment.deployment_id}"
            ),
        }

    def _ecs_deploy_poll(self, execution: Any, stage: dict[str, Any], action: dict[str, Any],
                         detail: dict[str, Any], now: float) -> None:  # fmt: skip
        from moto.codedeploy.models import codedeploy_backends

        from deployer.emulator.patches.codepipeline_executions import state

        private = state(execution)["private"][f"{stage['name']}/{action['name']}"]  # type: ignore[index]
        backend: Any = codedeploy_backends[action_account(execution, detail)][
            detail["input"]["region"]
        ]
        region, account = detail["input"]["region"], action_account(execution, detail)
        config = detail["input"]["resolvedConfiguration"]
        self._authorize(
            execution,
            detail,
            "codedeploy:GetDeployment",
            f"arn:aws:codedeploy:{region}:{account}:deploymentgroup:"
            f"{config['ApplicationName']}/{config['DeploymentGroupName']}",
        )
        deployment = backend.deployments.get(private["deployment"])
        if deployment is None:
            raise ActionFailed(f"Deployment {private['deployment']} was not found")
        if deployment.status in ("Failed", "Stopped"):
            reason = (getattr(deployment, "deployer_error", None) or {}).get("message") or ""
            raise ActionFailed(
                f"Deployment {deployment.deployment_id} {deployment.status.lower()}"
                + (f": {reason}" if reason else "")
            )
        if deployment.status != "Succeeded":
            return
        self._succeed(execution, action, detail, {}, now)


# -- helpers -------------------------------------------------------------------------------------


def _trusts(document: Any, principal: str) -> bool:
    """Whether a trust policy lets ``principal`` (a role ARN) call sts:AssumeRole: an Allow
    statement naming it, its account (ID or root ARN) or ``*``, and no Deny doing so."""
    try:
        policy = json.loads(document) if isinstance(document, str) else dict(document or {})
    except ValueError:
        return False
    account = principal.split(":")[4] if principal.count(":") >= 5 else ""
    names = {principal, account, f"arn:{principal.split(':')[1]}:iam::{account}:root", "*"}
    statements = policy.get("Statement") or []
    allowed = False
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action") or []
        actions = [actions] if isinstance(actions, str) else actions
        if not any(a.lower() in ("sts:assumerole", "sts:*", "*") for a in actions):
            continue
        who = statement.get("Principal") or {}
        aws = ["*"] if who == "*" else who.get("AWS") or [] if isinstance(who, dict) else []
        aws = [aws] if isinstance(aws, str) else aws
        if not names.intersection(aws):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _substitute(value: Any, images: dict[str, str]) -> Any:
    """The task definition with each image placeholder replaced in its string values."""
    if isinstance(value, str):
        for placeholder, uri in images.items():
            value = value.replace(placeholder, uri)
        return value
    if isinstance(value, list):
        return [_substitute(v, images) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, images) for k, v in value.items()}
    return value


def action_account(execution: Any, detail: dict[str, Any]) -> str:
    """The account an action works in: its role's (assumed at its start), else the pipeline's."""
    from deployer.emulator.patches.codepipeline_executions import state

    recorded = state(execution)
    assert recorded is not None
    private = recorded["private"][f"{detail['stageName']}/{detail['actionName']}"]
    return str(private.get("account") or recorded["account"])


def detail_account(execution: Any) -> str:
    from deployer.emulator.patches.codepipeline_executions import state

    return str(state(execution)["account"])  # type: ignore[index]


def _event(
    execution: Any,
    state_name: str,
    now: float,
    stage: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    from deployer.emulator.patches.codepipeline_executions import put_event

    put_event(execution, state_name, now, stage, detail)


def _touch(execution: Any, now: float) -> None:
    from deployer.emulator.patches.codepipeline_executions import touch

    touch(execution, now)


def _summary(detail: dict[str, Any]) -> str:
    return str(detail["output"]["executionResult"].get("externalExecutionSummary") or "")


def _arn(location: dict[str, str]) -> str:
    return f"arn:aws:s3:::{location['bucket']}/{location['key']}"


def _message(exc: Exception) -> str:
    return str(getattr(exc, "message", None) or exc)


def _git_date(raw: str) -> str:
    """``1234567890 +0000`` as CodePipeline's ISO 8601 UTC date."""
    try:
        seconds = int(raw.split()[0])
    except (IndexError, ValueError):
        return raw
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _uuid() -> str:
    from moto.moto_api._internal import mock_random

    return str(mock_random.uuid4())


def _random_id() -> str:
    from moto.moto_api._internal import mock_random

    return "".join(mock_random.choice(string.ascii_letters + string.digits) for _ in range(7))
