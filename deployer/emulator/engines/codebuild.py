"""CodeBuild runs builds: each build's buildspec runs in a container of its project's image.

Reproduces, after the CodeBuild user guide ("Build phase transitions", "Build
specification reference", "Environment variables in build environments") and the
API reference (StartBuild, Build, BuildPhase, PhaseContext, BatchGetBuilds), for
the builds ``patches/codebuild_builds.py`` records at StartBuild:

* the phases in CodeBuild's order, each with its status, start and end time,
  ``durationInSeconds`` and ``contexts`` (statusCode, message): SUBMITTED,
  QUEUED, PROVISIONING (the image is pulled from the emulator's registry with a
  token of the service role, so the repository policy decides, as the runtime
  pulls ECS tasks' images), DOWNLOAD_SOURCE (the source, the buildspec, the
  environment variables, then the build's one container), INSTALL, PRE_BUILD,
  BUILD, POST_BUILD, UPLOAD_ARTIFACTS, FINALIZING, COMPLETED; a failure in
  PROVISIONING, DOWNLOAD_SOURCE, INSTALL or PRE_BUILD goes to FINALIZING, a
  failed BUILD still runs POST_BUILD, UPLOAD_ARTIFACTS is always attempted after
  them; ``on-failure: CONTINUE`` goes on to the next phase (the build still
  FAILED); ``finally`` commands run after a phase's commands, failed or not; the
  build's ``buildStatus``, ``currentPhase``, ``endTime``, ``buildComplete``;
* the buildspec: the source's ``source.buildspec`` (inline YAML, a path under the
  source folder, default ``buildspec.yml``, or an S3 object ARN), version 0.2;
  one that does not parse or is malformed fails DOWNLOAD_SOURCE with
  ``YAML_FILE_ERROR``; a command that exits non-zero fails its phase with
  ``COMMAND_EXECUTION_ERROR`` "Error while executing command: <cmd>. Reason: exit
  status <n>";
* the commands run in one container of the environment's image, as root
  (CodeBuild's default user), a ``docker exec`` each in the shell of
  ``env.shell`` (``sh`` by default, ``bash``), each command in the folder and
  with the variables the command before left (the shell state carries from
  command to command as CodeBuild's 0.2 buildspecs do: a variable set without
  ``export`` carries too, as each command runs with ``set -a`` and its exported
  variables and folder are saved for the next one in the build folder, outside
  the source);
* environment variables, lowest precedence first: the buildspec's
  ``env.variables``, ``env.parameter-store`` and ``env.secrets-manager``
  (``secret-id:json-key:version-stage:version-id``), then the project's
  (with StartBuild's ``environmentVariablesOverride``) of type PLAINTEXT,
  PARAMETER_STORE (decrypted, from SSM of the build's account and region) and
  SECRETS_MANAGER; a parameter or secret that cannot be read fails
  DOWNLOAD_SOURCE ("Decrypted Variables Error", "Secrets Manager Error"); then
  CODEBUILD_BUILD_ID, _ARN, _NUMBER, _IMAGE, _INITIATOR, _KMS_KEY_ID,
  _LOG_PATH, _SOURCE_VERSION, _RESOLVED_SOURCE_VERSION, _SOURCE_REPO_URL,
  _SRC_DIR, _START_TIME and _BUILD_SUCCEEDING (1, 0 once a phase failed), which
  cannot be overridden, AWS_REGION, AWS_DEFAULT_REGION, the service role's
  credentials (assumed through STS, session ``AWSCodeBuild-<uuid>``) and
  ``AWS_ENDPOINT_URL`` (the emulator on loopback: the container shares the
  host's network); ``exported-variables`` are read at the end of the
  command phases into ``exportedEnvironmentVariables``;
* the source: S3 (a zip at the location ``bucket/key`` or the object's ARN),
  CODEPIPELINE (an input artifact zip at ``sourceLocationOverride``, the
  ``sourceVersion`` StartBuild gives as the resolved revision), CODECOMMIT
  (the repository's commit for ``sourceVersion``: a commit id, a branch,
  ``refs/heads/<branch>``, default the default branch's tip, read with
  ``codecommit_commits.read_tree``; ``resolvedSourceVersion`` is its id),
  NO_SOURCE (the inline buildspec alone);
* logs: the build's output (a command's once it ends) and CodeBuild's
  ``[Container]`` lines ("Entering phase", "Running command", "Phase complete",
  "Phase context status code") to the project's log group (created if missing)
  and stream, the values read from Parameter Store and Secrets Manager masked
  (``***``);
* the primary artifact: the buildspec's ``artifacts`` (``files`` globs,
  ``base-directory``, ``discard-paths``) zipped (or, with packaging NONE, copied)
  to S3 per the project's artifacts (S3: ``location`` bucket, ``path``,
  ``namespaceType`` BUILD_ID, ``name``; CODEPIPELINE: the zip at the location
  StartBuild's ``artifactsOverride`` gives), stored SSE-KMS with the project's
  ``encryptionKey`` (else the account's ``aws/s3`` key; one that does not exist or is
  not enabled fails UPLOAD_ARTIFACTS with KMS's words); the build's ``artifacts`` then
  hold the object's ARN, md5sum and sha256sum; no file matching fails
  UPLOAD_ARTIFACTS ("CLIENT_ERROR"); secondary artifacts alike (those of
  StartBuild's ``secondaryArtifactsOverride``), each from the buildspec's
  ``secondary-artifacts`` section of its ``artifactIdentifier``, into the build's
  ``secondaryArtifacts``;
* the timeout (``timeoutInMinutes``, emulated time): the phase in progress is
  TIMED_OUT ("BUILD_TIMED_OUT"), the build TIMED_OUT; StopBuild: the phase in
  progress STOPPED, the build STOPPED; the container goes either way;
* privileged builds get the host engine's socket (``/var/run/docker.sock``
  mounted: no Docker-in-Docker);
* the metrics ("CodeBuild CloudWatch metrics", "CodeBuild CloudWatch dimensions"),
  once a build completes, in AWS/CodeBuild for the account (no dimension), the
  ProjectName and the BuildId, BuildNumber, ProjectName: Builds, SucceededBuilds or
  FailedBuilds (failed or timed out; a stopped build counts in neither), Duration
  and each phase's duration (SubmittedDuration ... FinalizingDuration); a build
  stopped before the engine took it publishes none;
* test reports: each report group of the buildspec's ``reports`` (JUNITXML files,
  ``files``, ``base-directory``) gets a report in UPLOAD_ARTIFACTS, its test cases
  readable with DescribeTestCases (``patches/codebuild_reports.py``), the report's
  ARN in the build's ``reportArns``; a group named by name is the project's
  ``<project>-<name>``, created if missing.

Left out (later slices): report formats but JUnit XML, code coverage reports,
secondary sources, batch builds, caches, VPC configuration, ``run-as``,
``runtime-versions``, ``on-failure`` RETRY, ``git-credential-helper``, proxies,
the queued timeout and a limit on concurrent builds (every build is taken at the
engine's next round), IAM checks on what CodeBuild itself reads and writes for the
build (the engine reads parameters, secrets, sources and buckets of the build's
account and writes its logs and artifacts as the service role would if allowed; the
calls the build's commands make with the service role's credentials are authorized by
``patches/iam_session_auth.py``), functions and unexported settings of the shell from one
command to the next (every variable a command sets is exported to the programs it
starts). The context messages of a stopped or timed-out phase, of
a pull or a source that fails, are ours where CodeBuild documents none.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
import json
import logging
import os
import shlex
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deployer.emulator.scheduler import BACKEND_LOCK, Scheduler

log = logging.getLogger(__name__)

LABEL_BUILD = "io.deployer.codebuild-build"
#: Real seconds between two rounds (builds are taken at the next one).
ROUND_S = 1.0
DEFAULT_ROOT = "/codebuild/output"
DOCKER_SOCKET = "/var/run/docker.sock"
SHELLS = {"sh": "sh", "/bin/sh": "sh", "bash": "bash", "/bin/bash": "bash"}
COMMAND_PHASES = ("INSTALL", "PRE_BUILD", "BUILD", "POST_BUILD")
BUILDSPEC_KEYS = {"INSTALL": "install", "PRE_BUILD": "pre_build", "BUILD": "build",
                  "POST_BUILD": "post_build"}  # fmt: skip
TIMED_OUT = ("BUILD_TIMED_OUT", "Build has timed out. ")
STOPPED = ("BUILD_STOPPED", "Build was stopped. ")
#: The metric of each phase's duration (CodeBuild CloudWatch metrics).
PHASE_METRICS = {
    "SUBMITTED": "SubmittedDuration", "QUEUED": "QueuedDuration",
    "PROVISIONING": "ProvisioningDuration", "DOWNLOAD_SOURCE": "DownloadSourceDuration",
    "INSTALL": "InstallDuration", "PRE_BUILD": "PreBuildDuration", "BUILD": "BuildDuration",
    "POST_BUILD": "PostBuildDuration", "UPLOAD_ARTIFACTS": "UploadArtifactsDuration",
    "FINALIZING": "FinalizingDuration",
}  # fmt: skip
#: The status a Docker call that ran out of time answers with (as timeout(1) does).
TIMEOUT_STATUS = 124

Docker = Callable[..., subprocess.CompletedProcess[str]]


class PhaseError(Exception):
    """A phase fails with this context (statusCode, message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Interrupted(Exception):
    """The build was stopped or timed out: ``status`` STOPPED or TIMED_OUT."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


@dataclass
class Run:
    """One build being run, what it needs outside the lock."""

    account: str
    region: str
    build_id: str
    arn: str
    project: str
    build: dict[str, Any]  # a snapshot taken under the lock
    deadline: float
    host_dir: Path
    base: str  # the container's view of host_dir
    container: str = ""
    shell: str = "sh"
    environment: dict[str, str] = field(default_factory=dict)
    succeeding: bool = True
    lines: list[tuple[float, str]] = field(default_factory=list)
    #: Values read from Parameter Store and Secrets Manager: masked in the logs.
    secrets: set[str] = field(default_factory=set)

    @property
    def uuid(self) -> str:
        return self.build_id.split(":", 1)[1]

    @property
    def src(self) -> str:
        return f"{self.base}/src"

    @property
    def host_src(self) -> Path:
        return self.host_dir / "src"

    @property
    def state(self) -> str:
        return f"{self.base}/.codebuild"

    @property
    def host_state(self) -> Path:
        return self.host_dir / ".codebuild"


class CodeBuildEngine:
    """The engine (see the module docstring)."""

    name = "codebuild"

    def __init__(
        self,
        owner: str,
        work_dir: Path,
        docker_config: Path,
        *,
        port: int | None = None,
        docker: Docker | None = None,
        lock: Any = BACKEND_LOCK,
        issue_token: Callable[[str, str], str] | None = None,
        container_root: str | None = DEFAULT_ROOT,
    ) -> None:
        self.owner = owner
        self.work_dir = work_dir.resolve()  # mounted into containers: absolute
        self.docker_config = docker_config
        self.port = port if port is not None else int(os.environ.get("MOTO_PORT") or 0) or None
        self.docker = _guarded(docker) if docker is not None else _docker
        self.lock = lock
        self.issue_token = issue_token or _issue_token
        #: Where the build folder appears in the container (None: at its host path).
        self.container_root = container_root
        self._scheduler: Scheduler | None = None
        self._runs: dict[str, Run] = {}
        self.threads: list[threading.Thread] = []
        #: registry host -> the role the Docker config is logged in as
        self._logged_in: set[tuple[str, str]] = set()
        self._login_lock = threading.Lock()
        self.completed = 0

    # -- the engine protocol -------------------------------------------------------------
    def start(self, scheduler: Scheduler) -> None:
        from deployer.emulator.patches.codebuild_builds import use_clock

        self._scheduler = scheduler
        use_clock(scheduler.now)
        scheduler.every(ROUND_S * scheduler.time_scale, self.tick, name="codebuild")

    def status(self) -> dict[str, Any]:
        return {"running": sorted(self._runs), "completed": self.completed}

    def _now(self) -> float:
        import time

        return self._scheduler.now() if self._scheduler else time.time()

    def _scale(self) -> float:
        return self._scheduler.time_scale if self._scheduler else 1.0

    def tick(self) -> list[threading.Thread]:
        """Take the builds no engine runs yet, each on a thread of its own; stop the
        containers of builds asked to stop. Returns the threads started."""
        from deployer.emulator.patches.codebuild_builds import CONTROL

        started = []
        with self.lock:
            taken = self._take()
            stopping = [
                r.container
                for arn, r in self._runs.items()
                if r.container and CONTROL.get(arn, {}).get("stop")
            ]
        for ident in stopping:
            self.docker("rm", "--force", ident)
        for run in taken:
            thread = threading.Thread(target=self._execute, args=(run,), name="codebuild",
                                      daemon=True)  # fmt: skip
            self.threads.append(thread)
            started.append(thread)
            thread.start()
        return started

    # -- under the lock ------------------------------------------------------------------------
    def _take(self) -> list[Run]:
        from moto.codebuild.models import codebuild_backends

        from deployer.emulator.patches.codebuild_builds import CONTROL

        runs = []
        now = self._now()
        for account in list(codebuild_backends.keys()):
            for region, backend in list(codebuild_backends[account].items()):
                for builds in list(backend.build_metadata_history.values()):
                    for build in builds:
                        control = CONTROL.get(build["arn"])
                        if build["buildStatus"] != "IN_PROGRESS" or control is None:
                            continue
                        if control["taken"]:
                            continue
                        control["taken"] = True
                        runs.append(self._plan(account, region, build, now))
        return runs

    def _plan(self, account: str, region: str, build: dict[str, Any], now: float) -> Run:
        import copy

        uuid = build["id"].split(":", 1)[1]
        host_dir = self.work_dir / uuid
        base = str(host_dir) if self.container_root is None else (
            f"{self.container_root}/src{int(uuid.replace('-', '')[:7], 16)}"
        )  # fmt: skip
        run = Run(
            account=account,
            region=region,
            build_id=build["id"],
            arn=build["arn"],
            project=build["projectName"],
            build=copy.deepcopy(build),
            deadline=float(build["startTime"]) + 60 * int(build["timeoutInMinutes"]),
            host_dir=host_dir,
            base=base,
        )
        self._runs[build["arn"]] = run
        self._enter(run, "PROVISIONING", now, previous_status="SUCCEEDED")
        return run

    def _build(self, run: Run) -> dict[str, Any]:
        from moto.codebuild.models import codebuild_backends

        backend: Any = codebuild_backends[run.account][run.region]
        found = backend.find_build(run.build_id)
        if found is None:
            raise Interrupted("STOPPED")  # the project went with its builds
        return found  # type: ignore[no-any-return]

    def _enter(
        self, run: Run, phase: str, now: float, previous_status: str | None = None,
        context: tuple[str, str] = ("", ""),
    ) -> None:  # fmt: skip
        """Close the phase in progress (with ``previous_status``) and start ``phase``."""
        from deployer.emulator.patches.codebuild_builds import close_phase

        build = self._build(run)
        last = build["phases"][-1]
        if "phaseStatus" not in last and previous_status is not None:
            close_phase(last, previous_status, now, context)
        build["phases"].append({"phaseType": phase, "startTime": now})
        build["currentPhase"] = phase
        run.lines.append((now, f"Entering phase {phase}"))

    # -- the run, on its thread ------------------------------------------------------------------
    def _execute(self, run: Run) -> None:
        status = "FAILED"
        try:
            status = self._phases(run)
        except Interrupted as stop:
            status = stop.status
            self._interrupt(run, stop.status)
        except Exception:
            log.exception("codebuild: build %s failed in the engine", run.build_id)
            with self.lock:
                self._close(run, "FAULT", ("CLIENT_ERROR", "the emulator's engine failed"))
                self._finish(run, "FAULT")
        finally:
            if run.container:
                self.docker("rm", "--force", run.container)
            shutil.rmtree(run.host_dir, ignore_errors=True)
            self._runs.pop(run.arn, None)
            self.completed += 1
            log.info("codebuild: %s %s", run.build_id, status)

    def _phases(self, run: Run) -> str:
        ok = True
        try:
            self._provision(run)
            self._next(run, "DOWNLOAD_SOURCE", "SUCCEEDED")
            spec = self._download(run)
        except PhaseError as error:
            self._fail_to_finalizing(run, error)
            return "FAILED"
        previous = "SUCCEEDED"
        phases = spec.get("phases") or {}
        skip_to_post = False
        for phase in COMMAND_PHASES:
            if skip_to_post and phase != "POST_BUILD":
                continue
            self._next(run, phase, previous)
            block = phases.get(BUILDSPEC_KEYS[phase]) or {}
            failure = self._commands(run, block)
            if failure is None:
                previous = "SUCCEEDED"
                continue
            ok = False
            run.succeeding = False
            self._fail_phase(run, failure)
            previous = ""
            if block.get("on-failure", "ABORT") == "CONTINUE":
                continue
            if phase in ("INSTALL", "PRE_BUILD"):
                self._exported(run, spec)
                self._next(run, "FINALIZING", None)
                return self._end(run, "FAILED")
            if phase == "BUILD":
                skip_to_post = True
        self._exported(run, spec)
        self._next(run, "UPLOAD_ARTIFACTS", previous or None)
        self._reports(run, spec)
        try:
            self._upload(run, spec)
        except PhaseError as error:
            ok = False
            self._fail_phase(run, error)
            self._next(run, "FINALIZING", None)
            return self._end(run, "FAILED")
        self._next(run, "FINALIZING", "SUCCEEDED")
        return self._end(run, "SUCCEEDED" if ok else "FAILED")

    def _next(self, run: Run, phase: str, previous: str | None) -> None:
        """Close the phase in progress (unless closed) and enter ``phase``; a stop or a
        timeout found then ends the build in that phase."""
        with self.lock:
            self._enter(run, phase, self._now(), previous)
        self._ship(run)
        if phase != "FINALIZING":
            self._check(run)

    def _fail_phase(self, run: Run, error: PhaseError) -> None:
        with self.lock:
            phase = self._close(run, "FAILED", (error.code, error.message))
        run.lines.append((self._now(), f"Phase complete: {phase} State: FAILED"))
        run.lines.append(
            (self._now(), f"Phase context status code: {error.code} Message: {error.message}")
        )

    def _fail_to_finalizing(self, run: Run, error: PhaseError) -> None:
        self._fail_phase(run, error)
        self._next(run, "FINALIZING", None)
        self._end(run, "FAILED")

    def _close(self, run: Run, status: str, context: tuple[str, str] = ("", "")) -> str:
        from deployer.emulator.patches.codebuild_builds import close_phase

        build = self._build(run)
        last = build["phases"][-1]
        if "phaseStatus" not in last:
            close_phase(last, status, self._now(), context)
        return str(last["phaseType"])

    def _end(self, run: Run, status: str) -> str:
        with self.lock:
            self._close(run, "SUCCEEDED")
            self._finish(run, status)
        self._ship(run)
        return status

    def _finish(self, run: Run, status: str) -> None:
        from deployer.emulator.patches.codebuild_builds import finish

        build = self._build(run)
        finish(build, status, self._now())
        run.lines.append((self._now(), f"Phase complete: COMPLETED State: {status}"))
        self._publish(run, build)

    def _publish(self, run: Run, build: dict[str, Any]) -> None:
        """Under the lock: the build's metrics (AWS/CodeBuild), for the account, the
        project, and the build (BuildId, BuildNumber, ProjectName)."""
        from moto.cloudwatch.models import cloudwatch_backends

        stamp = datetime.datetime.fromtimestamp(self._now(), datetime.UTC).replace(tzinfo=None)
        values: list[tuple[str, float, str]] = [("Builds", 1, "Count")]
        if build["buildStatus"] == "SUCCEEDED":
            values.append(("SucceededBuilds", 1, "Count"))
        elif build["buildStatus"] in ("FAILED", "TIMED_OUT"):
            values.append(("FailedBuilds", 1, "Count"))
        values.append(("Duration", float(build["endTime"]) - float(build["startTime"]), "Seconds"))
        for phase in build["phases"]:
            name = PHASE_METRICS.get(phase["phaseType"])
            if name and "durationInSeconds" in phase:
                values.append((name, float(phase["durationInSeconds"]), "Seconds"))
        project = [{"Name": "ProjectName", "Value": run.project}]
        each = [
            {"Name": "BuildId", "Value": run.build_id},
            {"Name": "BuildNumber", "Value": str(build["buildNumber"])},
            *project,
        ]
        data = [
            {"MetricName": name, "Dimensions": dimensions, "Value": value, "Unit": unit,
             "Timestamp": stamp}
            for dimensions in ([], project, each)
            for name, value, unit in values
        ]  # fmt: skip
        cloudwatch_backends[run.account][run.region].put_metric_data("AWS/CodeBuild", data)

    def _interrupt(self, run: Run, status: str) -> None:
        context = TIMED_OUT if status == "TIMED_OUT" else STOPPED
        with self.lock:
            try:
                self._close(run, status, context)
                build = self._build(run)
            except Interrupted:
                return
            build["phases"].append({"phaseType": "FINALIZING", "startTime": self._now()})
            self._close(run, "SUCCEEDED")
            self._finish(run, status)
        self._ship(run)

    def _check(self, run: Run) -> None:
        from deployer.emulator.patches.codebuild_builds import CONTROL

        if CONTROL.get(run.arn, {}).get("stop"):
            raise Interrupted("STOPPED")
        if self._now() >= run.deadline:
            raise Interrupted("TIMED_OUT")

    # -- PROVISIONING ------------------------------------------------------------------------
    def _provision(self, run: Run) -> None:
        image = str(run.build["environment"].get("image") or "")
        role = str(run.build.get("serviceRole") or "")
        config = self._login(image, run.account, role)
        pulled = self.docker("--config", str(config), "pull", image, timeout=600)
        if pulled.returncode != 0:
            reason = (pulled.stderr or pulled.stdout).strip().splitlines()
            detail = reason[-1] if reason else f"docker pull exited {pulled.returncode}"
            raise PhaseError("CLIENT_ERROR", f"Failed to pull image {image}: {detail}")
        with self.lock:
            run.environment.update(self._credentials(run))

    def _login(self, image: str, account: str, role: str) -> Path:
        """Log in to the registry as the service role (SERVICE_ROLE pull credentials), so
        that the repository's policy decides: the Docker configuration of that role (one a
        role, so that builds of different projects at once never pull with each other's
        token), logged in once a registry and role."""
        config = self.docker_config / hashlib.sha256(role.encode()).hexdigest()[:16]
        config.mkdir(parents=True, exist_ok=True)
        host = image.split("/", 1)[0]
        if ".dkr.ecr." not in host:
            return config
        with self._login_lock:
            if (host, role) in self._logged_in:
                return config
            password = self.issue_token(account, role)
            done = self.docker("--config", str(config), "login", "--username",
                               "AWS", "--password-stdin", host, stdin=password)  # fmt: skip
            if done.returncode == 0:
                self._logged_in.add((host, role))
        return config

    def _credentials(self, run: Run) -> dict[str, str]:
        """Under the lock: the service role's credentials, assumed through moto's STS."""
        from moto.sts.models import sts_backends

        role = str(run.build.get("serviceRole") or "")
        partition = "aws-cn" if run.region.startswith("cn-") else "aws"
        role_account = role.split(":")[4] if role.count(":") >= 5 else run.account
        assumed = sts_backends[role_account or run.account][partition].assume_role(
            region_name=run.region,
            role_session_name=f"AWSCodeBuild-{run.uuid}"[:64],
            role_arn=role,
            policy="",
            duration=max(int(run.build["timeoutInMinutes"]) * 60 + 900, 900),
            external_id="",
        )
        return {
            "AWS_ACCESS_KEY_ID": assumed.access_key_id,
            "AWS_SECRET_ACCESS_KEY": assumed.secret_access_key,
            "AWS_SESSION_TOKEN": assumed.session_token,
        }

    # -- DOWNLOAD_SOURCE -----------------------------------------------------------------------
    def _download(self, run: Run) -> dict[str, Any]:
        run.host_src.mkdir(parents=True, exist_ok=True)
        run.host_state.mkdir(parents=True, exist_ok=True)
        source = run.build.get("source") or {}
        kind = str(source.get("type") or "NO_SOURCE")
        resolved = ""
        if kind in ("S3", "CODEPIPELINE"):
            location = str(source.get("location") or "")
            if not location:
                raise PhaseError("CLIENT_ERROR", f"no source location for a {kind} source")
            with self.lock:
                data, resolved = self._s3_read(run, location)
            if kind == "CODEPIPELINE":  # the revision the pipeline's source action gave
                resolved = str(run.build.get("sourceVersion") or "")
            _unzip(data, run.host_src)
        elif kind == "CODECOMMIT":
            with self.lock:
                resolved, files = self._codecommit(run, str(source.get("location") or ""))
            _write_tree(files, run.host_src)
        elif kind != "NO_SOURCE":
            raise PhaseError("CLIENT_ERROR", f"source type {kind} is not run by the emulator")
        if resolved:
            with self.lock:
                self._build(run)["resolvedSourceVersion"] = resolved
        spec = self._buildspec(run, str(source.get("buildspec") or ""))
        with self.lock:
            variables = self._variables(run, spec)
        run.environment.update(variables)
        run.environment.update(self._codebuild_variables(run, resolved))
        self._start_container(run, spec)
        return spec

    def _s3_read(self, run: Run, location: str) -> tuple[bytes, str]:
        from moto.s3.models import s3_backends

        bucket, _, key = _s3_location(location).partition("/")
        try:
            found = s3_backends[run.account]["aws"].get_object(bucket, key)
        except Exception as exc:
            raise PhaseError("CLIENT_ERROR", f"{type(exc).__name__}: {location}") from exc
        if found is None:
            raise PhaseError("CLIENT_ERROR", f"NoSuchKey: {location}")
        version = str(getattr(found, "version_id", "") or "")
        return bytes(found.value), "" if version == "null" else version

    def _codecommit(self, run: Run, location: str) -> tuple[str, dict[str, tuple[str, bytes]]]:
        from moto.codecommit.models import codecommit_backends

        from deployer.emulator.patches.codecommit_commits import read_tree

        repository = location.rstrip("/").rsplit("/", 1)[-1]
        version = run.build.get("sourceVersion") or None
        try:
            return read_tree(codecommit_backends[run.account][run.region], repository, version)
        except Exception as exc:
            message = getattr(exc, "message", None) or str(exc)
            raise PhaseError("CLIENT_ERROR", f"{type(exc).__name__}: {message}") from exc

    def _buildspec(self, run: Run, given: str) -> dict[str, Any]:
        import yaml

        text: str | None = None
        path = "buildspec.yml"
        if given.startswith("arn:aws:s3:::"):
            with self.lock:
                data, _ = self._s3_read(run, given)
            text = data.decode("utf-8", "replace")
        elif given:
            try:
                inline = yaml.safe_load(given)
            except yaml.YAMLError:
                inline = None
                text = given if "\n" in given else None
            if isinstance(inline, dict):
                text = given
            elif text is None:
                path = given
        if text is None:
            file = run.host_src / path
            if not file.is_file():
                raise PhaseError(
                    "YAML_FILE_ERROR", f"stat {run.src}/{path}: no such file or directory"
                )
            text = file.read_text(errors="replace")
        try:
            spec = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise PhaseError("YAML_FILE_ERROR", _yaml_message(exc)) from exc
        return _validate(spec)

    def _variables(self, run: Run, spec: dict[str, Any]) -> dict[str, str]:
        """Under the lock: the build's variables, lowest precedence first."""
        env = spec.get("env") or {}
        values: dict[str, str] = {}
        for name, value in (env.get("variables") or {}).items():
            values[str(name)] = _text(value)
        for name, value in (env.get("parameter-store") or {}).items():
            values[str(name)] = self._parameter(run, str(value))
        for name, value in (env.get("secrets-manager") or {}).items():
            values[str(name)] = self._secret(run, str(value))
        for variable in run.build["environment"].get("environmentVariables") or []:
            kind = variable.get("type") or "PLAINTEXT"
            value = str(variable.get("value", ""))
            if kind == "PARAMETER_STORE":
                value = self._parameter(run, value)
            elif kind == "SECRETS_MANAGER":
                value = self._secret(run, value)
            values[str(variable["name"])] = value
        return {k: v for k, v in values.items() if not k.startswith("CODEBUILD_")}

    def _parameter(self, run: Run, name: str) -> str:
        from moto.ssm.models import ssm_backends

        try:
            parameter = ssm_backends[run.account][run.region].get_parameter(name)
        except Exception:
            parameter = None
        if parameter is None:
            raise PhaseError("Decrypted Variables Error", f"parameter does not exist: {name}")
        value = str(parameter.decrypt(parameter.value))
        run.secrets.add(value)
        return value

    def _secret(self, run: Run, reference: str) -> str:
        from moto.secretsmanager.models import secretsmanager_backends

        parts = reference.split(":")
        count = 7 if reference.startswith("arn:") else 1
        secret_id = ":".join(parts[:count])
        json_key, stage, version = ([*parts[count:], "", "", ""])[:3]
        backend = secretsmanager_backends[run.account][run.region]
        try:
            found = backend.get_secret_value(secret_id, version, stage)
        except Exception as exc:
            message = getattr(exc, "message", None) or str(exc)
            raise PhaseError("Secrets Manager Error", f"{message} ({secret_id})") from exc
        value = found.get("SecretString")
        if value is None:
            raise PhaseError("Secrets Manager Error", f"secret {secret_id} has no SecretString")
        if not json_key:
            run.secrets.add(str(value))
            return str(value)
        try:
            document = json.loads(value)
            run.secrets.add(_text(document[json_key]))
            return _text(document[json_key])
        except (ValueError, KeyError, TypeError) as exc:
            raise PhaseError(
                "Secrets Manager Error", f"json key {json_key} not found in {secret_id}"
            ) from exc

    def _codebuild_variables(self, run: Run, resolved: str) -> dict[str, str]:
        build = run.build
        source = build.get("source") or {}
        logs = build.get("logs") or {}
        found = {
            "CODEBUILD_BUILD_ID": run.build_id,
            "CODEBUILD_BUILD_ARN": run.arn,
            "CODEBUILD_BUILD_NUMBER": str(build["buildNumber"]),
            "CODEBUILD_BUILD_IMAGE": str(build["environment"].get("image") or ""),
            "CODEBUILD_INITIATOR": str(build.get("initiator") or ""),
            "CODEBUILD_KMS_KEY_ID": str(build.get("encryptionKey") or ""),
            "CODEBUILD_LOG_PATH": str(logs.get("streamName") or run.uuid),
            "CODEBUILD_SOURCE_VERSION": str(build.get("sourceVersion") or resolved),
            "CODEBUILD_RESOLVED_SOURCE_VERSION": resolved,
            "CODEBUILD_SOURCE_REPO_URL": str(source.get("location") or ""),
            "CODEBUILD_SRC_DIR": run.src,
            "CODEBUILD_START_TIME": str(int(float(build["startTime"]) * 1000)),
            "AWS_REGION": run.region,
            "AWS_DEFAULT_REGION": run.region,
        }
        if self.port:
            found["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{self.port}"
        return found

    def _start_container(self, run: Run, spec: dict[str, Any]) -> None:
        shell = str((spec.get("env") or {}).get("shell") or "sh")
        run.shell = SHELLS[shell]
        image = str(run.build["environment"].get("image") or "")
        argv = ["run", "--detach", "--network", "host", "--label", _owner_label(self.owner),
                "--label", f"{LABEL_BUILD}={run.arn}", "--name", f"codebuild-{run.uuid}",
                "--volume", f"{run.host_dir}:{run.base}", "--workdir", run.src, "--user", "root",
                "--entrypoint", "/bin/sh"]  # fmt: skip
        if run.build["environment"].get("privilegedMode"):
            argv += ["--volume", f"{DOCKER_SOCKET}:{DOCKER_SOCKET}"]
        for name in run.environment:
            argv += ["--env", name]  # the value comes from the client's environment
        argv += [image, "-c", "trap 'exit 0' TERM; while :; do sleep 3600; done"]
        ran = self.docker(*argv, env=dict(run.environment))
        if ran.returncode != 0:
            raise PhaseError(
                "CLIENT_ERROR", f"CannotStartContainerError: {ran.stderr.strip()[-300:]}"
            )
        run.container = ran.stdout.strip()

    # -- INSTALL ... POST_BUILD ------------------------------------------------------------------
    def _commands(self, run: Run, block: dict[str, Any]) -> PhaseError | None:
        failure: PhaseError | None = None
        for command in block.get("commands") or []:
            failure = self._command(run, str(command))
            if failure is not None:
                break
        for command in block.get("finally") or []:
            failed = self._command(run, str(command))
            failure = failure or failed
            if failed is not None:
                break
        return failure

    def _command(self, run: Run, command: str) -> PhaseError | None:
        self._check(run)
        run.lines.append((self._now(), f"Running command {command}"))
        self._ship(run)
        remaining = (run.deadline - self._now()) / self._scale()
        done = self.docker("exec", run.container, run.shell, "-c", self._wrapper(run, command),
                           timeout=max(remaining, 0.1))  # fmt: skip
        now = self._now()
        for line in (done.stdout or "").splitlines():
            run.lines.append((now, line))
        if done.returncode == TIMEOUT_STATUS and now >= run.deadline - self._scale():
            raise Interrupted("TIMED_OUT")  # the wait for the command ran out with the build
        self._check(run)
        if done.returncode == 0:
            return None
        run.lines.append(
            (now, f"Command did not exit successfully {command} exit status {done.returncode}")
        )
        return PhaseError(
            "COMMAND_EXECUTION_ERROR",
            f"Error while executing command: {command}. Reason: exit status {done.returncode}",
        )

    def _wrapper(self, run: Run, command: str) -> str:
        """One command in the state the commands before left (variables, folder), the
        state it leaves saved for the next; its output merged, its exit status kept."""
        state = shlex.quote(run.state)
        return "\n".join(
            [
                "exec 2>&1",
                f"if [ -f {state}/env ]; then . {state}/env; fi",
                f'cd "$(cat {state}/pwd 2>/dev/null || echo {shlex.quote(run.src)})"',
                f"export CODEBUILD_BUILD_SUCCEEDING={1 if run.succeeding else 0}",
                "set -a",
                command,
                "set -- $?",  # the status, kept in no variable (all of them are exported)
                "set +a",
                f"export -p > {state}/env.new && mv {state}/env.new {state}/env",
                f"env -0 > {state}/environ 2>/dev/null || true",
                f"pwd > {state}/pwd",
                "exit $1",
            ]
        )

    def _exported(self, run: Run, spec: dict[str, Any]) -> None:
        names = [str(n) for n in (spec.get("env") or {}).get("exported-variables") or []]
        if not names:
            return
        environ: dict[str, str] = {}
        try:
            raw = (run.host_state / "environ").read_bytes()
        except OSError:
            raw = b""
        for entry in raw.split(b"\0"):
            name, sep, value = entry.decode("utf-8", "replace").partition("=")
            if sep:
                environ[name] = value
        with self.lock:
            self._build(run)["exportedEnvironmentVariables"] = [
                {"name": n, "value": environ.get(n, run.environment.get(n, ""))} for n in names
            ]

    # -- UPLOAD_ARTIFACTS ------------------------------------------------------------------------
    def _reports(self, run: Run, spec: dict[str, Any]) -> None:
        """The buildspec's ``reports``: one test report a report group, from its JUnit XML
        files (a report that cannot be made is a line in the log, as CodeBuild skips it)."""
        from moto.codebuild.models import codebuild_backends

        from deployer.emulator.patches.codebuild_reports import add_report, report_group

        for name, section in (spec.get("reports") or {}).items():
            section = section or {}
            now = self._now()
            kind = str(section.get("file-format") or "JUNITXML")
            if kind != "JUNITXML":
                run.lines.append((now, f"Report {name}: file format {kind} is not read here"))
                continue
            files = _collect(run.host_src, section)
            if not files:
                run.lines.append((now, f"Report {name}: no test report files found"))
                continue
            cases: list[dict[str, Any]] = []
            for path in files.values():
                raw = path.relative_to(run.host_src).as_posix()
                try:
                    cases += _junit(path, raw)
                except Exception as exc:
                    run.lines.append((now, f"Report {name}: cannot parse {raw}: {exc}"))
            with self.lock:
                backend = codebuild_backends[run.account][run.region]
                try:
                    group = report_group(backend, str(name), run.project, now)
                except KeyError:
                    run.lines.append((now, f"Report {name}: no such report group"))
                    continue
                report = add_report(backend, group, run.arn, cases, now)
                self._build(run).setdefault("reportArns", []).append(report["arn"])
            run.lines.append((now, f"Report {name}: {report['arn']} ({len(cases)} test cases)"))

    def _upload(self, run: Run, spec: dict[str, Any]) -> None:
        """The primary artifact, then each secondary one (its ``artifactIdentifier``
        names its section under the buildspec's ``secondary-artifacts``)."""
        section = spec.get("artifacts") or {}
        primary = self._upload_one(run, run.build.get("artifacts") or {}, section)
        with self.lock:
            self._build(run)["artifacts"] = primary
        secondary = []
        for artifacts in run.build.get("secondaryArtifacts") or []:
            identifier = str(artifacts.get("artifactIdentifier") or "")
            part = (section.get("secondary-artifacts") or {}).get(identifier)
            if part is None:
                raise PhaseError(
                    "CLIENT_ERROR",
                    f"no definition for secondary artifact {identifier} in buildspec",
                )
            uploaded = self._upload_one(run, artifacts, part)
            secondary.append({**uploaded, "artifactIdentifier": identifier})
        if secondary:
            with self.lock:
                self._build(run)["secondaryArtifacts"] = secondary

    def _upload_one(
        self, run: Run, artifacts: dict[str, Any], section: dict[str, Any]
    ) -> dict[str, Any]:
        """One artifact to S3 per its project settings; its BuildArtifacts shape."""
        kind = str(artifacts.get("type") or "NO_ARTIFACTS")
        if kind == "NO_ARTIFACTS" or not section.get("files"):
            return {"location": ""}
        files = _collect(run.host_src, section)
        if not files:
            raise PhaseError("CLIENT_ERROR", "no matching artifact paths found")
        location = str(artifacts.get("location") or "")
        if not location:
            raise PhaseError("CLIENT_ERROR", f"no artifacts location for {kind} artifacts")
        if kind == "S3" and not location.startswith("arn:"):
            name = str(artifacts.get("name") or run.project)
            key = "/".join(
                p.strip("/")
                for p in (
                    str(artifacts.get("path") or ""),
                    run.uuid if artifacts.get("namespaceType") == "BUILD_ID" else "",
                    name,
                )
                if p.strip("/")
            )
            location = f"{location}/{key}"
        bucket, _, key = _s3_location(location).partition("/")
        objects: dict[str, bytes]
        if kind == "S3" and artifacts.get("packaging") != "ZIP":  # NONE: CodeBuild's default
            objects = {f"{key}/{rel}": path.read_bytes() for rel, path in files.items()}
        else:
            objects = {key: _zip(files)}
        with self.lock:
            from moto.s3.models import s3_backends

            key_arn = self._artifact_key(run)
            backend = s3_backends[run.account]["aws"]
            try:
                for object_key, data in objects.items():
                    backend.put_object(
                        bucket, object_key, data, encryption="aws:kms", kms_key_id=key_arn
                    )
            except Exception as exc:
                message = getattr(exc, "message", None) or str(exc)
                raise PhaseError("CLIENT_ERROR", f"{type(exc).__name__}: {message}") from exc
        data = objects.get(key, b"")
        return {
            "location": f"arn:aws:s3:::{bucket}/{key}",
            "md5sum": hashlib.md5(data).hexdigest() if data else "",
            "sha256sum": hashlib.sha256(data).hexdigest() if data else "",
        }

    def _artifact_key(self, run: Run) -> str:
        """Under the lock: the ARN of the key build artifacts are encrypted with, the
        project's ``encryptionKey`` (else the account's aws/s3 key); a key that does not
        exist or is not enabled fails UPLOAD_ARTIFACTS (KMS's words)."""
        from deployer.emulator import authz

        reference = str(run.build.get("encryptionKey") or "alias/aws/s3")
        try:
            key = authz.kms_key(reference, run.account, run.region)
            authz.key_usable(key)
        except authz.KeyNotFound as missing:
            raise PhaseError("CLIENT_ERROR", f"KMS.NotFoundException: {missing.message}") from None
        except authz.KeyUnusable as unusable:
            raise PhaseError("CLIENT_ERROR", f"KMS.{unusable.code}: {unusable.message}") from None
        return key.arn

    # -- logs --------------------------------------------------------------------------------------
    def _ship(self, run: Run) -> None:
        """The lines so far to the build's log group and stream (created if missing)."""
        from moto.logs.models import logs_backends

        lines, run.lines = run.lines, []
        logs = run.build.get("logs") or {}
        if not lines or not logs.get("groupName"):
            return
        events = [
            {"timestamp": int(stamp * 1000), "message": _mask(_container_line(stamp, text), run)}
            for stamp, text in lines
        ]
        with self.lock:
            backend = logs_backends[run.account][run.region]
            group = backend.groups.get(logs["groupName"])
            if group is None:
                backend.create_log_group(logs["groupName"], {})
                group = backend.groups[logs["groupName"]]
            if logs["streamName"] not in group.streams:
                group.create_log_stream(logs["streamName"])
            group.put_log_events(logs["streamName"], events)


# -- helpers -------------------------------------------------------------------------------------


def _mask(text: str, run: Run) -> str:
    """A log line with the values of the build's parameters and secrets as ``***``."""
    for secret in sorted(run.secrets, key=len, reverse=True):
        if len(secret) >= 3:  # as CodeBuild, no masking of a value too short to be one
            text = text.replace(secret, "***")
    return text


def _container_line(stamp: float, text: str) -> str:
    if text.startswith(("Entering phase", "Running command", "Phase c", "Command did not")):
        when = datetime.datetime.fromtimestamp(stamp, datetime.UTC)
        return f"[Container] {when:%Y/%m/%d %H:%M:%S.%f} {text}"
    return text


def _validate(spec: Any) -> dict[str, Any]:
    """A parsed buildspec, or YAML_FILE_ERROR for what CodeBuild refuses."""

    def refuse(message: str) -> PhaseError:
        return PhaseError("YAML_FILE_ERROR", message)

    if not isinstance(spec, dict):
        raise refuse("Expected the buildspec to be a YAML mapping")
    if str(spec.get("version")) not in ("0.2", "0.1"):
        raise refuse(f"Unknown runtime version {spec.get('version')!r}: the version must be 0.2")
    env = spec.get("env") or {}
    if not isinstance(env, dict):
        raise refuse("Expected env to be a mapping")
    shell = env.get("shell")
    if shell is not None and str(shell) not in SHELLS:
        raise refuse(f"Unknown shell type {shell}")
    for key in ("variables", "parameter-store", "secrets-manager"):
        if not isinstance(env.get(key) or {}, dict):
            raise refuse(f"Expected env/{key} to be a mapping")
    if not isinstance(env.get("exported-variables") or [], list):
        raise refuse("Expected env/exported-variables to be a list")
    phases = spec.get("phases") or {}
    if not isinstance(phases, dict):
        raise refuse("Expected phases to be a mapping")
    for name, block in phases.items():
        if name not in BUILDSPEC_KEYS.values():
            raise refuse(f"Unknown phase name {name}")
        if not isinstance(block or {}, dict):
            raise refuse(f"Expected phases/{name} to be a mapping")
        block = block or {}
        if block.get("on-failure", "ABORT") not in ("ABORT", "CONTINUE"):
            raise refuse(f"Unknown on-failure value {block['on-failure']} in phase {name}")
        for part in ("commands", "finally"):
            commands = block.get(part) or []
            if not isinstance(commands, list):
                raise refuse(f"Expected {part} in phase {name} to be a list")
            for index, command in enumerate(commands):
                if isinstance(command, dict | list):
                    raise refuse(
                        f"Expected Commands[{index}] to be of string type: found subkeys "
                        f"instead in phase {name}"
                    )
    for name, section in (spec.get("reports") or {}).items():
        if not isinstance(section, dict) or not isinstance(section.get("files") or [], list):
            raise refuse(f"Expected reports/{name} to be a mapping with a list of files")
    artifacts = spec.get("artifacts") or {}
    if not isinstance(artifacts, dict) or not isinstance(artifacts.get("files") or [], list):
        raise refuse("Expected artifacts/files to be a list")
    return spec


def _junit(path: Path, raw: str) -> list[dict[str, Any]]:
    """The test cases of a JUnit XML file, as CodeBuild's TestCase shapes."""
    import xml.etree.ElementTree as ElementTree

    root = ElementTree.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    cases = []
    for suite in suites:
        for case in suite.findall("testcase"):
            status, message = "SUCCEEDED", ""
            for tag, outcome in (("failure", "FAILED"), ("error", "ERROR"), ("skipped", "SKIPPED")):
                found = case.find(tag)
                if found is not None:
                    status = outcome
                    message = (found.text or "").strip() or found.get("message", "")
                    break
            cases.append(
                {
                    "testRawDataPath": raw,
                    "prefix": case.get("classname", ""),
                    "name": case.get("name", ""),
                    "status": status,
                    "durationInNanoSeconds": int(float(case.get("time") or 0) * 1e9),
                    "message": message,
                    "testSuiteName": suite.get("name", ""),
                }
            )
    return cases


def _yaml_message(exc: Exception) -> str:
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} at line {mark.line + 1}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return "" if value is None else str(value)


def _s3_location(location: str) -> str:
    """``bucket/key`` from ``bucket/key`` or ``arn:aws:s3:::bucket/key``."""
    return location.split(":::", 1)[1] if location.startswith("arn:") else location


def _unzip(data: bytes, target: Path) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise PhaseError("CLIENT_ERROR", "the source is not a zip archive") from exc
    with archive:
        for info in archive.infolist():
            path = (target / info.filename).resolve()
            if not path.is_relative_to(target.resolve()):
                raise PhaseError("CLIENT_ERROR", f"a zip entry leaves the folder: {info.filename}")
            if info.is_dir():
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(archive.read(info))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                path.chmod(mode)


def _write_tree(files: dict[str, tuple[str, bytes]], target: Path) -> None:
    for name, (mode, content) in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if mode == "SYMLINK":
            path.symlink_to(content.decode())
            continue
        path.write_bytes(content)
        path.chmod(0o755 if mode == "EXECUTABLE" else 0o644)


def _collect(src: Path, section: dict[str, Any]) -> dict[str, Path]:
    """The artifact's files (archive name -> file) per the buildspec's ``artifacts``."""
    base = src / str(section.get("base-directory") or "")
    discard = section.get("discard-paths") in (True, "yes", "true")
    found: dict[str, Path] = {}
    for pattern in section.get("files") or []:
        pattern = str(pattern)
        matches = [base / pattern] if (base / pattern).is_file() else list(base.glob(pattern))
        for path in sorted(matches):
            if not path.is_file():
                continue
            relative = path.relative_to(base).as_posix()
            found[path.name if discard else relative] = path
    return found


def _zip(files: dict[str, Path]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in sorted(files.items()):
            archive.write(path, name)
    return buffer.getvalue()


def _owner_label(owner: str) -> str:
    from deployer.emulator.runtime import LABEL

    return f"{LABEL}={owner}"


def _guarded(docker: Docker) -> Docker:
    """``docker`` with a call that times out or cannot run answered as a failed one."""

    def call(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        try:
            return docker(*args, **kwargs)
        except subprocess.TimeoutExpired as exc:
            return subprocess.CompletedProcess(["docker", *args], TIMEOUT_STATUS, "", str(exc))
        except OSError as exc:
            return subprocess.CompletedProcess(["docker", *args], 1, "", str(exc))

    return call


def _docker(
    *args: str,
    timeout: float = 120,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The runtime's Docker CLI, a failure to run it answered as a failed command."""
    from deployer.emulator import runtime

    try:
        return runtime.docker(*args, timeout=timeout, stdin=stdin, env=env)
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(["docker", *args], TIMEOUT_STATUS, "", str(exc))
    except OSError as exc:
        return subprocess.CompletedProcess(["docker", *args], 1, "", str(exc))


def _issue_token(account: str, arn: str) -> str:
    from deployer.emulator.registry import TOKENS

    token, _ = TOKENS.issue(account, arn)
    return base64.b64decode(token).decode().partition(":")[2]
