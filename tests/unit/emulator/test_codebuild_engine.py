"""The codebuild engine: builds run their buildspec's phases, as CodeBuild's do.

In a separate interpreter (the patches must not leak into this one's moto; ``_isolated``
runs the script once per test session with every fidelity patch applied): moto with a
fake ``docker`` that plays the build container by running each ``docker exec`` as a
local shell process with exactly the environment ``docker run --env NAME`` gave the
container, in the build folder (mounted at its host path: ``container_root=None``), so
phases, exit codes, variables, ``on-failure``, ``finally``, timeouts and stops are real.
The engine's rounds are run by hand (``tick``) on a scheduler that is never started (its
clock runs 300 times real time: five emulated minutes a second, the shortest timeout).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ._isolated import output, script

SCRIPT = r"""
import io, json, os, signal, subprocess, sys, tempfile, threading, time, zipfile
from pathlib import Path
from deployer.emulator import patches
patches.apply_all()
from deployer.emulator.engines.codebuild import CodeBuildEngine
from deployer.emulator.scheduler import Scheduler
from moto import mock_aws
import boto3

containers, runs, logins = {}, [], []

def fake(*args, timeout=120, stdin=None, env=None):
    args = list(args)
    if args[0] == "--config":
        args = args[2:]
    ok = lambda out="": subprocess.CompletedProcess(args, 0, out, "")
    if args[0] == "login":
        logins.append((args[-1], stdin))
        return ok()
    if args[0] == "pull":
        if args[-1].endswith("/missing:1"):
            return subprocess.CompletedProcess(args, 1, "", "Error response: manifest unknown")
        return ok()
    if args[0] == "run":
        names = [args[i + 1] for i, a in enumerate(args) if a == "--env"]
        name = args[args.index("--name") + 1]
        runs.append({"args": args, "lock_held": LOCK._is_owned()})
        containers[name] = {"env": {n: env[n] for n in names},
                            "workdir": args[args.index("--workdir") + 1],
                            "procs": [], "removed": False}
        return ok(name + "\n")
    if args[0] == "exec":
        box = containers[args[1]]
        if box["removed"]:
            return subprocess.CompletedProcess(args, 1, "", "No such container")
        child_env = dict(box["env"], PATH=os.environ["PATH"])
        proc = subprocess.Popen([args[2], "-c", args[4]], env=child_env, cwd=box["workdir"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        box["procs"].append(proc)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        return subprocess.CompletedProcess(args, proc.returncode, out, err)
    if args[0] == "rm":
        for ident in args[2:]:
            box = containers.get(ident)
            if box and not box["removed"]:
                box["removed"] = True
                for proc in box["procs"]:
                    if proc.poll() is None:
                        os.killpg(proc.pid, signal.SIGKILL)
        return ok()
    raise AssertionError(f"unexpected docker call {args}")

LOCK = threading.RLock()
work = Path(tempfile.mkdtemp())
scheduler = Scheduler(time_scale=300.0)
engine = CodeBuildEngine("/o", work / "builds", work / "docker-config", port=4566, docker=fake,
                         lock=LOCK, container_root=None,
                         issue_token=lambda account, role: f"token:{account}:{role}")
engine.start(scheduler)  # registers its round; the scheduler never runs: rounds by hand
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/build-image:1"

def zipped(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buffer.getvalue()

MAIN = '''
version: 0.2
env:
  variables:
    FROM_SPEC: spec
    OVERRIDDEN: from-spec
  parameter-store:
    DB_HOST: /app/db-host
  secrets-manager:
    DB_PASSWORD: app/db:password
    WHOLE: app/db
  exported-variables:
    - FROM_INSTALL
    - PLAIN
    - DEPLOYMENT_ID
phases:
  install:
    commands:
      - export FROM_INSTALL=installed
      - mkdir -p out/nested && cd out
  pre_build:
    commands:
      - PLAIN=carried
      - echo "pre_build in $(pwd)"
  build:
    commands:
      - cd "$CODEBUILD_SRC_DIR"
      - DEPLOYMENT_ID="20260101T000000Z-$CODEBUILD_RESOLVED_SOURCE_VERSION"
      - env | sort > out/env.txt
      - cp app.txt out/nested/app.txt
      - echo "$PLAIN $FROM_INSTALL" > out/carried.txt
    finally:
      - echo finally-ran >> out/carried.txt
  post_build:
    commands:
      - echo "post_build succeeding=$CODEBUILD_BUILD_SUCCEEDING"
      - echo "token=$TOKEN password=$DB_PASSWORD stage=$STAGE"
artifacts:
  files:
    - '**/*'
  base-directory: out
'''

def env_of(text):
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)

def phases(build):
    return [[p["phaseType"], p.get("phaseStatus"),
             [c["statusCode"] for c in p.get("contexts", []) if c["statusCode"]],
             [c["message"] for c in p.get("contexts", []) if c["message"]]]
            for p in build["phases"]]

out = {}
with mock_aws():
    region = "us-east-1"
    iam = boto3.client("iam", region_name=region)
    role = iam.create_role(RoleName="build-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    s3 = boto3.client("s3", region_name=region)
    s3.create_bucket(Bucket="sources")
    s3.create_bucket(Bucket="artifacts")
    ssm = boto3.client("ssm", region_name=region)
    ssm.put_parameter(Name="/app/db-host", Value="db.internal", Type="String")
    ssm.put_parameter(Name="/app/token", Value="s3cr3t-token", Type="SecureString")
    sm = boto3.client("secretsmanager", region_name=region)
    sm.create_secret(Name="app/db", SecretString=json.dumps({"password": "pw-1"}))
    sm.create_secret(Name="app/api-key", SecretString="key-1")
    s3.put_object(Bucket="sources", Key="app.zip",
                  Body=zipped({"buildspec.yml": MAIN, "app.txt": "the app\n"}))
    codebuild = boto3.client("codebuild", region_name=region)
    logs = boto3.client("logs", region_name=region)

    def project(name, buildspec=None, source=None, artifacts=None, variables=(), image=IMAGE,
                **extra):
        source = dict(source or {"type": "S3", "location": "sources/app.zip"})
        if buildspec is not None:
            source["buildspec"] = buildspec
        codebuild.create_project(
            name=name, source=source,
            artifacts=artifacts or {"type": "NO_ARTIFACTS"},
            environment={"type": "LINUX_CONTAINER", "image": image,
                         "computeType": "BUILD_GENERAL1_SMALL",
                         "environmentVariables": list(variables)},
            serviceRole=role, **extra)

    def build(name, wait=True, **kw):
        started = codebuild.start_build(projectName=name, **kw)["build"]
        if not wait:
            return started
        for thread in engine.tick():
            thread.join(60)
        return codebuild.batch_get_builds(ids=[started["id"]])["builds"][0]

    def log_messages(found):
        events = logs.get_log_events(logGroupName=found["logs"]["groupName"],
                                     logStreamName=found["logs"]["streamName"])["events"]
        return [e["message"] for e in events]

    # -- a build that succeeds: variables, shell state, artifacts, logs -----------------------
    project("main", artifacts={"type": "S3", "location": "artifacts", "path": "builds",
                               "name": "main.zip", "packaging": "ZIP",
                               "namespaceType": "BUILD_ID"},
            variables=[{"name": "OVERRIDDEN", "value": "from-project", "type": "PLAINTEXT"},
                       {"name": "TOKEN", "value": "/app/token", "type": "PARAMETER_STORE"},
                       {"name": "API_KEY", "value": "app/api-key", "type": "SECRETS_MANAGER"},
                       {"name": "STAGE", "value": "project", "type": "PLAINTEXT"}],
            logsConfig={"cloudWatchLogs": {"status": "ENABLED", "groupName": "/builds/main"}})
    started = codebuild.start_build(
        projectName="main",
        environmentVariablesOverride=[{"name": "STAGE", "value": "override",
                                       "type": "PLAINTEXT"}])["build"]
    out["started"] = {k: started.get(k) for k in ("buildStatus", "currentPhase", "buildNumber",
                                                  "initiator", "logs")}
    out["started"]["phases"] = phases(started)
    for thread in engine.tick():
        thread.join(60)
    found = codebuild.batch_get_builds(ids=[started["id"], "main:nope"])
    main = found["builds"][0]
    out["not_found"] = found["buildsNotFound"]
    out["main"] = {"status": main["buildStatus"], "phases": phases(main),
                   "complete": main["buildComplete"], "current": main["currentPhase"],
                   "exported": main.get("exportedEnvironmentVariables"),
                   "artifacts": main["artifacts"], "id": main["id"], "arn": main["arn"],
                   "durations": [p.get("durationInSeconds") for p in main["phases"]],
                   "times": all("startTime" in p for p in main["phases"]) and "endTime" in main}
    key = main["artifacts"]["location"].split(":::", 1)[1].split("/", 1)[1]
    body = s3.get_object(Bucket="artifacts", Key=key)["Body"].read()
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        out["zip"] = sorted(z.namelist())
        out["carried"] = z.read("carried.txt").decode()
        out["env"] = env_of(z.read("env.txt").decode())
    out["zip_key"] = key
    out["log"] = log_messages(main)
    creds = out["env"]
    sts = boto3.client("sts", region_name=region, aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                       aws_session_token=creds["AWS_SESSION_TOKEN"])
    out["caller"] = sts.get_caller_identity()["Arn"]
    out["run_lock_held"] = any(r["lock_held"] for r in runs)
    out["logins"] = sorted(set(logins))
    out["role"] = role
    out["second_number"] = build("main")["buildNumber"]
    out["listed"] = codebuild.list_builds_for_project(projectName="main")["ids"]
    out["listed_asc"] = codebuild.list_builds_for_project(projectName="main",
                                                          sortOrder="ASCENDING")["ids"]

    # -- failures and the phase transitions ---------------------------------------------------
    def spec(**blocks):
        import yaml
        body = {"version": 0.2, "phases": blocks}
        return yaml.safe_dump(body)

    project("fails-build", buildspec=spec(
        build={"commands": ["echo before", "sh -c 'exit 3'", "echo never"],
               "finally": ["echo finally-build"]},
        post_build={"commands": ["echo post succeeding=$CODEBUILD_BUILD_SUCCEEDING"]}))
    failed = build("fails-build")
    out["fails_build"] = {"status": failed["buildStatus"], "phases": phases(failed),
                          "log": log_messages(failed)}

    project("fails-install", buildspec=spec(install={"commands": ["false"]},
                                            build={"commands": ["echo never"]}))
    failed = build("fails-install")
    out["fails_install"] = {"status": failed["buildStatus"], "phases": phases(failed)}

    project("continues", buildspec=spec(
        pre_build={"on-failure": "CONTINUE", "commands": ["false"]},
        build={"commands": ["echo build succeeding=$CODEBUILD_BUILD_SUCCEEDING"]}))
    failed = build("continues")
    out["continues"] = {"status": failed["buildStatus"], "phases": phases(failed),
                        "log": log_messages(failed)}

    project("finally-fails", buildspec=spec(build={"commands": ["true"], "finally": ["false"]}))
    failed = build("finally-fails")
    out["finally_fails"] = phases(failed)

    project("bad-yaml", buildspec="version: 0.2\nphases:\n  build:\n    commands: [\n")
    failed = build("bad-yaml")
    out["bad_yaml"] = {"status": failed["buildStatus"], "phases": phases(failed)}
    project("bad-shape", buildspec=spec(build={"commands": [{"echo": "x"}]}))
    out["bad_shape"] = phases(build("bad-shape"))
    project("no-buildspec", source={"type": "S3", "location": "sources/app.zip",
                                    "buildspec": "ci/other.yml"})
    out["no_buildspec"] = phases(build("no-buildspec"))

    project("bash", buildspec="version: 0.2\nenv:\n  shell: bash\nphases:\n  build:\n"
            "    commands:\n      - '[[ -n $BASH_VERSION ]] && echo bash-ran'\n")
    found = build("bash")
    out["bash"] = {"status": found["buildStatus"], "log": log_messages(found)}

    JUNIT = '''<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="4">
<testcase classname="tests.test_app" name="test_a" time="0.5"/>
<testcase classname="tests.test_app" name="test_b" time="0.25">
<failure message="assert 1 == 2">def test_b():
&gt;   assert 1 == 2</failure></testcase>
<testcase classname="tests.test_other" name="test_c" time="0.001">
<skipped message="later"/></testcase>
<testcase classname="tests.test_other" name="test_d" time="0"/>
</testsuite></testsuites>
'''
    import yaml
    project("tested", buildspec=yaml.safe_dump({
        "version": 0.2,
        "phases": {"build": {"commands": [
            "mkdir -p reports", f"cat > reports/unit.xml <<'XML'\n{JUNIT}XML\n"]}},
        "reports": {"unit-tests": {"files": ["unit.xml"], "base-directory": "reports",
                                   "file-format": "JUNITXML"},
                    "absent": {"files": ["nothing.xml"]}}}))
    tested = build("tested")
    reports = codebuild.batch_get_reports(reportArns=tested.get("reportArns", []))["reports"]
    arn = reports[0]["arn"] if reports else ""
    failed_cases = codebuild.describe_test_cases(reportArn=arn, filter={"status": "FAILED"})
    group_arn = reports[0]["reportGroupArn"] if reports else ""
    build("tested")
    errors = {}
    for label, call in (
        ("duplicate", lambda: codebuild.create_report_group(
            name="tested-unit-tests", type="TEST", exportConfig={"exportConfigType": "NO_EXPORT"})),
        ("delete_with_reports", lambda: codebuild.delete_report_group(arn=group_arn)),
        ("no_report", lambda: codebuild.describe_test_cases(reportArn=arn + "x")),
    ):
        try:
            call()
            errors[label] = None
        except codebuild.exceptions.ClientError as exc:
            errors[label] = exc.response["Error"]["Code"]
    created = codebuild.create_report_group(
        name="shared", type="TEST", exportConfig={"exportConfigType": "NO_EXPORT"})["reportGroup"]
    out["reports"] = {
        "status": tested["buildStatus"], "arns": tested.get("reportArns"),
        "report": reports[0] if reports else None,
        "failed": failed_cases["testCases"],
        "all": codebuild.describe_test_cases(reportArn=arn)["testCases"],
        "keyword": [c["name"] for c in codebuild.describe_test_cases(
            reportArn=arn, filter={"keyword": "test_other"})["testCases"]],
        "in_group": len(codebuild.list_reports_for_report_group(
            reportGroupArn=group_arn)["reports"]),
        "groups": codebuild.list_report_groups()["reportGroups"],
        "errors": errors, "created": created["arn"],
        "log": log_messages(tested),
    }
    codebuild.delete_report_group(arn=group_arn, deleteReports=True)
    out["reports"]["after_delete"] = codebuild.batch_get_report_groups(
        reportGroupArns=[group_arn])["reportGroupsNotFound"]

    project("missing-parameter", buildspec=spec(build={"commands": ["true"]}),
            variables=[{"name": "X", "value": "/nope", "type": "PARAMETER_STORE"}])
    out["missing_parameter"] = phases(build("missing-parameter"))
    project("missing-image", buildspec=spec(build={"commands": ["true"]}),
            image="123456789012.dkr.ecr.us-east-1.amazonaws.com/missing:1")
    out["missing_image"] = phases(build("missing-image"))

    # -- timeout and StopBuild ------------------------------------------------------------------
    project("slow", buildspec=spec(build={"commands": ["sleep 20"]}))
    began = time.monotonic()
    timed = build("slow", timeoutInMinutesOverride=5)
    out["timeout"] = {"status": timed["buildStatus"], "phases": phases(timed),
                      "seconds": time.monotonic() - began}
    began = time.monotonic()
    running = build("slow", wait=False)
    threads = engine.tick()
    time.sleep(0.8)
    with LOCK:
        answer = codebuild.stop_build(id=running["id"])["build"]
    out["stop_answer"] = answer["buildStatus"]
    engine.tick()
    for thread in threads:
        thread.join(60)
    stopped = codebuild.batch_get_builds(ids=[running["id"]])["builds"][0]
    out["stopped"] = {"status": stopped["buildStatus"], "phases": phases(stopped),
                      "seconds": time.monotonic() - began}
    queued = build("slow", wait=False)
    codebuild.stop_build(id=queued["id"])
    out["stopped_queued"] = phases(codebuild.batch_get_builds(ids=[queued["id"]])["builds"][0])

    # -- CodeCommit and CodePipeline sources, privileged builds ---------------------------------
    codecommit = boto3.client("codecommit", region_name=region)
    codecommit.create_repository(repositoryName="monorepo")
    commit = codecommit.create_commit(
        repositoryName="monorepo", branchName="main", commitMessage="first",
        putFiles=[{"filePath": "buildspec.yml", "fileContent": spec(
            build={"commands": ["cat service/VERSION > version.txt",
                                "echo $CODEBUILD_RESOLVED_SOURCE_VERSION >> version.txt"]}
        ).encode()}, {"filePath": "service/VERSION", "fileContent": b"7\n"}])["commitId"]
    import yaml
    with_artifacts = yaml.safe_load(spec(build={"commands": ["true"]}))
    project("from-codecommit",
            source={"type": "CODECOMMIT",
                    "location": "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/monorepo",
                    "buildspec": ""},
            artifacts={"type": "S3", "location": "artifacts", "name": "cc", "packaging": "NONE"})
    # the buildspec in the repository has no artifacts: override it with one that has
    cc = build("from-codecommit", sourceVersion=commit,
               buildspecOverride=yaml.safe_dump({
                   "version": 0.2,
                   "phases": {"build": {"commands": [
                       "cat service/VERSION > version.txt",
                       "echo $CODEBUILD_RESOLVED_SOURCE_VERSION >> version.txt"]}},
                   "artifacts": {"files": ["version.txt"]}}))
    out["codecommit"] = {"status": cc["buildStatus"], "resolved": cc.get("resolvedSourceVersion"),
                         "commit": commit, "artifacts": cc["artifacts"]["location"],
                         "version": s3.get_object(Bucket="artifacts", Key="cc/version.txt")[
                             "Body"].read().decode()}
    s3.put_object(Bucket="sources", Key="pipeline/input.zip", Body=zipped({
        "buildspec.yml": spec(build={"commands": [
            "echo from-pipeline $CODEBUILD_RESOLVED_SOURCE_VERSION > result.txt"]})
        + "artifacts:\n  files: [result.txt]\n  secondary-artifacts:\n    extra:\n"
        "      files: [result.txt]\n"}))
    codebuild.create_project(
        name="in-pipeline", source={"type": "CODEPIPELINE"}, artifacts={"type": "CODEPIPELINE"},
        environment={"type": "LINUX_CONTAINER", "image": IMAGE, "privilegedMode": True,
                     "computeType": "BUILD_GENERAL1_SMALL"}, serviceRole=role)
    piped = build("in-pipeline", sourceTypeOverride="CODEPIPELINE", sourceVersion="abc1234def",
                  sourceLocationOverride="arn:aws:s3:::sources/pipeline/input.zip",
                  artifactsOverride={"type": "CODEPIPELINE",
                                     "location": "arn:aws:s3:::artifacts/pipeline/output.zip"},
                  secondaryArtifactsOverride=[{
                      "type": "S3", "location": "artifacts", "path": "second", "name": "x.zip",
                      "packaging": "ZIP", "artifactIdentifier": "extra"}])
    undefined = build("in-pipeline", sourceTypeOverride="CODEPIPELINE",
                      sourceLocationOverride="arn:aws:s3:::sources/pipeline/input.zip",
                      artifactsOverride={"type": "CODEPIPELINE",
                                         "location": "arn:aws:s3:::artifacts/pipeline/2.zip"},
                      secondaryArtifactsOverride=[{
                          "type": "S3", "location": "artifacts", "name": "y",
                          "artifactIdentifier": "nowhere"}])
    out["secondary"] = {
        "build": piped["secondaryArtifacts"],
        "zip": zipfile.ZipFile(io.BytesIO(s3.get_object(Bucket="artifacts", Key="second/x.zip")[
            "Body"].read())).namelist(),
        "undefined": {p[0]: p for p in phases(undefined)}["UPLOAD_ARTIFACTS"],
        "undefined_status": undefined["buildStatus"],
    }
    body = s3.get_object(Bucket="artifacts", Key="pipeline/output.zip")["Body"].read()
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        out["pipeline"] = {"status": piped["buildStatus"], "files": z.namelist(),
                           "result": z.read("result.txt").decode(),
                           "socket": "/var/run/docker.sock:/var/run/docker.sock"
                           in runs[-1]["args"],
                           "user": runs[-1]["args"][runs[-1]["args"].index("--user") + 1]}
    out["socket_unprivileged"] = "/var/run/docker.sock:/var/run/docker.sock" in runs[0]["args"]
    out["all_ids"] = len(codebuild.list_builds()["ids"])

    # -- metrics ---------------------------------------------------------------------------------
    import datetime
    cw = boto3.client("cloudwatch", region_name=region)
    now = datetime.datetime.now(datetime.UTC)
    def total(metric, dimensions):
        points = cw.get_metric_statistics(
            Namespace="AWS/CodeBuild", MetricName=metric, Dimensions=dimensions,
            StartTime=now - datetime.timedelta(days=1), EndTime=now + datetime.timedelta(days=30),
            Period=86400, Statistics=["Sum"])["Datapoints"]
        return sum(p["Sum"] for p in points)
    def of(project):
        return [{"Name": "ProjectName", "Value": project}]
    out["metrics"] = {
        "main_builds": total("Builds", of("main")),
        "main_succeeded": total("SucceededBuilds", of("main")),
        "main_failed": total("FailedBuilds", of("main")),
        "failed": total("FailedBuilds", of("fails-build")),
        "slow_failed": total("FailedBuilds", of("slow")),
        "account_builds": total("Builds", []),
        "one_build": total("Builds", [{"Name": "BuildId", "Value": main["id"]},
                                      {"Name": "BuildNumber", "Value": "1"}] + of("main")),
        "names": sorted({m["MetricName"] for m in cw.list_metrics(
            Namespace="AWS/CodeBuild", Dimensions=of("main"))["Metrics"]}),
    }
    out["status"] = engine.status()
print(json.dumps(out, default=str))
"""

NAME = script("patched", "codebuild_engine", SCRIPT)
SUCCEEDED_PHASES = [
    "SUBMITTED", "QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD",
    "BUILD", "POST_BUILD", "UPLOAD_ARTIFACTS", "FINALIZING", "COMPLETED",
]  # fmt: skip


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(output(tmp_path_factory, "patched", NAME))
    return found


def test_start_build_answers_a_build_in_progress(out: dict[str, Any]) -> None:
    started = out["started"]
    assert started["buildStatus"] == "IN_PROGRESS"
    assert started["currentPhase"] == "QUEUED"
    assert started["buildNumber"] == 1
    assert started["initiator"]  # the caller: moto's default user
    assert started["phases"] == [["SUBMITTED", "SUCCEEDED", [], []], ["QUEUED", None, [], []]]
    assert started["logs"]["groupName"] == "/builds/main"
    assert started["logs"]["streamName"] == out["main"]["id"].split(":", 1)[1]


def test_a_build_runs_every_phase_and_succeeds(out: dict[str, Any]) -> None:
    main = out["main"]
    assert main["status"] == "SUCCEEDED", main["phases"]
    assert [p[0] for p in main["phases"]] == SUCCEEDED_PHASES
    assert all(p[1] == "SUCCEEDED" for p in main["phases"][:-1])
    assert main["phases"][-1][1] is None  # COMPLETED has no status
    assert main["complete"] is True and main["current"] == "COMPLETED" and main["times"]
    assert all(isinstance(d, int) for d in main["durations"][:-1])
    assert main["id"].startswith("main:") and main["arn"].endswith(f":build/{main['id']}")
    assert out["second_number"] == 2
    assert out["listed"][1] == main["id"] and out["listed_asc"][0] == main["id"]
    assert out["not_found"] == ["main:nope"]


def test_variables_follow_codebuild_precedence_and_sources(out: dict[str, Any]) -> None:
    env = out["env"]
    assert env["FROM_SPEC"] == "spec"
    assert env["OVERRIDDEN"] == "from-project"  # the project's beats the buildspec's
    assert env["STAGE"] == "override"  # StartBuild's beats the project's
    assert env["DB_HOST"] == "db.internal"
    assert env["TOKEN"] == "s3cr3t-token"  # SecureString, decrypted
    assert env["DB_PASSWORD"] == "pw-1"  # secrets-manager with a json key
    assert json.loads(env["WHOLE"]) == {"password": "pw-1"}
    assert env["API_KEY"] == "key-1"
    assert env["CODEBUILD_BUILD_ID"] == out["main"]["id"]
    assert env["CODEBUILD_BUILD_ARN"] == out["main"]["arn"]
    assert env["CODEBUILD_BUILD_NUMBER"] == "1"
    assert env["CODEBUILD_SRC_DIR"].endswith("/src")
    assert env["CODEBUILD_SOURCE_REPO_URL"] == "sources/app.zip"
    assert env["CODEBUILD_BUILD_SUCCEEDING"] == "1"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert env["AWS_REGION"] == "us-east-1"


def test_the_build_runs_with_the_service_role_credentials(out: dict[str, Any]) -> None:
    build_uuid = out["main"]["id"].split(":", 1)[1]
    assert out["caller"].endswith(f":assumed-role/build-role/AWSCodeBuild-{build_uuid}")
    assert not out["run_lock_held"]
    registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert out["logins"] == [[registry, f"token:123456789012:{out['role']}"]]


def test_shell_state_carries_from_command_to_command(out: dict[str, Any]) -> None:
    assert out["carried"] == "carried installed\nfinally-ran\n"
    assert {"name": "PLAIN", "value": "carried"} in out["main"]["exported"]
    assert {"name": "FROM_INSTALL", "value": "installed"} in out["main"]["exported"]
    exported = {e["name"]: e["value"] for e in out["main"]["exported"]}
    assert exported["DEPLOYMENT_ID"] == "20260101T000000Z-"  # S3 source: no commit
    assert any(m.endswith("/src/out") for m in out["log"] if m.startswith("pre_build in"))


def test_the_artifact_is_zipped_to_s3_under_the_build_id(out: dict[str, Any]) -> None:
    build_uuid = out["main"]["id"].split(":", 1)[1]
    assert out["zip_key"] == f"builds/{build_uuid}/main.zip"
    assert out["zip"] == ["carried.txt", "env.txt", "nested/app.txt"]
    assert len(out["main"]["artifacts"]["sha256sum"]) == 64


def test_logs_go_to_the_group_and_stream(out: dict[str, Any]) -> None:
    log = out["log"]
    assert any(m.startswith("[Container] ") and m.endswith("Entering phase BUILD") for m in log)
    assert any(m.endswith("Running command PLAIN=carried") for m in log)
    assert "post_build succeeding=1" in log
    assert "token=*** password=*** stage=override" in log  # parameters and secrets masked
    assert "s3cr3t-token" not in "\n".join(log)


def test_a_failed_build_phase_still_runs_post_build_and_upload(out: dict[str, Any]) -> None:
    failed = out["fails_build"]
    assert failed["status"] == "FAILED"
    assert [p[0] for p in failed["phases"]] == SUCCEEDED_PHASES
    build = dict((p[0], p) for p in failed["phases"])["BUILD"]
    assert build[1:] == [
        "FAILED",
        ["COMMAND_EXECUTION_ERROR"],
        ["Error while executing command: sh -c 'exit 3'. Reason: exit status 3"],
    ]
    assert dict((p[0], p[1]) for p in failed["phases"])["POST_BUILD"] == "SUCCEEDED"
    assert "echo never" not in " ".join(failed["log"])
    assert "finally-build" in failed["log"]
    assert "post succeeding=0" in failed["log"]


def test_a_failed_install_goes_to_finalizing(out: dict[str, Any]) -> None:
    failed = out["fails_install"]
    assert failed["status"] == "FAILED"
    assert [(p[0], p[1]) for p in failed["phases"]][4:] == [
        ("INSTALL", "FAILED"),
        ("FINALIZING", "SUCCEEDED"),
        ("COMPLETED", None),
    ]


def test_on_failure_continue_goes_on_and_the_build_fails(out: dict[str, Any]) -> None:
    failed = out["continues"]
    assert failed["status"] == "FAILED"
    statuses = {p[0]: p[1] for p in failed["phases"]}
    assert statuses["PRE_BUILD"] == "FAILED" and statuses["BUILD"] == "SUCCEEDED"
    assert "build succeeding=0" in failed["log"]


def test_a_failing_finally_command_fails_its_phase(out: dict[str, Any]) -> None:
    build = {p[0]: p for p in out["finally_fails"]}["BUILD"]
    assert build[1] == "FAILED"
    assert build[3] == ["Error while executing command: false. Reason: exit status 1"]


def test_a_buildspec_that_does_not_parse_fails_download_source(out: dict[str, Any]) -> None:
    failed = out["bad_yaml"]
    assert failed["status"] == "FAILED"
    assert [p[:3] for p in failed["phases"]][3:] == [
        ["DOWNLOAD_SOURCE", "FAILED", ["YAML_FILE_ERROR"]],
        ["FINALIZING", "SUCCEEDED", []],
        ["COMPLETED", None, []],
    ]
    assert "line" in failed["phases"][3][3][0]
    shape = {p[0]: p for p in out["bad_shape"]}["DOWNLOAD_SOURCE"]
    assert shape[1:3] == ["FAILED", ["YAML_FILE_ERROR"]]
    assert "Expected Commands[0] to be of string type" in shape[3][0]
    missing = {p[0]: p for p in out["no_buildspec"]}["DOWNLOAD_SOURCE"]
    assert missing[2] == ["YAML_FILE_ERROR"]
    assert missing[3][0].endswith("/src/ci/other.yml: no such file or directory")


def test_env_shell_bash(out: dict[str, Any]) -> None:
    assert out["bash"]["status"] == "SUCCEEDED"
    assert "bash-ran" in out["bash"]["log"]


def test_what_cannot_be_read_or_pulled_fails_its_phase(out: dict[str, Any]) -> None:
    source = {p[0]: p for p in out["missing_parameter"]}["DOWNLOAD_SOURCE"]
    assert source[1:] == [
        "FAILED",
        ["Decrypted Variables Error"],
        ["parameter does not exist: /nope"],
    ]
    assert [p[0] for p in out["missing_image"]][2:] == ["PROVISIONING", "FINALIZING", "COMPLETED"]
    assert out["missing_image"][2][1] == "FAILED"


def test_a_build_past_its_timeout_times_out(out: dict[str, Any]) -> None:
    timed = out["timeout"]
    assert timed["status"] == "TIMED_OUT"
    assert timed["seconds"] < 10  # five emulated minutes are one second, not sleep's 20
    build = {p[0]: p for p in timed["phases"]}["BUILD"]
    assert build[1:3] == ["TIMED_OUT", ["BUILD_TIMED_OUT"]]
    assert [p[0] for p in timed["phases"]][-2:] == ["FINALIZING", "COMPLETED"]


def test_stop_build_stops_the_build(out: dict[str, Any]) -> None:
    assert out["stop_answer"] == "IN_PROGRESS"
    stopped = out["stopped"]
    assert stopped["status"] == "STOPPED"
    assert stopped["seconds"] < 10
    assert {p[0]: p[1] for p in stopped["phases"]}["BUILD"] == "STOPPED"
    assert [p[0] for p in stopped["phases"]][-2:] == ["FINALIZING", "COMPLETED"]
    assert [(p[0], p[1]) for p in out["stopped_queued"]] == [
        ("SUBMITTED", "SUCCEEDED"),
        ("QUEUED", "STOPPED"),
        ("FINALIZING", "SUCCEEDED"),
        ("COMPLETED", None),
    ]


def test_a_codecommit_source_builds_the_commit(out: dict[str, Any]) -> None:
    cc = out["codecommit"]
    assert cc["status"] == "SUCCEEDED"
    assert cc["resolved"] == cc["commit"]
    assert cc["version"] == f"7\n{cc['commit']}\n"
    assert cc["artifacts"] == "arn:aws:s3:::artifacts/cc"


def test_a_pipeline_build_reads_and_writes_its_artifacts(out: dict[str, Any]) -> None:
    piped = out["pipeline"]
    assert piped["status"] == "SUCCEEDED"
    assert piped["files"] == ["result.txt"]
    assert piped["result"] == "from-pipeline abc1234def\n"
    assert piped["socket"] is True  # privileged: the host engine's socket
    assert piped["user"] == "root"  # CodeBuild's default user
    assert out["socket_unprivileged"] is False
    assert out["status"]["running"] == []


def test_completed_builds_publish_their_metrics(out: dict[str, Any]) -> None:
    metrics = out["metrics"]
    assert metrics["main_builds"] == 2 and metrics["main_succeeded"] == 2
    assert metrics["main_failed"] == 0
    assert metrics["failed"] == 1
    assert metrics["slow_failed"] == 1  # the timed-out build; the stopped ones count in neither
    assert metrics["one_build"] == 1
    assert metrics["account_builds"] == out["all_ids"] - 1  # not the one stopped while queued
    assert {"Duration", "BuildDuration", "ProvisioningDuration", "FinalizingDuration"} <= set(
        metrics["names"]
    )


def test_test_reports_land_in_the_project_report_group(out: dict[str, Any]) -> None:
    reports = out["reports"]
    assert reports["status"] == "SUCCEEDED"  # a failing test case fails no phase by itself
    report = reports["report"]
    assert reports["arns"] == [report["arn"]]
    assert report["reportGroupArn"].endswith(":report-group/tested-unit-tests")
    assert report["arn"].split(":report/", 1)[1].startswith("tested-unit-tests:")
    assert report["status"] == "FAILED" and report["type"] == "TEST"
    assert report["testSummary"]["total"] == 4
    assert report["testSummary"]["statusCounts"] == {"SUCCEEDED": 2, "FAILED": 1, "SKIPPED": 1}
    assert report["testSummary"]["durationInNanoSeconds"] == 751_000_000
    assert reports["in_group"] == 2  # the second build's report joins the same group
    assert reports["groups"][0] == reports["created"]  # newest first
    assert any(m.startswith("Report absent: no test report files") for m in reports["log"])


def test_describe_test_cases_reads_and_filters_them(out: dict[str, Any]) -> None:
    reports = out["reports"]
    [failed] = reports["failed"]
    assert failed["name"] == "test_b" and failed["prefix"] == "tests.test_app"
    assert failed["status"] == "FAILED" and failed["testSuiteName"] == "pytest"
    assert "assert 1 == 2" in failed["message"]
    assert failed["durationInNanoSeconds"] == 250_000_000
    assert failed["testRawDataPath"] == "reports/unit.xml"
    assert [c["name"] for c in reports["all"]] == ["test_a", "test_b", "test_c", "test_d"]
    assert reports["keyword"] == ["test_c", "test_d"]
    assert reports["errors"] == {
        "duplicate": "ResourceAlreadyExistsException",
        "delete_with_reports": "InvalidInputException",
        "no_report": "ResourceNotFoundException",
    }
    assert reports["after_delete"] == [out["reports"]["report"]["reportGroupArn"]]


def test_secondary_artifacts_go_where_the_build_says(out: dict[str, Any]) -> None:
    secondary = out["secondary"]
    [extra] = secondary["build"]
    assert extra["artifactIdentifier"] == "extra"
    assert extra["location"] == "arn:aws:s3:::artifacts/second/x.zip"
    assert len(extra["sha256sum"]) == 64
    assert secondary["zip"] == ["result.txt"]
    assert secondary["undefined_status"] == "FAILED"
    assert secondary["undefined"][1:] == [
        "FAILED",
        ["CLIENT_ERROR"],
        ["no definition for secondary artifact nowhere in buildspec"],
    ]
