"""Lambda: Invoke runs the function's package, a Python handler in a container.

moto 5.2.5 runs an invoked function in a public docker-lambda image it pulls from a
registry, which cannot be had here, so no function ever ran: Invoke answered
"error running docker". This patch replaces ``LambdaFunction.invoke`` and reproduces,
after the Lambda developer guide (invoking functions synchronously and
asynchronously, "Lambda function errors in Python", timeouts, "Defined runtime
environment variables", working with Lambda function logs, "Capturing records of
asynchronous invocations") and the Python runtime interface client:

* RequestResponse: the zip is extracted read-only at ``/var/task`` of a container
  (``--read-only``, a ``/tmp`` of the function's ephemeral storage, ``--memory
  <MemorySize>m``, user 993 as Lambda's sandbox user, ``--network host`` so that the
  function reaches the emulator on 127.0.0.1) where ``lambda_runner.py`` imports the
  handler and calls it with the event and a context object. The environment is the
  function's variables, the runtime's reserved ones (``_HANDLER``, ``AWS_REGION``,
  ``AWS_DEFAULT_REGION``, ``AWS_EXECUTION_ENV``, ``AWS_LAMBDA_FUNCTION_NAME``,
  ``..._MEMORY_SIZE``, ``..._VERSION``, ``AWS_LAMBDA_INITIALIZATION_TYPE``,
  ``AWS_LAMBDA_LOG_GROUP_NAME``, ``..._STREAM_NAME``, ``LAMBDA_TASK_ROOT``,
  ``LAMBDA_RUNTIME_DIR``, ``TZ``), the credentials of the function's execution role
  assumed through STS (session name: the function's name) and ``AWS_ENDPOINT_URL``
  naming the emulator; values go to the Docker client's environment (``--env NAME``),
  never onto its command line.
* Results as Lambda answers them: 200 and the handler's JSON result; a handler
  exception as 200 with ``X-Amz-Function-Error: Unhandled`` and ``{errorMessage,
  errorType, requestId, stackTrace}``; an init error by the runtime's type
  (``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``, ...); a timeout as
  ``Sandbox.Timedout``, "RequestId: ID Error: Task timed out after 3.00 seconds",
  with the container killed; a runtime that dies (``Runtime.ExitError``, or
  ``Runtime.OutOfMemory`` when the memory limit killed it). ``X-Amz-Executed-Version``
  names the version run; ``LogType=Tail`` returns the last 4 KB of the log in
  ``X-Amz-Log-Result``. ``DryRun`` answers 204 and runs nothing.
* Logs: ``START RequestId: ID Version: V``, the function's output (stdout and stderr,
  one event a line, an error and its trace in one), the timeout line, ``END`` and
  ``REPORT RequestId: ... Duration: ... Billed Duration: ... Memory Size: ... Max
  Memory Used: ... Init Duration: ...`` into the function's log group (its
  LoggingConfig group, else ``/aws/lambda/NAME``; created when missing, as Lambda
  does), stream ``YYYY/MM/DD/[VERSION]<32 hex>``.
* Event: answered 202 at once and run on a thread of its own. A function error
  (an exception, a timeout, a runtime that dies) is retried per the function's event
  invoke config (default 2 retries), one emulated minute before the first retry and
  two before the second; an event older than its MaximumEventAgeInSeconds (default
  6 hours) is not retried. The outcome's invocation record (version 1.0,
  ``requestContext``, ``requestPayload``, ``responseContext``, ``responsePayload``)
  goes to the OnFailure destination (condition ``RetriesExhausted`` or
  ``EventAgeExceeded``) or the OnSuccess one, when the destination is an SNS topic
  (Publish) or an SQS queue (SendMessage). Retry waits follow the emulator's clock
  (``configure(clock=...)``); without one they pass in real time.

The backend lock: Invoke is served while its request holds the lock; the function is
read and its role assumed under it, the container runs with the lock released (as
``scheduler.released`` does), and the logs are written once it is held again. A caller
that does not hold it (another patch's delivery thread) gets it taken for those parts. An event's
thread takes the lock only to read the function, assume the role, write the logs and
send the record.

Where functions cannot run, Invoke answers 200 with ``X-Amz-Function-Error:
Unhandled`` and ``errorType`` ``Runtime.Unavailable``, saying why and how to mend it:
the emulator runs without its runtime (``--no-runtime``), no Docker engine answers
(``bin/docker-engine``), the image cannot be built (``bin/lambda-image``, which needs
``bin/base-images``' offline base), or the function is not a zip of a ``python3.*``
runtime.

Left out: the image is Debian bookworm's Python 3.11 with a boto3 of the emulator's own
version (``bin/lambda-image``), whatever Python version the function names (3.12 for
the deploy guard); every invocation is a cold start in a new container (no reuse, so
``Init Duration`` is on every REPORT line and one stream holds one invocation);
layers, extensions, the Runtime API, function URLs, VPC settings, X-Ray
(``_X_AMZN_TRACE_ID``), the JSON log format and log levels, SnapStart, concurrency
limits and throttling, response streaming, payload size limits, the deprecated
InvokeAsync API (moto runs it synchronously), dead-letter queues, and destinations
other than SNS and SQS (Lambda, EventBridge, S3: logged, not delivered). A function
variable whose name the Docker client reads itself (``DOCKER_*``) would steer the
client. The engine must be local: the package and the runner are bind mounts.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import math
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deployer.emulator.scheduler import released

from ._util import replace

GAP = (
    "Lambda Invoke runs functions in a public docker-lambda image moto cannot pull here, so "
    "no function runs: Invoke answers 'error running docker' and asynchronous invocations, "
    "retries and destinations never happen."
)

log = logging.getLogger(__name__)

#: The image functions run in (bin/lambda-image builds it on the offline Python base).
IMAGE = "deployer-base/lambda-python:bookworm"
ROOT = Path(__file__).resolve().parents[3]
IMAGE_SCRIPT = ROOT / "bin" / "lambda-image"
RUNNER = Path(__file__).resolve().parents[1] / "lambda_runner.py"
LABEL_FUNCTION = "io.deployer.lambda-function"
#: Lambda's sandbox user and group.
SANDBOX_USER = "993:990"
#: Time the host allows beyond the function's timeout before it kills the container
#: itself: the init phase (10 s on Lambda) and the container's start.
HOST_GRACE_S = 25.0
#: Lambda's waits before the first and the second retry of an asynchronous invocation.
RETRY_DELAYS_S = (60.0, 120.0)
DEFAULT_RETRIES = 2
DEFAULT_MAX_EVENT_AGE_S = 6 * 3600
LOG_TAIL_BYTES = 4096
IMAGE_BUILD_TIMEOUT_S = 1800.0
GET_ENGINE = "start one with bin/docker-engine (as root on Debian), or start Docker yourself"

Docker = Callable[..., subprocess.CompletedProcess[str]]


def _docker(
    *args: str,
    timeout: float = 120.0,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The runtime's Docker CLI; a missing client answered as a failed command, a
    timeout raised (the caller kills the container)."""
    from deployer.emulator import runtime

    try:
        return runtime.docker(*args, timeout=timeout, stdin=stdin, env=env)
    except OSError as exc:
        return subprocess.CompletedProcess(["docker", *args], 127, "", str(exc))


def _build_image() -> tuple[bool, str]:
    """Run bin/lambda-image: (built, the last line it wrote)."""
    try:
        done = subprocess.run(
            [str(IMAGE_SCRIPT)], capture_output=True, text=True,
            timeout=IMAGE_BUILD_TIMEOUT_S, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    lines = (done.stderr or done.stdout).strip().splitlines()
    return done.returncode == 0, lines[-1] if lines else f"exit status {done.returncode}"


@dataclass
class Settings:
    """What the emulator process tells the patch (``configure``)."""

    #: The emulator's port (AWS_ENDPOINT_URL of the functions).
    port: int | None = None
    #: The runtime's owner label value; None: the emulator runs without its runtime.
    owner: str | None = None
    docker: Docker = _docker
    build_image: Callable[[], tuple[bool, str]] = _build_image
    #: The emulator's clock: emulated epoch seconds, and how fast they pass.
    now: Callable[[], float] = time.time
    time_scale: float = 1.0
    lock: Any = None  # None: scheduler.BACKEND_LOCK
    sleep: Callable[[float], None] = time.sleep
    #: Event threads started (tests wait for them).
    threads: list[threading.Thread] = field(default_factory=list)


SETTINGS = Settings()
_image_lock = threading.Lock()


def configure(
    *,
    port: int | None = None,
    owner: str | None = None,
    clock: Any = None,
    docker: Docker | None = None,
    build_image: Callable[[], tuple[bool, str]] | None = None,
    lock: Any = None,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """Set what the emulator process knows: its port, its runtime's owner label (None
    without a runtime), its clock (``now()`` and ``time_scale``)."""
    SETTINGS.port = port
    SETTINGS.owner = owner
    if clock is not None:
        SETTINGS.now = clock.now
        SETTINGS.time_scale = float(clock.time_scale)
    if docker is not None:
        SETTINGS.docker = docker
    if build_image is not None:
        SETTINGS.build_image = build_image
    if lock is not None:
        SETTINGS.lock = lock
    if sleep is not None:
        SETTINGS.sleep = sleep


def _lock() -> Any:
    if SETTINGS.lock is not None:
        return SETTINGS.lock
    from deployer.emulator.scheduler import BACKEND_LOCK

    return BACKEND_LOCK


# ---------------------------------------------------------------------------
# What one invocation needs, read from moto under the lock
# ---------------------------------------------------------------------------
@dataclass
class Job:
    account: str
    region: str
    name: str
    arn: str  # unqualified
    version: str
    handler: str
    runtime: str
    package_type: str
    timeout: int
    memory: int
    ephemeral_mb: int
    role: str
    variables: dict[str, str]
    code: bytes
    log_group: str
    payload: str
    enqueued: float = 0.0  # emulated time (asynchronous invocations)


@dataclass
class Outcome:
    request_id: str
    status: str  # ok | error | init_error | timeout | unavailable | exited
    payload: bytes
    function_error: str | None
    log_stream: str
    events: list[tuple[int, str]]  # (epoch ms, message)

    @property
    def failed(self) -> bool:
        return self.function_error is not None

    def log_text(self) -> str:
        return "".join(message + "\n" for _stamp, message in self.events)


def snapshot(fn: Any, body: Any) -> Job:
    """The function as it is now (call under the lock)."""
    group = (getattr(fn, "logging_config", None) or {}).get("LogGroup") or (
        f"/aws/lambda/{fn.function_name}"
    )
    if isinstance(body, bytes):
        body = body.decode()
    payload = body if isinstance(body, str) else json.dumps(body)
    return Job(
        account=fn.account_id,
        region=fn.region,
        name=fn.function_name,
        arn=str(fn.function_arn).split(":$LATEST")[0],
        version=str(fn.version),
        handler=str(fn.handler or ""),
        runtime=str(fn.run_time or ""),
        package_type=str(getattr(fn, "package_type", "Zip") or "Zip"),
        timeout=int(fn.timeout or 3),
        memory=int(fn.memory_size or 128),
        ephemeral_mb=int(getattr(fn, "ephemeral_storage", 512) or 512),
        role=str(fn.role),
        variables={str(k): str(v) for k, v in (fn.environment_vars or {}).items()},
        code=bytes(getattr(fn, "code_bytes", b"") or b""),
        log_group=group,
        payload=payload or "{}",
    )


def assume_role(job: Job) -> dict[str, str]:
    """The execution role's credentials, assumed through moto's STS (under the lock)."""
    from moto.sts.models import sts_backends

    partition = "aws-cn" if job.region.startswith("cn-") else "aws"
    role_account = job.role.split(":")[4] if job.role.count(":") >= 5 else job.account
    sts = sts_backends[role_account or job.account][partition]
    assumed = sts.assume_role(
        region_name=job.region,
        role_session_name=job.name[:64],
        role_arn=job.role,
        policy="",
        duration=max(job.timeout + 900, 900),
        external_id="",
    )
    return {
        "AWS_ACCESS_KEY_ID": assumed.access_key_id,
        "AWS_SECRET_ACCESS_KEY": assumed.secret_access_key,
        "AWS_SESSION_TOKEN": assumed.session_token,
    }


# ---------------------------------------------------------------------------
# The run, outside the lock
# ---------------------------------------------------------------------------
def _stamp_ms() -> int:
    return int(time.time() * 1000)


def _unavailable(job: Job, request_id: str, stream: str, reason: str) -> Outcome:
    error = {"errorMessage": reason, "errorType": "Runtime.Unavailable", "requestId": request_id}
    now = _stamp_ms()
    return Outcome(
        request_id, "unavailable", json.dumps(error).encode(), "Unhandled", stream,
        [(now, f"START RequestId: {request_id} Version: {job.version}"),
         (now, f"[ERROR] Runtime.Unavailable: {reason}"),
         (now, f"END RequestId: {request_id}")],
    )  # fmt: skip


def _ensure_image(docker: Docker) -> str | None:
    """None when the image is there (built on first need), else why it is not."""
    with _image_lock:
        found = _call(docker, "image", "inspect", "--format", "{{.Id}}", IMAGE, timeout=30)
        if found.returncode == 0:
            return None
        why = (found.stderr or found.stdout).strip().splitlines()
        detail = why[-1] if why else f"docker image inspect exited {found.returncode}"
        if "no such image" not in detail.lower():
            return f"no Docker engine answers ({detail}): {GET_ENGINE}"
        log.info("lambda: building %s with %s (first use)", IMAGE, IMAGE_SCRIPT)
        built, last = SETTINGS.build_image()
        if not built:
            return (
                f"the image {IMAGE} is missing and {IMAGE_SCRIPT.relative_to(ROOT)} could not "
                f"build it ({last}); run bin/base-images, then bin/lambda-image"
            )
        return None


def _environment(job: Job, credentials: dict[str, str], stream: str) -> dict[str, str]:
    env = dict(job.variables)
    env.update(
        {
            "_HANDLER": job.handler,
            "AWS_REGION": job.region,
            "AWS_DEFAULT_REGION": job.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{job.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": job.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(job.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": job.version,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": job.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "LAMBDA_TASK_ROOT": "/var/task",
            "LAMBDA_RUNTIME_DIR": "/var/runtime",
            "PYTHONPATH": "/var/runtime",
            "TZ": ":UTC",
            **credentials,
        }
    )
    if SETTINGS.port:
        env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{SETTINGS.port}"
    return env


def _extract(code: bytes) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="deployer-lambda-"))
    with zipfile.ZipFile(_bytes_io(code)) as archive:
        archive.extractall(folder)
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # readable by the sandbox user
    return folder


def _bytes_io(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


def execute(job: Job, credentials: dict[str, str]) -> Outcome:
    """Run one invocation in a container; never raises for the function's failures."""
    request_id = str(uuid.uuid4())
    today = datetime.datetime.now(datetime.UTC)
    stream = f"{today:%Y/%m/%d}/[{job.version}]{uuid.uuid4().hex}"
    if SETTINGS.owner is None:
        return _unavailable(
            job, request_id, stream,
            "the emulator runs without its runtime (--no-runtime or DEPLOYER_EMULATOR_RUNTIME=0), "
            "so functions do not run; start it with its runtime",
        )  # fmt: skip
    if job.package_type != "Zip" or not job.runtime.startswith("python3"):
        return _unavailable(
            job, request_id, stream,
            f"the emulator runs zip packages of python3.* runtimes only, not {job.package_type} "
            f"{job.runtime or '(no runtime)'}",
        )  # fmt: skip
    docker = SETTINGS.docker
    missing = _ensure_image(docker)
    if missing:
        return _unavailable(job, request_id, stream, missing)
    try:
        task = _extract(job.code)
    except (zipfile.BadZipFile, OSError) as exc:
        return _unavailable(job, request_id, stream, f"the function's package is no zip: {exc}")
    name = f"lambda-{request_id}"
    env = _environment(job, credentials, stream)
    argv = [
        "run", "--interactive", "--name", name,
        "--label", f"{_owner_label()}={SETTINGS.owner}",
        "--label", f"{LABEL_FUNCTION}={job.arn}",
        "--network", "host", "--memory", f"{job.memory}m",
        "--read-only", "--tmpfs", f"/tmp:rw,size={job.ephemeral_mb}m,mode=1777",
        "--user", SANDBOX_USER, "--workdir", "/var/task",
        "--volume", f"{task}:/var/task:ro",
        "--volume", f"{RUNNER}:/var/runtime/bootstrap.py:ro",
    ]  # fmt: skip
    for variable in env:
        argv += ["--env", variable]  # the value comes from the client's environment
    argv += [IMAGE, "python3", "/var/runtime/bootstrap.py", request_id, str(job.timeout), job.arn]
    started = _stamp_ms()
    killed = False
    try:
        try:
            ran = docker(*argv, stdin=job.payload, env=env, timeout=job.timeout + HOST_GRACE_S)
        except subprocess.TimeoutExpired:
            killed = True
            ran = subprocess.CompletedProcess(argv, -9, "", "")
        ended = _stamp_ms()
        logs = _call(docker, "logs", "--timestamps", name, timeout=60)
        oom = False
        if not killed and ran.returncode == 137:
            state = _call(docker, "inspect", "--format", "{{.State.OOMKilled}}", name, timeout=30)
            oom = state.stdout.strip() == "true"
    finally:
        _call(docker, "rm", "--force", "--volumes", name, timeout=60)
        shutil.rmtree(task, ignore_errors=True)
    return _outcome(job, request_id, stream, started, ended, ran, logs.stderr, killed, oom)


def _call(docker: Docker, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """A Docker command other than the run: a timeout answered as a failed command."""
    try:
        return docker(*args, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(
            ["docker", *args], 124, "", f"timed out after {timeout:g} s"
        )


def _owner_label() -> str:
    from deployer.emulator.runtime import LABEL

    return LABEL


def _outcome(
    job: Job,
    request_id: str,
    stream: str,
    started: int,
    ended: int,
    ran: subprocess.CompletedProcess[str],
    output: str,
    killed: bool,
    oom: bool,
) -> Outcome:
    result: dict[str, Any] = {}
    for line in reversed((ran.stdout or "").strip().splitlines()):
        try:
            result = json.loads(line)
            break
        except ValueError:
            continue
    status = "timeout" if killed else str(result.get("status") or "exited")
    if status == "exited" and ran.returncode in (125, 126, 127):
        detail = (ran.stderr or "").strip().splitlines()
        reason = detail[-1] if detail else f"docker run exited {ran.returncode}"
        return _unavailable(job, request_id, stream, f"the container did not start: {reason}")
    events = [(started, f"START RequestId: {request_id} Version: {job.version}")]
    events += _log_lines(output, started)
    function_error: str | None = "Unhandled"
    if status == "ok":
        payload = str(result.get("payload", "null")).encode()
        function_error = None
    elif status in ("error", "init_error"):
        payload = json.dumps(result.get("error") or {}).encode()
    elif status == "timeout":
        seconds = f"{job.timeout:.2f}"
        stamp = datetime.datetime.fromtimestamp(ended / 1000, datetime.UTC)
        events.append((ended, f"{stamp:%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z "
                       f"{request_id} Task timed out after {seconds} seconds"))  # fmt: skip
        payload = json.dumps(
            {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {request_id} Error: Task timed out after "
                f"{seconds} seconds",
            }
        ).encode()
    else:
        kind = "Runtime.OutOfMemory" if oom else "Runtime.ExitError"
        exit_text = "signal: killed" if ran.returncode == 137 else f"exit status {ran.returncode}"
        message = f"RequestId: {request_id} Error: Runtime exited with error: {exit_text}"
        payload = json.dumps({"errorType": kind, "errorMessage": message}).encode()
        events.append((ended, message))
    duration = float(result.get("durationMs") or (job.timeout * 1000 if killed else 0.0))
    init = float(result.get("initMs") or 0.0)
    memory = int(result.get("maxMemoryMb") or 0)
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
        f"Billed Duration: {max(math.ceil(duration), 1)} ms\tMemory Size: {job.memory} MB\t"
        f"Max Memory Used: {memory} MB\tInit Duration: {init:.2f} ms"
    )
    if status == "timeout":
        report += "\tStatus: timeout"
    events += [(ended, f"END RequestId: {request_id}"), (ended, report)]
    return Outcome(request_id, status, payload, function_error, stream, events)


def _log_lines(output: str, default: int) -> list[tuple[int, str]]:
    """``docker logs --timestamps`` lines -> (epoch ms, message)."""
    lines = []
    for line in output.splitlines():
        stamp, _, message = line.partition(" ")
        lines.append((_millis(stamp) or default, message))
    return lines


def _millis(stamp: str) -> int:
    from deployer.emulator.runtime import docker_nanos

    return docker_nanos(stamp) // 10**6


# ---------------------------------------------------------------------------
# Back under the lock: logs and destinations
# ---------------------------------------------------------------------------
def write_logs(job: Job, outcome: Outcome) -> None:
    """The invocation's log events into its group (created when missing) and stream."""
    from moto.logs.models import logs_backends

    backend = logs_backends[job.account][job.region]
    backend.ensure_log_group(job.log_group)
    group = backend.groups[job.log_group]
    if outcome.log_stream not in group.streams:
        group.create_log_stream(outcome.log_stream)
    group.put_log_events(
        outcome.log_stream, [{"timestamp": t, "message": m} for t, m in outcome.events]
    )


def invocation_record(job: Job, outcome: Outcome, condition: str, attempts: int) -> dict[str, Any]:
    """The record Lambda sends to a destination (invocation-async-retain-records)."""
    stamp = datetime.datetime.fromtimestamp(SETTINGS.now(), datetime.UTC)
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": job.version}
    if outcome.function_error:
        response["functionError"] = outcome.function_error
    return {
        "version": "1.0",
        "timestamp": f"{stamp:%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z",
        "requestContext": {
            "requestId": outcome.request_id,
            "functionArn": f"{job.arn}:{job.version}",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": _json_or_text(job.payload),
        "responseContext": response,
        "responsePayload": _json_or_text(outcome.payload.decode(errors="replace")),
    }


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def send_record(destination: str, record: dict[str, Any]) -> bool:
    """Publish or send the record to an SNS topic or SQS queue (under the lock)."""
    parts = destination.split(":")
    if len(parts) < 6:
        return False
    service, region, account = parts[2], parts[3], parts[4]
    body = json.dumps(record)
    try:
        if service == "sns":
            from moto.sns.models import sns_backends

            sns_backends[account][region].publish(message=body, arn=destination)
            return True
        if service == "sqs":
            from moto.sqs.models import sqs_backends

            sqs_backends[account][region].send_message(parts[5], body)
            return True
    except Exception:
        log.exception("lambda: the invocation record could not go to %s", destination)
        return False
    log.warning("lambda: destinations of type %s are not emulated (%s)", service, destination)
    return False


def _event_config(job: Job) -> dict[str, Any]:
    """The function's event invoke config as it is now (under the lock)."""
    from moto.awslambda.utils import get_backend

    try:
        fn = get_backend(job.account, job.region).get_function(job.name)
    except Exception:
        return {}
    configs = getattr(fn, "event_invoke_config", None) or []
    return dict(configs[-1].config) if configs else {}


# ---------------------------------------------------------------------------
# The two invocation types
# ---------------------------------------------------------------------------
def run_sync(job: Job) -> Outcome:
    """RequestResponse: from a request that holds the lock, or a thread that does not
    (another patch's delivery); the lock is held only around moto's backends."""
    lock = _lock()
    with lock:
        credentials = assume_role(job)
        with released(lock):
            outcome = execute(job, credentials)
        write_logs(job, outcome)
    return outcome


def run_event(job: Job) -> None:
    """Event: attempts, retries and the destination, on this thread."""
    lock = _lock()
    attempts = 0
    while True:
        attempts += 1
        with lock:
            credentials = assume_role(job)
        outcome = execute(job, credentials)
        with lock:
            write_logs(job, outcome)
            config = _event_config(job)
        destinations = config.get("DestinationConfig") or {}
        if not outcome.failed:
            target = (destinations.get("OnSuccess") or {}).get("Destination")
            condition = "Success"
        else:
            retries = config.get("MaximumRetryAttempts")
            retries = DEFAULT_RETRIES if retries is None else int(retries)
            max_age = int(config.get("MaximumEventAgeInSeconds") or DEFAULT_MAX_EVENT_AGE_S)
            if attempts <= retries:
                delay = RETRY_DELAYS_S[min(attempts, len(RETRY_DELAYS_S)) - 1]
                if SETTINGS.now() + delay - job.enqueued <= max_age:
                    log.info("lambda: %s failed (attempt %d), retrying", job.name, attempts)
                    SETTINGS.sleep(delay / SETTINGS.time_scale)
                    continue
                condition = "EventAgeExceeded"
            else:
                condition = "RetriesExhausted"
            target = (destinations.get("OnFailure") or {}).get("Destination")
        if target:
            with lock:
                send_record(target, invocation_record(job, outcome, condition, attempts))
        return


def _event_thread(job: Job) -> None:
    try:
        run_event(job)
    except Exception:
        log.exception("lambda: the asynchronous invocation of %s failed", job.name)


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    value = headers.get(name) if hasattr(headers, "get") else None
    if value is None and isinstance(headers, dict):
        lowered = {str(k).lower(): v for k, v in headers.items()}
        value = lowered.get(name.lower())
    return None if value is None else str(value)


def apply() -> None:
    from moto.awslambda.exceptions import LambdaClientError
    from moto.awslambda.models import LambdaFunction

    def factory(_original: Any) -> Any:
        def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
            kind = _header(request_headers, "X-Amz-Invocation-Type") or "RequestResponse"
            text = body.decode() if isinstance(body, bytes) else body
            if text and isinstance(text, str):
                try:
                    json.loads(text)
                except ValueError as exc:
                    raise LambdaClientError(
                        "InvalidRequestContentException",
                        f"Could not parse request body into json: {exc}",
                    ) from None
            if kind == "DryRun":
                return b""
            with _lock():  # re-entrant: a request holds it already, a delivery thread not
                job = snapshot(self, text or "{}")
            if kind == "Event":
                job.enqueued = SETTINGS.now()
                thread = threading.Thread(
                    target=_event_thread, args=(job,), name=f"lambda-{job.name}", daemon=True
                )
                SETTINGS.threads.append(thread)
                thread.start()
                return b""
            outcome = run_sync(job)
            response_headers["X-Amz-Executed-Version"] = job.version
            if outcome.function_error:
                response_headers["x-amz-function-error"] = outcome.function_error
            tail = outcome.log_text().encode()[-LOG_TAIL_BYTES:]
            response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
            return outcome.payload

        return invoke

    replace(LambdaFunction, "invoke", factory)
