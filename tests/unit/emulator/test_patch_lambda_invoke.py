"""Lambda Invoke runs the function (patch lambda_invoke), with a fake Docker CLI.

In a separate interpreter (the patches must not leak into this one's moto; ``_isolated``
runs the script once per test session, in the interpreter of the patched group): moto with
the fidelity patches and a fake ``docker`` that plays the container by running the
real runner (``deployer/emulator/lambda_runner.py``) as a local process, with exactly
the environment ``docker run --env NAME`` would pass and the package folder the
``--volume`` names. tests/runtime/test_lambda.py runs the same with the real engine.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from ._isolated import output, script

SCRIPT = r"""
import base64, datetime, io, json, os, subprocess, sys, threading, zipfile
from deployer.emulator import patches
patches.apply_all()
from deployer.emulator.patches import lambda_invoke
from moto import mock_aws
import boto3

runs, removed, containers = [], [], {}

def fake(*args, timeout=120, stdin=None, env=None):
    args = list(args)
    ok = lambda out="", err="": subprocess.CompletedProcess(args, 0, out, err)
    if args[:2] == ["image", "inspect"]:
        if MISSING_IMAGE:
            return subprocess.CompletedProcess(args, 1, "", "Error: No such image: " + args[-1])
        return ok("sha256:abc\n")
    if args[0] == "run":
        names = [args[i + 1] for i, a in enumerate(args) if a == "--env"]
        volumes = dict(args[i + 1].split(":")[1::-1] for i, a in enumerate(args) if a == "--volume")
        name = args[args.index("--name") + 1]
        cmd = args[args.index(lambda_invoke.IMAGE) + 1:]
        child_env = {n: env[n] for n in names}  # what --env NAME takes from the client
        child_env["LAMBDA_TASK_ROOT"] = volumes["/var/task"]
        child_env["PATH"] = os.environ["PATH"]
        runner = str(lambda_invoke.RUNNER)
        runs.append({"args": args, "env": dict(env), "timeout": timeout,
                     "lock_held": LOCK._is_owned()})
        try:
            done = subprocess.run([sys.executable, runner, *cmd[2:]], input=stdin,
                                  capture_output=True, text=True, env=child_env,
                                  cwd=volumes["/var/task"], timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            containers[name] = ""
            raise subprocess.TimeoutExpired(exc.cmd, exc.timeout)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
        containers[name] = "".join(f"{stamp} {l}\n" for l in done.stderr.splitlines())
        return subprocess.CompletedProcess(args, done.returncode, done.stdout, "")
    if args[0] == "logs":
        return ok("", containers.get(args[-1], ""))
    if args[0] == "rm":
        removed.append(args[-1])
        return ok()
    if args[0] == "inspect":
        return ok("false\n")
    return ok()

MISSING_IMAGE = False
builds = []
def build():
    builds.append(1)
    return False, "base-images: error: no Docker engine answers"

class Clock:
    now_value = 1_800_000_000.0
    time_scale = 60.0
    def now(self):
        return self.now_value

clock = Clock()
slept = []
def sleep(seconds):
    slept.append(seconds)
    clock.now_value += seconds * clock.time_scale

lambda_invoke.HOST_GRACE_S = 1.0
LOCK = threading.RLock()
lambda_invoke.configure(port=4566, owner="/o", clock=clock, docker=fake, build_image=build,
                        lock=LOCK, sleep=sleep)

CODE = '''
import json, os, signal, time, logging
logging.getLogger().setLevel(logging.INFO)
def ok(event, context):
    print("hello from", context.function_name)
    logging.info("remaining %d", context.get_remaining_time_in_millis())
    return {"event": event, "secret": os.environ.get("SECRET"),
            "arn": context.invoked_function_arn, "memory": context.memory_limit_in_mb,
            "request": context.aws_request_id, "group": context.log_group_name,
            "stream": context.log_stream_name, "env": {k: os.environ.get(k) for k in (
                "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_LAMBDA_FUNCTION_NAME", "_HANDLER",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
                "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_ENDPOINT_URL", "AWS_EXECUTION_ENV")}}
def boom(event, context):
    raise ValueError("the guard fell over")
def slow(event, context):
    time.sleep(10)
def stuck(event, context):
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(10)
'''
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w") as z:
    z.writestr("guard/__init__.py", "")
    z.writestr("guard/handler.py", CODE)
package = buffer.getvalue()

out = {}
with mock_aws():
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="guard-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    awslambda = boto3.client("lambda", region_name="us-east-1")
    def function(name, handler, timeout=3, memory=256):
        awslambda.create_function(FunctionName=name, Runtime="python3.12", Role=role,
            Handler=handler, Code={"ZipFile": package}, Timeout=timeout, MemorySize=memory,
            Environment={"Variables": {"SECRET": "the-secret-value", "APPLICATION_NAME": "app"}})
    def invoke(name, **kw):
        r = awslambda.invoke(FunctionName=name, **kw)
        return {"status": r["StatusCode"], "error": r.get("FunctionError"),
                "version": r.get("ExecutedVersion"), "log": r.get("LogResult"),
                "payload": json.loads(r["Payload"].read() or b"null")}
    function("ok", "guard.handler.ok")
    function("boom", "guard.handler.boom")
    function("slow", "guard.handler.slow", timeout=1)
    function("stuck", "guard.handler.stuck", timeout=1)
    function("missing", "guard.nowhere.handler")

    out["ok"] = invoke("ok", Payload=json.dumps({"alarm": "x"}), LogType="Tail")
    out["ok_run"] = dict(runs[-1])
    creds = runs[-1]["env"]
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                       aws_session_token=creds["AWS_SESSION_TOKEN"])
    out["caller"] = sts.get_caller_identity()["Arn"]
    out["boom"] = invoke("boom")
    out["slow"] = invoke("slow")
    out["stuck"] = invoke("stuck")
    out["missing"] = invoke("missing")
    out["dry"] = awslambda.invoke(FunctionName="ok", InvocationType="DryRun")["StatusCode"]
    out["removed"] = len(removed)
    out["runs"] = len(runs)

    logs = boto3.client("logs", region_name="us-east-1")
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/ok")["logStreams"]
    out["streams"] = [s["logStreamName"] for s in streams]
    out["ok_log"] = [e["message"] for e in logs.get_log_events(
        logGroupName="/aws/lambda/ok", logStreamName=streams[0]["logStreamName"])["events"]]
    slow_stream = logs.describe_log_streams(logGroupName="/aws/lambda/slow")["logStreams"][0]
    out["slow_log"] = [e["message"] for e in logs.get_log_events(
        logGroupName="/aws/lambda/slow", logStreamName=slow_stream["logStreamName"])["events"]]

    # Asynchronous: retries, then the record to the on-failure destination (SNS -> SQS).
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic = sns.create_topic(Name="notifications")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                  Attributes={"RawMessageDelivery": "true"})
    awslambda.put_function_event_invoke_config(FunctionName="boom", MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": topic}})
    before = len(runs)
    out["event_status"] = awslambda.invoke(FunctionName="boom", InvocationType="Event",
                                           Payload=json.dumps({"n": 1}))["StatusCode"]
    for thread in list(lambda_invoke.SETTINGS.threads):
        thread.join(60)
    out["event_runs"] = len(runs) - before
    out["slept"] = list(slept)
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    out["records"] = [json.loads(m["Body"]) for m in messages]
    for m in messages:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])

    # Another patch's delivery thread (EventBridge) calls the backend's invoke directly.
    from moto.awslambda.utils import get_backend
    before = len(runs)
    answer = get_backend("123456789012", "us-east-1").invoke(
        function_name="ok", qualifier=None, body='{"from": "events"}',
        headers={"x-amz-invocation-type": "Event"}, response_headers={})
    for thread in list(lambda_invoke.SETTINGS.threads):
        thread.join(60)
    out["delivered"] = {"answer": answer.decode(), "runs": len(runs) - before}

    # The event's age: past MaximumEventAgeInSeconds, no further retry.
    awslambda.put_function_event_invoke_config(FunctionName="slow", MaximumRetryAttempts=2,
        MaximumEventAgeInSeconds=60, DestinationConfig={"OnFailure": {"Destination": topic}})
    before, slept[:] = len(runs), []
    awslambda.invoke(FunctionName="slow", InvocationType="Event")
    for thread in list(lambda_invoke.SETTINGS.threads):
        thread.join(60)
    out["aged_runs"] = len(runs) - before
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    out["aged"] = [json.loads(m["Body"])["requestContext"] for m in messages]

    # Where functions cannot run.
    MISSING_IMAGE = True
    out["no_image"] = invoke("ok")
    out["builds"] = len(builds)
    lambda_invoke.configure(port=4566, owner=None)
    out["no_runtime"] = invoke("ok")
print(json.dumps(out))
"""


script("patched", "lambda_invoke", SCRIPT)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What the script observed (about 10 s of its run: two timeouts, three attempts of
    an event)."""
    printed = output(tmp_path_factory, "patched", "lambda_invoke")
    return dict(json.loads(printed.strip().splitlines()[-1]))


def test_invoke_runs_the_handler_and_answers_as_lambda(out: dict[str, Any]) -> None:
    ok = out["ok"]
    payload = ok["payload"]
    assert ok["status"] == 200 and ok["error"] is None and ok["version"] == "$LATEST"
    # The event, the function's variables, the context and the runtime's variables.
    assert payload["event"] == {"alarm": "x"} and payload["secret"] == "the-secret-value"
    assert payload["arn"].endswith(":function:ok") and payload["memory"] == "256"
    assert payload["group"] == "/aws/lambda/ok" and payload["stream"] in out["streams"]
    assert payload["env"] == {
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "ok",
        "_HANDLER": "guard.handler.ok",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/ok",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
    }
    # Values reach the container through the client's environment, never its arguments.
    run_ = out["ok_run"]
    args = run_["args"]
    assert "the-secret-value" not in json.dumps(args)
    assert run_["env"]["AWS_SESSION_TOKEN"] not in json.dumps(args)
    assert args[args.index("SECRET") - 1 :][:2] == ["--env", "SECRET"]
    assert args[args.index("--memory") + 1] == "256m" and "--network" in args
    assert args[args.index("--network") + 1] == "host"
    assert "io.deployer.emulator=/o" in args
    assert run_["timeout"] == 3 + 1.0  # the function's timeout and the host's grace
    assert run_["lock_held"] is False  # the container runs with the backend lock let go
    # The role's credentials, assumed through STS.
    assert out["caller"].endswith(":assumed-role/guard-role/ok")
    # LogType=Tail: the log's end, with the REPORT line.
    tail = base64.b64decode(ok["log"]).decode()
    assert "hello from ok" in tail and f"REPORT RequestId: {payload['request']}" in tail


def test_errors_timeouts_and_logs(out: dict[str, Any]) -> None:
    boom = out["boom"]
    assert boom["status"] == 200 and boom["error"] == "Unhandled"
    assert boom["payload"]["errorType"] == "ValueError"
    assert boom["payload"]["errorMessage"] == "the guard fell over"
    assert boom["payload"]["requestId"] and "raise ValueError" in "".join(
        boom["payload"]["stackTrace"]
    )
    assert "lambda_runner" not in "".join(boom["payload"]["stackTrace"])
    # The runtime's timer stops the handler at the function's timeout.
    slow = out["slow"]
    assert slow["error"] == "Unhandled" and slow["payload"]["errorType"] == "Sandbox.Timedout"
    assert slow["payload"]["errorMessage"].endswith("Error: Task timed out after 1.00 seconds")
    # A handler the timer cannot stop: the host kills the container.
    stuck = out["stuck"]
    assert stuck["payload"]["errorType"] == "Sandbox.Timedout"
    assert out["removed"] == out["runs"]  # every container removed, the killed one too
    missing = out["missing"]
    assert missing["payload"] == {
        "errorMessage": "Unable to import module 'guard.nowhere': No module named 'guard.nowhere'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }
    assert out["dry"] == 204
    # Logs: START, the function's output, END, REPORT, in /aws/lambda/NAME.
    stream = out["streams"][0]
    assert stream.split("/")[3].startswith("[$LATEST]") and len(stream.split("]")[1]) == 32
    log = out["ok_log"]
    assert log[0].startswith("START RequestId: ") and log[0].endswith(" Version: $LATEST")
    assert "hello from ok" in log[1]
    assert any(line.startswith("[INFO]\t") and "remaining" in line for line in log)
    assert log[-2].startswith("END RequestId: ")
    report = log[-1]
    for part in ("REPORT RequestId: ", "Duration: ", "Billed Duration: ",
                 "Memory Size: 256 MB", "Max Memory Used: ", "Init Duration: "):  # fmt: skip
        assert part in report
    assert any("Task timed out after 1.00 seconds" in line for line in out["slow_log"])
    assert out["slow_log"][-1].endswith("Status: timeout")


def test_asynchronous_retries_and_destinations(out: dict[str, Any]) -> None:
    assert out["event_status"] == 202
    # Two retries, one then two emulated minutes apart (time scale 60: 1 s, then 2 s).
    assert out["event_runs"] == 3 and out["slept"] == [1.0, 2.0]
    [record] = out["records"]
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["functionArn"].endswith(":function:boom:$LATEST")
    assert record["requestPayload"] == {"n": 1}
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorType"] == "ValueError"
    # Called by another patch with a plain dict of headers: queued, run once.
    assert out["delivered"] == {"answer": "", "runs": 1}
    # Past its maximum age the event is not retried again.
    assert out["aged_runs"] == 2
    assert [c["condition"] for c in out["aged"]] == ["EventAgeExceeded"]


def test_where_functions_cannot_run(out: dict[str, Any]) -> None:
    no_image = out["no_image"]
    assert no_image["error"] == "Unhandled" and out["builds"] == 1
    assert no_image["payload"]["errorType"] == "Runtime.Unavailable"
    assert "bin/lambda-image" in no_image["payload"]["errorMessage"]
    no_runtime = out["no_runtime"]["payload"]
    assert no_runtime["errorType"] == "Runtime.Unavailable"
    assert "without its runtime" in no_runtime["errorMessage"]
