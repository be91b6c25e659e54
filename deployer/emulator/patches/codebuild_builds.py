"""CodeBuild: StartBuild records a build that the engine runs; the build APIs report it.

moto 5.2.5's StartBuild ignores every override but ``sourceVersion`` and
``artifactsOverride``, numbers builds at random, copies no setting of the project
(a fixed CodeCommit source, a fixed image, no environment variables, logs in group
``null``), and BatchGetBuilds *invents* a finished build: every phase SUCCEEDED
with a random duration, ``buildStatus`` SUCCEEDED, each time it is asked (phases
are appended again on every call). StopBuild does the same with STOPPED. Nothing
runs.

After the CodeBuild API Reference (StartBuild, Build, BuildPhase, BatchGetBuilds,
StopBuild, ListBuildsForProject, ListBuilds), this patch makes:

* StartBuild record the build as CodeBuild starts it: id ``<project>:<uuid>``, its
  ARN, ``buildNumber`` counting the project's builds from 1, ``initiator`` (the
  caller's IAM user name, or ``<role>/<session>`` for an assumed role),
  ``sourceVersion``, ``source``, ``artifacts``, ``environment`` and
  ``serviceRole`` from the project with the request's overrides
  (``environmentVariablesOverride`` merged by name, ``buildspecOverride``,
  ``sourceTypeOverride``/``sourceLocationOverride``, ``artifactsOverride``,
  ``imageOverride``, ``privilegedModeOverride``, ``serviceRoleOverride``,
  ``timeoutInMinutesOverride``, ``queuedTimeoutInMinutesOverride``,
  ``secondaryArtifactsOverride``), ``logs``
  (the project's group, default ``/aws/codebuild/<project>``, stream the build's
  uuid under the configured stream prefix), ``buildStatus`` IN_PROGRESS,
  ``currentPhase`` QUEUED, phases SUBMITTED (SUCCEEDED) and QUEUED (in progress).
  The engine (``engines/codebuild.py``) runs it and writes every later phase. An
  engine that starts builds itself (a pipeline's build action) calls the backend's
  ``start_build(project, overrides, initiator)`` with StartBuild's request fields
  as ``overrides`` and ``codepipeline/<pipeline>`` as the initiator;
* BatchGetBuilds return the builds as recorded, in the order asked, and the ids it
  does not know in ``buildsNotFound``;
* StopBuild ask the engine to stop a running build (the answer is the build, still
  IN_PROGRESS, as CodeBuild answers while it stops); a build no engine has taken
  yet stops at once (its QUEUED phase STOPPED, buildStatus STOPPED);
* ListBuildsForProject and ListBuilds list ids newest first (``sortOrder``
  DESCENDING, the default) or oldest first (ASCENDING).

Left out: batch builds, secondary sources, a project's own ``secondaryArtifacts``
(moto's CreateProject drops them; StartBuild's ``secondaryArtifactsOverride`` is
kept), pagination
(``nextToken``: every id in one page), the queued timeout (a build is
taken at the engine's next round).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from ._util import add_method

GAP = (
    "CodeBuild StartBuild ignores the project's settings and overrides, and BatchGetBuilds "
    "invents a SUCCEEDED build without running anything."
)

#: Build ARN -> what the engine is told about the build (``stop``, ``taken``).
CONTROL: dict[str, dict[str, Any]] = {}
#: The clock of the builds' times: the emulator's scheduler once the engine starts
#: (``use_clock``), so that timeouts and durations are in emulated time.
CLOCK: list[Callable[[], float]] = [time.time]

DEFAULT_TIMEOUT_MIN = 60
DEFAULT_QUEUED_TIMEOUT_MIN = 480


def use_clock(now: Callable[[], float]) -> None:
    """Stamp builds with ``now`` (emulated epoch seconds) from here on."""
    CLOCK[0] = now


def apply() -> None:
    from moto.codebuild import responses
    from moto.codebuild.models import CodeBuildBackend

    add_method(CodeBuildBackend, "start_build", _start_build)
    add_method(CodeBuildBackend, "batch_get_builds", _batch_get_builds)
    add_method(CodeBuildBackend, "stop_build", _stop_build)
    add_method(CodeBuildBackend, "find_build", _find_build)
    add_method(CodeBuildBackend, "list_builds_for_project", _list_builds_for_project)
    add_method(CodeBuildBackend, "list_builds", _list_builds)
    add_method(responses.CodeBuildResponse, "start_build", _start_build_response)
    add_method(responses.CodeBuildResponse, "batch_get_builds", _batch_get_builds_response)
    add_method(responses.CodeBuildResponse, "list_builds_for_project", _list_for_project_response)
    add_method(responses.CodeBuildResponse, "list_builds", _list_builds_response)


# -- the responses --------------------------------------------------------------------------


def _start_build_response(self: Any) -> Any:
    from moto.codebuild.exceptions import ResourceNotFoundException
    from moto.codebuild.responses import _validate_required_params_project_name
    from moto.core.responses import ActionResult
    from moto.utilities.utils import get_partition

    name = self._get_param("projectName")
    _validate_required_params_project_name(name)
    backend = self.codebuild_backend
    if name not in backend.codebuild_projects:
        raise ResourceNotFoundException(
            f"Project cannot be found: arn:{get_partition(self.region)}:codebuild:"
            f"{self.region}:{self.current_account}:project/{name}"
        )
    overrides = {
        key: self._get_param(key)
        for key in (
            "sourceVersion",
            "artifactsOverride",
            "environmentVariablesOverride",
            "buildspecOverride",
            "sourceTypeOverride",
            "sourceLocationOverride",
            "imageOverride",
            "privilegedModeOverride",
            "serviceRoleOverride",
            "timeoutInMinutesOverride",
            "queuedTimeoutInMinutesOverride",
            "secondaryArtifactsOverride",
        )
        if self._get_param(key) is not None
    }
    initiator = _initiator(self.get_access_key(), self.current_account)
    return ActionResult({"build": backend.start_build(name, overrides, initiator)})


def _batch_get_builds_response(self: Any) -> Any:
    from moto.codebuild.exceptions import InvalidInputException
    from moto.core.responses import ActionResult

    ids = self._get_param("ids") or []
    for build_id in ids:
        if ":" not in build_id:
            raise InvalidInputException("Invalid build ID provided")
    builds, missing = self.codebuild_backend.batch_get_builds(ids)
    return ActionResult({"builds": builds, "buildsNotFound": missing})


def _list_for_project_response(self: Any) -> Any:
    from moto.codebuild.exceptions import ResourceNotFoundException
    from moto.core.responses import ActionResult
    from moto.utilities.utils import get_partition

    name = self._get_param("projectName")
    if name not in self.codebuild_backend.codebuild_projects:
        raise ResourceNotFoundException(
            f"The provided project arn:{get_partition(self.region)}:codebuild:{self.region}:"
            f"{self.current_account}:project/{name} does not exist"
        )
    ids = self.codebuild_backend.list_builds_for_project(name, self._get_param("sortOrder"))
    return ActionResult({"ids": ids})


def _list_builds_response(self: Any) -> Any:
    from moto.core.responses import ActionResult

    return ActionResult({"ids": self.codebuild_backend.list_builds(self._get_param("sortOrder"))})


def _initiator(access_key: str, account: str) -> str:
    """CodeBuild's ``initiator``: the IAM user's name, or ``role/session`` for a role."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    for partition in ("aws", "aws-cn", "aws-us-gov"):
        sts = sts_backends[account].get(partition) if account in sts_backends else None
        if sts is None:
            continue
        role = sts.get_assumed_role_from_access_key(access_key)
        if role is not None:
            return f"{role.role_arn.rsplit('/', 1)[-1]}/{role.session_name}"
        user = iam_backends[account][partition].get_user_from_access_key_id(access_key)
        if user is not None:
            return str(user.name)
    return "root"


# -- the backend ------------------------------------------------------------------------------


def _start_build(
    self: Any, project_name: str, overrides: Any = None, initiator: Any = "root"
) -> dict[str, Any]:
    from moto.moto_api._internal import mock_random
    from moto.utilities.utils import get_partition

    if not isinstance(overrides, dict):  # moto's own signature: (name, version, artifacts)
        overrides = {"sourceVersion": overrides} if overrides else {}
    if not isinstance(initiator, str):
        overrides["artifactsOverride"] = initiator
        initiator = "root"
    project = self.codebuild_projects[project_name].project_metadata
    uuid = str(mock_random.uuid4())
    build_id = f"{project_name}:{uuid}"
    partition = get_partition(self.region_name)
    now = CLOCK[0]()
    numbers: dict[str, int] = self.__dict__.setdefault("_deployer_build_numbers", {})
    numbers[project_name] = numbers.get(project_name, 0) + 1

    source = copy.deepcopy(project.get("source") or {})
    if "sourceTypeOverride" in overrides:
        source["type"] = overrides["sourceTypeOverride"]
    if "sourceLocationOverride" in overrides:
        source["location"] = overrides["sourceLocationOverride"]
    if "buildspecOverride" in overrides:
        source["buildspec"] = overrides["buildspecOverride"]
    artifacts = copy.deepcopy(overrides.get("artifactsOverride") or project.get("artifacts") or {})
    environment = copy.deepcopy(project.get("environment") or {})
    variables = {v["name"]: v for v in environment.get("environmentVariables") or []}
    for variable in overrides.get("environmentVariablesOverride") or []:
        variables[variable["name"]] = {"type": "PLAINTEXT", **variable}
    environment["environmentVariables"] = [
        {"type": v.get("type") or "PLAINTEXT", **v} for v in variables.values()
    ]
    if "imageOverride" in overrides:
        environment["image"] = overrides["imageOverride"]
    if "privilegedModeOverride" in overrides:
        environment["privilegedMode"] = bool(overrides["privilegedModeOverride"])
    environment.setdefault("privilegedMode", False)

    logs_config = (project.get("logsConfig") or {}).get("cloudWatchLogs") or {}
    group = logs_config.get("groupName") or f"/aws/codebuild/{project_name}"
    stream = f"{logs_config['streamName']}/{uuid}" if logs_config.get("streamName") else uuid
    region = self.region_name
    logs_status = logs_config.get("status") or "ENABLED"
    logs: dict[str, Any] = {"cloudWatchLogs": {"status": logs_status}}
    if logs_status == "ENABLED":
        logs.update(
            groupName=group,
            streamName=stream,
            deepLink=(
                f"https://console.aws.amazon.com/cloudwatch/home?region={region}"
                f"#logEvent:group={group};stream={stream}"
            ),
            cloudWatchLogsArn=(
                f"arn:{partition}:logs:{region}:{self.account_id}:log-group:{group}"
                f":log-stream:{stream}"
            ),
        )
        logs["cloudWatchLogs"].update({"groupName": group, "streamName": stream})

    build: dict[str, Any] = {
        "id": build_id,
        "arn": f"arn:{partition}:codebuild:{region}:{self.account_id}:build/{build_id}",
        "buildNumber": numbers[project_name],
        "startTime": now,
        "currentPhase": "QUEUED",
        "buildStatus": "IN_PROGRESS",
        "projectName": project_name,
        "phases": [
            {
                "phaseType": "SUBMITTED",
                "phaseStatus": "SUCCEEDED",
                "startTime": now,
                "endTime": now,
                "durationInSeconds": 0,
            },
            {"phaseType": "QUEUED", "startTime": now},
        ],
        "source": source,
        "secondarySources": [],
        "secondarySourceVersions": [],
        "artifacts": artifacts,
        "secondaryArtifacts": copy.deepcopy(
            overrides.get("secondaryArtifactsOverride") or project.get("secondaryArtifacts") or []
        ),
        "cache": copy.deepcopy(project.get("cache") or {"type": "NO_CACHE"}),
        "environment": environment,
        "serviceRole": overrides.get("serviceRoleOverride") or project.get("serviceRole"),
        "logs": logs,
        "timeoutInMinutes": int(
            overrides.get("timeoutInMinutesOverride")
            or project.get("timeoutInMinutes")
            or DEFAULT_TIMEOUT_MIN
        ),
        "queuedTimeoutInMinutes": int(
            overrides.get("queuedTimeoutInMinutesOverride")
            or project.get("queuedTimeoutInMinutes")
            or DEFAULT_QUEUED_TIMEOUT_MIN
        ),
        "buildComplete": False,
        "initiator": initiator,
        "encryptionKey": project.get("encryptionKey"),
    }
    version = overrides.get("sourceVersion") or project.get("sourceVersion")
    if version:
        build["sourceVersion"] = version
    self.build_history.setdefault(project_name, []).append(build_id)
    self.build_metadata_history[project_name].append(build)
    CONTROL[build["arn"]] = {"stop": False, "taken": False}
    return build


def _find_build(self: Any, build_id: str) -> dict[str, Any] | None:
    """The build with this id or ARN."""
    for builds in self.build_metadata_history.values():
        for build in builds:
            if build_id in (build["id"], build["arn"]):
                return build  # type: ignore[no-any-return]
    return None


def _batch_get_builds(self: Any, ids: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    found, missing = [], []
    for build_id in ids:
        build = self.find_build(build_id)
        if build is None:
            missing.append(build_id)
        else:
            found.append(build)
    return found, missing


def _stop_build(self: Any, build_id: str) -> dict[str, Any] | None:
    build = self.find_build(build_id)
    if build is None:
        return None
    control = CONTROL.setdefault(build["arn"], {"stop": False, "taken": False})
    if build["buildStatus"] != "IN_PROGRESS":
        return build  # type: ignore[no-any-return]
    control["stop"] = True
    if not control["taken"]:
        finish(build, "STOPPED", CLOCK[0]())
    return build  # type: ignore[no-any-return]


def finish(build: dict[str, Any], status: str, now: float) -> None:
    """End the phase in progress with ``status`` (if it has none) and complete the build
    with that status (FINALIZING and COMPLETED as CodeBuild lists them)."""
    for phase in build["phases"]:
        if "phaseStatus" not in phase and phase["phaseType"] != "COMPLETED":
            close_phase(phase, status, now)
    if build["phases"][-1]["phaseType"] != "FINALIZING":
        build["phases"].append({"phaseType": "FINALIZING", "startTime": now})
        close_phase(build["phases"][-1], "SUCCEEDED", now)
    build["phases"].append({"phaseType": "COMPLETED", "startTime": now})
    build["currentPhase"] = "COMPLETED"
    build["buildStatus"] = status
    build["endTime"] = now
    build["buildComplete"] = True


def close_phase(
    phase: dict[str, Any], status: str, now: float, context: tuple[str, str] = ("", "")
) -> None:
    """Set a phase's status, end time, duration and context."""
    phase["phaseStatus"] = status
    phase["endTime"] = now
    phase["durationInSeconds"] = max(0, round(now - float(phase["startTime"])))
    phase["contexts"] = [{"statusCode": context[0], "message": context[1]}]


def _ordered(ids: list[str], sort_order: str | None) -> list[str]:
    return list(ids) if sort_order == "ASCENDING" else list(reversed(ids))


def _list_builds_for_project(
    self: Any, project_name: str, sort_order: str | None = None
) -> list[str]:
    return _ordered(self.build_history.get(project_name, []), sort_order)


def _list_builds(self: Any, sort_order: str | None = None) -> list[str]:
    builds = [b for history in self.build_metadata_history.values() for b in history]
    builds.sort(key=lambda b: float(b["startTime"]))
    return _ordered([b["id"] for b in builds], sort_order)
