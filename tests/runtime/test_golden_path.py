"""The README's first command, then the build image, a release and the builds, for real:
one emulator with its runtime (issue 13's e2e tests, on staging's apply).

At time scale 10 (a build's 5-minute timeout is 30 s of the test; the services' health
checks and ECS's back-off run faster, which nothing here measures):

* `deployer apply staging` applies the delivery stack first (its repositories and build
  projects), says the build image is not in ECR yet, applies staging and pushes each
  service's bootstrap image: the task definitions name images that exist, every
  service_endpoints URL answers, and the seeded secret is in no log and no image layer;
* `deployer build-image --push` builds images/build-image with the Docker CLI and pushes
  it; a second push finds it there; a changed image under the same tag is refused, naming
  both digests;
* `deployer release` commits the sample monorepo, then a commit whose unit test fails;
* the build projects build those commits, all at once, in containers of the build image
  pulled from the emulator's ECR with the project's service role: api-service on the good
  commit (its unit tests pass and the report group has the test cases, the image lands in
  ECR under the deployment ID, the artifact zip holds imageDetail.json, the task
  definitions with that tag and the AppSpecs, the exported DEPLOYMENT_ID is
  ``YYYYMMDDTHHMMSSZ-<commit>``); api-service on the failing commit (BUILD fails naming
  the command and its exit status, the failing test is in the log and the report, nothing
  is pushed); the integration-tests project (the monorepo's integration tests); a
  buildspec that does not parse (YAML_FILE_ERROR); a build past its timeout (TIMED_OUT);
  a build stopped mid-BUILD (STOPPED, its container gone).

Builds outside the pipeline (whose projects take CODEPIPELINE sources and artifacts) name
their source and artifacts in StartBuild's overrides, as one would on AWS.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deployer.config import load as load_config
from tests.e2e.conftest import DeployerCLI

from .conftest import ROOT, Local, docker

CFG = load_config(ROOT)
DELIVERY = CFG.delivery.account_id
STAGING = CFG.environment("staging").account_id
REGION = CFG.names.delivery.region
REPOSITORIES = dict(CFG.names.delivery.ecr_repository_names)  # microservice -> repository
REPOSITORY = CFG.names.delivery.build_image_repo_name
TAG = CFG.pipeline.build_image_tag
SECRET = "runtime-Secret-Value-7c2e1a"

pytestmark = [pytest.mark.e2e, pytest.mark.time_scale(10.0)]


@pytest.fixture
def cli(registry_emulator: Local, tmp_path: Path) -> Iterator[DeployerCLI]:
    """The deployer, on the test's emulator, with a private TMPDIR."""
    runner = DeployerCLI(registry_emulator.state_dir)
    temp = tmp_path / "tmp"
    temp.mkdir()
    runner.env["TMPDIR"] = str(temp)
    try:
        yield runner
    finally:  # the tags the runs left; --no-prune keeps the layer cache for the next run
        host = f"{DELIVERY}.dkr.ecr.{REGION}.amazonaws.com"
        left = docker("images", "--format", "{{.Repository}}:{{.Tag}}")
        tags = [t for t in left.stdout.split() if t.startswith(host)]
        docker("rmi", "--no-prune", f"{REPOSITORY}:{TAG}", *tags)


def test_apply_staging_then_the_build_image_a_release_and_builds(
    registry_emulator: Local, cli: DeployerCLI, python_base: str, tmp_path: Path
) -> None:
    local = registry_emulator
    cli.env["DEPLOYER_SECRET_AUTH_SERVICE_JWT_SIGNING_KEY"] = SECRET
    applied = cli("apply", "staging", "--json", timeout=1500)
    assert applied.returncode == 0, applied.stderr[-3000:]
    assert "delivery is not applied on the local target" in applied.stderr
    assert f"{REPOSITORY}:{TAG} is not in ECR" in applied.stderr
    document = applied.json()
    assert [r["status"] for r in document["delivery_first"]["regions"]] == ["applied"]
    assert document["delivery_first"]["build_image"]["present"] is False
    check_staging(local, cli, applied)
    outputs = cli("output", "delivery", "--json").json()["regions"][REGION]
    ecr = local.client("ecr", DELIVERY, REGION)

    # -- the build image: pushed, already there, a changed one refused -------------------
    pushed = cli("build-image", "--push", "--json", timeout=1200)
    assert pushed.returncode == 0, pushed.stderr[-3000:]
    doc = pushed.json()
    uri = outputs["ecr_repository_urls"]["build-image"]
    assert doc["status"] == "pushed" and doc["target"] == "local"
    assert doc["image"] == f"{uri}:{TAG}" and doc["base"] == python_base
    [stored] = ecr.describe_images(repositoryName=REPOSITORY)["imageDetails"]
    assert stored["imageTags"] == [TAG] and stored["imageDigest"] == doc["digest"]
    # What was pushed is what the engine built: its manifest names the image's config.
    repo_digests = docker("image", "inspect", "--format", "{{json .RepoDigests}}", doc["image"])
    assert f"{uri}@{doc['digest']}" in json.loads(repo_digests.stdout)
    manifest = ecr.batch_get_image(repositoryName=REPOSITORY, imageIds=[{"imageTag": TAG}])
    assert json.loads(manifest["images"][0]["imageManifest"])["config"]["digest"] == doc["image_id"]
    assert "[build-image] pushing" in pushed.stderr

    again = cli("build-image", "--push", "--json")
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.json()["status"] == "already there"
    assert again.json()["digest"] == doc["digest"]
    assert "pushing" not in again.stderr

    note = f"BUILD_NOTE=changed {uuid.uuid4()}"
    changed = cli("build-image", "--push", "--json", "--build-arg", note)
    assert changed.returncode == 1, changed.stderr[-3000:]
    new_id = docker("image", "inspect", "--format", "{{.Id}}", f"{REPOSITORY}:{TAG}")
    assert new_id.stdout.strip() != doc["image_id"]
    assert doc["digest"] in changed.stderr and new_id.stdout.strip() in changed.stderr
    assert "raise pipeline.build_image_tag" in changed.stderr
    assert changed.json()["ok"] is False and "pushing" not in changed.stderr
    [still] = ecr.describe_images(repositoryName=REPOSITORY)["imageDetails"]
    assert still["imageDigest"] == doc["digest"]

    # -- two commits: the sample monorepo, then one whose unit test fails ----------------
    # A push starts the pipeline (the delivery stack's EventBridge rule on the branch): its
    # builds are held before the Build stage, so that only this test's builds run (and
    # push to ECR) here; carrying a commit through the pipeline is issue 14's.
    codepipeline = local.client("codepipeline", DELIVERY, REGION)
    pipeline = outputs["pipeline_name"]
    codepipeline.disable_stage_transition(
        pipelineName=pipeline,
        stageName="Build",
        transitionType="Inbound",
        reason="the golden path runs its own builds",
    )
    source = tmp_path / "monorepo"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "test-reports")
    shutil.copytree(ROOT / "examples" / "monorepo", source, ignore=skip)
    good = cli("release", "--source", str(source), "--message", "the sample", "--json")
    assert good.returncode == 0, good.stderr[-3000:]
    good_commit = good.json()["commit"]
    tests = source / "services" / "api-service" / "tests" / "test_api_service.py"
    tests.write_text(
        tests.read_text() + "\n\ndef test_a_deliberate_failure() -> None:\n"
        '    assert 1 + 1 == 3, "deliberately failing"\n'
    )
    bad = cli("release", "--source", str(source), "--message", "a failing test", "--json")
    assert bad.returncode == 0, bad.stderr[-3000:]
    bad_commit = bad.json()["commit"]
    assert bad.json()["updated"] == [str(tests.relative_to(source))]
    # Each push started an execution (trigger CloudWatchEvent, the source rule).
    triggered = codepipeline.list_pipeline_executions(pipelineName=pipeline)
    summaries = triggered["pipelineExecutionSummaries"]
    assert len(summaries) == 2, summaries
    assert {e["trigger"]["triggerType"] for e in summaries} == {"CloudWatchEvent"}

    # -- the builds, all at once ----------------------------------------------------------
    # Offline, the services build on the project's offline base: the build-time parameter
    # BASE_IMAGE, under the project's parameter path (the buildspec's --build-arg), which
    # the bootstrap images' push set, as they were built on it.
    ssm = local.client("ssm", DELIVERY, REGION)
    for service in REPOSITORIES:
        name = f"/pipeline/delivery/{service}/BASE_IMAGE"
        assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == python_base, name
    codebuild = local.client("codebuild", DELIVERY, REGION)
    project = outputs["build_project_names"]["api-service"]
    # The artifacts go to a bucket of the test's: the pipeline's artifact store denies
    # requests without TLS (DenyInsecureTransport), and the emulator answers plain HTTP.
    s3 = local.client("s3", DELIVERY, REGION)
    bucket = f"{CFG.name_prefix(CFG.delivery.name)}-e2e-build-output"
    s3.create_bucket(Bucket=bucket)
    from_commit = {
        "sourceTypeOverride": "CODECOMMIT",
        "sourceLocationOverride": outputs["repository_clone_url_http"],
    }

    sleep = "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 600\n"

    def start(name: str, commit: str, **overrides: Any) -> str:
        artifacts: dict[str, str] = {"type": "NO_ARTIFACTS"}
        if name == project:
            artifacts = {
                "type": "S3",
                "location": bucket,
                "path": "e2e-builds",
                "namespaceType": "BUILD_ID",
                "name": "out.zip",
                "packaging": "ZIP",
            }
        started = codebuild.start_build(
            projectName=name,
            sourceVersion=commit,
            artifactsOverride=artifacts,
            **from_commit,
            **overrides,
        )
        return str(started["build"]["id"])

    api_repository = REPOSITORIES["api-service"]

    def api_tags() -> set[str]:
        details = ecr.describe_images(repositoryName=api_repository)["imageDetails"]
        return {tag for image in details for tag in image.get("imageTags", [])}

    assert api_tags() == {"bootstrap"}
    ids = {
        "good": start(project, good_commit),
        "failing": start(project, bad_commit),
        "integration": start(
            f"{CFG.name_prefix(CFG.delivery.name)}-integration-tests", good_commit
        ),
        "unparsable": start(project, good_commit, buildspecOverride="version: 0.2\nphases: [\n"),
        "timeout": start(project, good_commit, buildspecOverride=sleep, timeoutInMinutesOverride=5),
        "stopped": start(project, good_commit, buildspecOverride=sleep),
    }
    until = time.monotonic() + 900
    # StopBuild mid-BUILD.
    while True:
        (running,) = codebuild.batch_get_builds(ids=[ids["stopped"]])["builds"]
        if running["currentPhase"] == "BUILD":
            break
        assert not running["buildComplete"] and time.monotonic() < until, running
        time.sleep(1)
    codebuild.stop_build(id=ids["stopped"])
    builds = {name: wait_for(codebuild, build_id, until) for name, build_id in ids.items()}

    # The good build: tests passed, image pushed under the deployment ID, artifacts.
    built = builds["good"]
    assert built["buildStatus"] == "SUCCEEDED", story(local, built)
    assert built["resolvedSourceVersion"] == good_commit
    assert [p["phaseType"] for p in built["phases"]] == [
        "SUBMITTED", "QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD",
        "BUILD", "POST_BUILD", "UPLOAD_ARTIFACTS", "FINALIZING", "COMPLETED",
    ]  # fmt: skip
    exported = {v["name"]: v["value"] for v in built["exportedEnvironmentVariables"]}
    deployment_id = exported["DEPLOYMENT_ID"]
    assert re.fullmatch(rf"\d{{8}}T\d{{6}}Z-{good_commit[:7]}", deployment_id), deployment_id
    (report_arn,) = built["reportArns"]
    cases = codebuild.describe_test_cases(reportArn=report_arn)["testCases"]
    assert cases and {c["status"] for c in cases} == {"SUCCEEDED"}
    assert any(c["name"].startswith("test_health") for c in cases), [c["name"] for c in cases]
    assert api_tags() == {"bootstrap", deployment_id}
    location = built["artifacts"]["location"]  # arn:aws:s3:::bucket/key
    key = location.split(":::", 1)[1].split("/", 1)[1]
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = set(archive.namelist())
        detail = json.loads(archive.read("imageDetail.json"))
        taskdefs = {n: json.loads(archive.read(n)) for n in names if n.startswith("taskdef-")}
        assert archive.read("deployment-id.txt").decode().strip() == deployment_id
    repository_uri = outputs["ecr_repository_urls"]["api-service"]
    assert detail == {"ImageURI": f"{repository_uri}:{deployment_id}"}
    # One task definition per deploy target, each naming its own region's repository.
    assert set(taskdefs) == {f"taskdef-{t}.json" for t in outputs["deploy_targets"]}
    for name, taskdef in taskdefs.items():
        (container,) = taskdef["containerDefinitions"]
        assert container["image"].endswith(f"-api-service:{deployment_id}"), (name, container)
    assert any(n.startswith("appspec-") for n in names), names
    assert "Running command python3 -m pytest tests" in log_text(local, built)

    # The failing commit: BUILD failed on pytest, in the log and the report; nothing pushed.
    failed = builds["failing"]
    assert failed["buildStatus"] == "FAILED"
    build_phase = phase(failed, "BUILD")
    assert build_phase["phaseStatus"] == "FAILED"
    (context,) = build_phase["contexts"]
    assert context["statusCode"] == "COMMAND_EXECUTION_ERROR"
    assert context["message"] == (
        "Error while executing command: python3 -m pytest tests "
        "--junitxml=test-reports/unit-tests.xml. Reason: exit status 1"
    )
    assert "deliberately failing" in log_text(local, failed)
    (failed_report,) = failed["reportArns"]
    failed_cases = codebuild.describe_test_cases(reportArn=failed_report)["testCases"]
    assert [c["name"] for c in failed_cases if c["status"] == "FAILED"] == [
        "test_a_deliberate_failure"
    ]
    # CodeBuild runs post_build after a failed build phase; its first command stops it.
    (post_context,) = phase(failed, "POST_BUILD")["contexts"]
    assert post_context["message"].startswith(
        'Error while executing command: test "$CODEBUILD_BUILD_SUCCEEDING" = 1.'
    )
    assert api_tags() == {"bootstrap", deployment_id}  # nothing of the failing commit

    # The integration tests.
    integration = builds["integration"]
    text = log_text(local, integration)
    assert integration["buildStatus"] == "SUCCEEDED", story(local, integration)
    assert re.search(r"\d+ passed", text), text[-2000:]
    (integration_report,) = integration["reportArns"]
    assert codebuild.describe_test_cases(reportArn=integration_report)["testCases"]

    # A buildspec that does not parse, a timeout, a stop.
    unparsable = builds["unparsable"]
    assert unparsable["buildStatus"] == "FAILED"
    assert phase(unparsable, "DOWNLOAD_SOURCE")["contexts"][0]["statusCode"] == "YAML_FILE_ERROR"
    timed_out = builds["timeout"]
    assert timed_out["buildStatus"] == "TIMED_OUT"
    assert phase(timed_out, "BUILD")["phaseStatus"] == "TIMED_OUT"
    stopped = builds["stopped"]
    assert stopped["buildStatus"] == "STOPPED"
    assert phase(stopped, "BUILD")["phaseStatus"] == "STOPPED"
    containers = docker("ps", "-a", "--format", "{{.Names}} {{.Labels}}")
    for build in (timed_out, stopped):
        assert build["id"].split(":")[-1] not in containers.stdout


def check_staging(local: Local, cli: DeployerCLI, applied: Any) -> None:
    """staging's apply on the local target: its task definitions name <repository>:bootstrap
    images that are in ECR, its endpoints answer, its secret is nowhere to be read."""
    document = applied.json()
    assert "warning: bootstrap images" not in applied.stderr
    ecr = local.client("ecr", DELIVERY)
    uris = {
        service: ecr.describe_repositories(repositoryNames=[name])["repositories"][0][
            "repositoryUri"
        ]
        for service, name in REPOSITORIES.items()
    }
    images = {i["service"]: i for i in document["images"]["images"]}
    assert {s: i["status"] for s, i in images.items()} == dict.fromkeys(REPOSITORIES, "pushed")

    # Each task definition names <repository>:bootstrap, and that image is in ECR.
    ecs = local.client("ecs", STAGING)
    named = set()
    for arn in ecs.list_task_definitions()["taskDefinitionArns"]:
        definition = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        named |= {c["image"] for c in definition["containerDefinitions"]}
    assert named == {f"{uri}:bootstrap" for uri in uris.values()}
    for service, repository in REPOSITORIES.items():
        assert bootstrap_digest(local, repository, "us-east-1") == images[service]["digest"]

    # Every service_endpoints URL is the loopback port serving its production listener,
    # and answers /health with its service's JSON once its tasks run (auth-service's
    # after its secret is seeded: its first tasks stop with ResourceInitializationError,
    # then ECS's back-off). load_balancer_dns_names stay AWS's.
    (region,) = document["regions"]
    urls = region["outputs"]["service_endpoints"]
    assert set(urls) == set(REPOSITORIES)
    for service, url in urls.items():
        assert url.startswith("http://127.0.0.1:"), url
        assert region["outputs"]["load_balancer_dns_names"][service].endswith(".elb.amazonaws.com")
        health = wait_for_health(f"{url}/health", service)
        if service == "auth-service":
            assert health["signing_key"] == "set"  # the secret reached its environment
    shown = cli("output", "staging", "--json")
    assert shown.json()["regions"]["us-east-1"]["service_endpoints"] == urls
    # The secret's value is in no log: the deployer's, the emulator's, the services'.
    logs = local.client("logs", STAGING)
    for group in logs.describe_log_groups()["logGroups"]:
        for event in logs.filter_log_events(logGroupName=group["logGroupName"])["events"]:
            assert SECRET not in event["message"], group["logGroupName"]
    assert SECRET not in applied.stdout + applied.stderr
    emulator_log = (local.state_dir / "emulator.log").read_text(errors="replace")
    assert SECRET not in emulator_log
    # ... nor in any image layer: each pushed image's history and files.
    for image in images.values():
        history = docker("history", "--no-trunc", image["image"])
        assert history.returncode == 0 and SECRET not in history.stdout
        saved = subprocess.run(
            ["docker", "save", image["image"]], capture_output=True, timeout=300, check=False
        )
        assert saved.returncode == 0 and saved.stdout and SECRET.encode() not in saved.stdout


def wait_for(codebuild: Any, build_id: str, until: float) -> dict[str, Any]:
    while True:
        (build,) = codebuild.batch_get_builds(ids=[build_id])["builds"]
        if build["buildComplete"]:
            return dict(build)
        assert time.monotonic() < until, f"{build_id} still {build['currentPhase']}"
        time.sleep(2)


def story(local: Local, build: dict[str, Any]) -> str:
    """A build's phases (status, contexts) and the end of its log, for a failure message."""
    phases = [
        f"{p['phaseType']} {p.get('phaseStatus', '-')} {p.get('contexts', '')}"
        for p in build["phases"]
    ]
    return "\n".join([*phases, log_text(local, build)[-4000:]])


def phase(build: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [p for p in build["phases"] if p["phaseType"] == name]
    return dict(found)


def log_text(local: Local, build: dict[str, Any]) -> str:
    logs = local.client("logs", DELIVERY, REGION)
    where = build["logs"]
    events = logs.get_log_events(
        logGroupName=where["groupName"], logStreamName=where["streamName"], startFromHead=True
    )["events"]
    return "\n".join(e["message"] for e in events)


def bootstrap_digest(local: Local, repository: str, region: str) -> str | None:
    ecr = local.client("ecr", DELIVERY, region)
    try:
        details = ecr.describe_images(
            repositoryName=repository, imageIds=[{"imageTag": "bootstrap"}]
        )
    except ecr.exceptions.ImageNotFoundException:
        return None
    return str(details["imageDetails"][0]["imageDigest"])


def wait_for_health(url: str, service: str, timeout: float = 300.0) -> dict[str, Any]:
    """GET ``url`` until it answers 200 with ``service``'s JSON; the last answer on failure."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                body = json.loads(response.read())
                if response.status == 200 and body.get("service") == service:
                    return dict(body)
                last = (response.status, body)
        except (OSError, ValueError) as exc:
            last = exc
        time.sleep(2)
    raise AssertionError(f"{url} did not answer as {service} within {timeout:.0f} s: {last}")
