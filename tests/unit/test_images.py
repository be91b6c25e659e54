"""`deployer images bootstrap`: which images are built and pushed, and what a user reads.

ECR is moto in-process (the delivery account through its role, as on AWS); Docker is a
fake that records each call and, for a push, stores the image in moto's ECR the way a
registry would, in us-west-2 too when replication is on. tests/runtime/
test_bootstrap_images.py does the same with the real Docker CLI and the emulator's
registry.
"""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from deployer import cli, images
from deployer.aws import AWS, LOCAL, ClientFactory, Target
from deployer.config import Config
from deployer.errors import DeployerError, UsageError
from deployer.images import Completed
from deployer.output import Reporter

ROOT = Path(__file__).resolve().parents[2]
DELIVERY = "111111111111"
ROLE = "OrganizationAccountAccessRole"
SERVICES = ("api-service", "auth-service", "notification-service")
PUBLIC_BASE = "python:3.12-slim"


@dataclass
class Call:
    args: list[str]
    config: Path | None
    stdin: str | None


@dataclass
class FakeDocker:
    """The Docker CLI as the workflow sees it; a push lands in moto's ECR."""

    clients: ClientFactory
    engine: bool = True
    images: set[str] = field(default_factory=lambda: {images.OFFLINE_BASE})
    pullable: bool = False
    replicate_to: tuple[str, ...] = ()
    failing_build: str | None = None  # a service whose build fails
    unresolved: int = 0  # logins that fail before the registry's name resolves
    calls: list[Call] = field(default_factory=list)
    scripts: list[Path] = field(default_factory=list)
    #: What the login wrote, read back while the config folder still existed.
    logged_in: dict[str, Any] = field(default_factory=dict)

    def docker(
        self,
        args: Sequence[str],
        *,
        timeout: float,
        config: Path | None = None,
        stdin: str | None = None,
    ) -> Completed:
        args = list(args)
        self.calls.append(Call(args, config, stdin))
        if not self.engine:
            return Completed(
                1, "Cannot connect to the Docker daemon. Is the docker daemon running?"
            )
        verb = args[0]
        if verb == "version":
            return Completed(0, "20.10.24\n")
        if verb == "image":
            return Completed(0 if args[-1] in self.images else 1, "Error: No such image")
        if verb == "pull":
            if self.pullable:
                self.images.add(args[1])
                return Completed(0, "pulled")
            return Completed(
                1, 'Error response from daemon: Get "https://registry-1.docker.io/v2/"'
            )
        if verb == "login":
            assert config is not None and config.is_dir()
            if self.unresolved:
                self.unresolved -= 1
                return Completed(1, f'Get "https://{args[-1]}/v2/": dial tcp: no such host')
            (config / "config.json").write_text(json.dumps({"auths": {args[-1]: {"auth": "x"}}}))
            self.logged_in = {"host": args[-1], "user": args[args.index("--username") + 1]}
            return Completed(0, "Login Succeeded")
        if verb == "build":
            context = Path(args[-1])
            if context.name == self.failing_build:
                lines = [f"Step {n}/40 : RUN something" for n in range(1, 40)]
                return Completed(1, "\n".join([*lines, "COPY failed: no such file: app.py"]))
            self.images.add(args[args.index("-t") + 1])
            return Completed(0, "Successfully built")
        if verb == "tag":
            self.images.add(args[2])
            return Completed(0, "")
        if verb == "rmi":
            self.images.discard(args[1])
            return Completed(0, "")
        if verb == "push":
            assert config is not None and (config / "config.json").is_file(), "not logged in"
            self.store(args[1])
            return Completed(0, "bootstrap: digest: sha256:... size: 1")
        raise AssertionError(f"unexpected docker {args}")

    def script(self, path: Path, *, timeout: float) -> Completed:
        self.scripts.append(path)
        self.images.add(images.OFFLINE_BASE)
        return Completed(0, "base-images: built")

    def store(self, image: str) -> None:
        """What a registry does with a push: an image in ECR (and its replicas)."""
        host, _, rest = image.partition("/")
        repository, _, tag = rest.partition(":")
        region = host.split(".")[3]
        for where in (region, *self.replicate_to):
            put_image(self.clients, where, repository, tag, content=image)

    def verbs(self) -> list[str]:
        return [c.args[0] for c in self.calls]

    def built(self) -> list[str]:
        return [Path(c.args[-1]).name for c in self.calls if c.args[0] == "build"]


def put_image(clients: ClientFactory, region: str, repository: str, tag: str, content: str) -> None:
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"digest": "sha256:" + "0" * 64, "size": 1, "mediaType": "x"},
        "layers": [{"digest": "sha256:" + "1" * 64, "size": 10, "mediaType": "x"}],
        "annotations": {"content": content},
    }
    ecr(clients, region).put_image(
        repositoryName=repository, imageTag=tag, imageManifest=json.dumps(manifest)
    )


def ecr(clients: ClientFactory, region: str) -> Any:
    return clients.client("ecr", region, account_id=DELIVERY, role_name=ROLE)


def repositories(clients: ClientFactory, *regions: str) -> None:
    """The delivery stack's repositories (the microservices'), in each region."""
    for region in regions or ("us-east-1",):
        for service in SERVICES:
            ecr(clients, region).create_repository(
                repositoryName=f"acme-shop-delivery-{service}", imageTagMutability="IMMUTABLE"
            )


@dataclass
class Run:
    bootstrap: images.Bootstrap
    docker: FakeDocker
    err: io.StringIO
    out: io.StringIO


def make(
    cfg: Config,
    clients: ClientFactory,
    env: str = "staging",
    *,
    docker: FakeDocker | None = None,
    source: Path = ROOT / "examples" / "monorepo",
    script: Path | None = None,
    registry: images.RegistryState | None = None,
    verbosity: int = 0,
    target: Target | None = None,
) -> Run:
    err, out = io.StringIO(), io.StringIO()
    fake = docker or FakeDocker(clients)
    bootstrap = images.Bootstrap(
        config=cfg,
        env=cfg.environment(env),
        target=target or Target(AWS),
        clients=clients,
        reporter=Reporter(stream=err, out=out, verbosity=verbosity),
        source=source,
        docker=fake,
        base_images_script=script,
        registry=lambda _target: registry or images.RegistryState(up=True),
        replication_wait_s=0.0,
    )
    return Run(bootstrap, fake, err, out)


# ---------------------------------------------------------------------------
def test_every_missing_image_is_built_once_and_pushed_with_a_private_login(
    aws: ClientFactory, cfg: Config
) -> None:
    repositories(aws)
    run = make(cfg, aws, verbosity=2)
    report = run.bootstrap.run()

    assert [i.status for i in report.images] == [images.PUSHED] * 3
    assert sorted(run.docker.built()) == sorted(SERVICES)
    for image in report.images:
        assert image.image == (
            f"{DELIVERY}.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-{image.service}"
            ":bootstrap"
        )
        assert image.regions == {"us-east-1": images.PUSHED}
        described = ecr(aws, "us-east-1").describe_images(
            repositoryName=image.repository_name, imageIds=[{"imageTag": "bootstrap"}]
        )["imageDetails"][0]
        assert image.digest == described["imageDigest"]
    # The task definitions' names: what modules/naming calls image_repository.
    names = cfg.names.target("staging", "us-east-1")
    assert {i.image for i in report.images} == {
        f"{names.service(s).image_repository}:bootstrap" for s in SERVICES
    }
    # One login, the password on stdin, into a private folder that is gone afterwards.
    (login,) = [c for c in run.docker.calls if c.args[0] == "login"]
    token = ecr(aws, "us-east-1").get_authorization_token()["authorizationData"][0]
    password = base64.b64decode(token["authorizationToken"]).decode().partition(":")[2]
    assert login.stdin == password and password not in login.args
    assert login.args[-1] == f"{DELIVERY}.dkr.ecr.us-east-1.amazonaws.com"
    assert login.config is not None and not login.config.exists()
    assert login.config != Path.home() / ".docker"
    pushes = [c for c in run.docker.calls if c.args[0] == "push"]
    assert len(pushes) == 3 and {c.config for c in pushes} == {login.config}
    # Builds are on the offline base here (the public one cannot be pulled), and say so.
    builds = [c.args for c in run.docker.calls if c.args[0] == "build"]
    assert all(f"BASE_IMAGE={images.OFFLINE_BASE}" in b for b in builds)
    assert set(report.bases.values()) == {report.bases["api-service"]}
    assert f"{PUBLIC_BASE} cannot be pulled" in report.bases["api-service"].reason
    assert f"built on {images.OFFLINE_BASE}" in report.text()
    # Progress per service on stderr, even at -vv never the token.
    said = run.err.getvalue()
    assert "[api-service] pushing" in said and "[notification-service] pushed" in said
    assert password not in said + json.dumps(report.to_json()) + report.text()


def test_a_login_waits_for_a_registry_name_the_engine_does_not_resolve_yet(
    aws: ClientFactory, cfg: Config
) -> None:
    repositories(aws)
    run = make(cfg, aws, docker=FakeDocker(aws, unresolved=2))
    report = run.bootstrap.run()
    assert run.docker.verbs().count("login") == 3
    assert [i.status for i in report.images] == [images.PUSHED] * 3


def test_images_already_there_are_reported_and_never_rebuilt(
    aws: ClientFactory, cfg: Config
) -> None:
    repositories(aws)
    put_image(aws, "us-east-1", "acme-shop-delivery-auth-service", "bootstrap", "earlier")
    run = make(cfg, aws)
    report = run.bootstrap.run()

    status = {i.service: i.status for i in report.images}
    assert status == {
        "api-service": images.PUSHED,
        "auth-service": images.ALREADY_THERE,
        "notification-service": images.PUSHED,
    }
    assert sorted(run.docker.built()) == ["api-service", "notification-service"]
    assert "[auth-service] already there" in run.err.getvalue()

    # A second run builds nothing and needs no engine at all.
    again = make(cfg, aws, docker=FakeDocker(aws, engine=False))
    second = again.bootstrap.run()
    assert {i.status for i in second.images} == {images.ALREADY_THERE}
    assert again.docker.calls == []
    assert "already there" in second.text()


def test_prod_pushes_once_to_the_delivery_region_and_replication_does_the_rest(
    aws: ClientFactory, cfg: Config
) -> None:
    repositories(aws, "us-east-1", "us-west-2")
    run = make(cfg, aws, "prod", docker=FakeDocker(aws, replicate_to=("us-west-2",)))
    report = run.bootstrap.run()

    assert [c.args[1].split(".")[3] for c in run.docker.calls if c.args[0] == "push"] == [
        "us-east-1"
    ] * 3
    for image in report.images:
        assert image.regions == {"us-east-1": images.PUSHED, "us-west-2": images.REPLICATED}
    assert "warning" not in run.err.getvalue()


def test_a_region_replication_did_not_reach_is_a_warning_not_a_second_push(
    aws: ClientFactory, cfg: Config
) -> None:
    repositories(aws, "us-east-1", "us-west-2")
    run = make(cfg, aws, "prod")  # no replication
    report = run.bootstrap.run()

    assert len([c for c in run.docker.calls if c.args[0] == "push"]) == 3
    assert {i.regions["us-west-2"] for i in report.images} == {images.NOT_REPLICATED}
    warnings = [line for line in run.err.getvalue().splitlines() if "warning" in line]
    assert len(warnings) == 3 and all("not in us-west-2" in w for w in warnings)


def test_an_old_image_missing_in_a_replica_region_is_reported_at_once_not_waited_for(
    aws: ClientFactory, cfg: Config
) -> None:
    repositories(aws, "us-east-1", "us-west-2")
    for service in SERVICES:  # pushed before replication was configured
        put_image(aws, "us-east-1", f"acme-shop-delivery-{service}", "bootstrap", "earlier")
    run = make(cfg, aws, "prod")
    run.bootstrap.replication_wait_s = 60.0
    started = time.monotonic()
    report = run.bootstrap.run()
    assert time.monotonic() - started < 10  # replication only copies new pushes
    assert {i.regions["us-west-2"] for i in report.images} == {images.NOT_REPLICATED}
    assert len([w for w in run.err.getvalue().splitlines() if "not in us-west-2" in w]) == 3
    assert run.docker.calls == []


def test_without_an_engine_the_error_says_services_will_not_run_and_how_to_get_one(
    aws: ClientFactory, cfg: Config
) -> None:
    repositories(aws)
    run = make(cfg, aws, docker=FakeDocker(aws, engine=False))
    with pytest.raises(DeployerError) as info:
        run.bootstrap.run()
    text = str(info.value)
    assert "no Docker engine answers (Cannot connect to the Docker daemon" in text
    assert "services will not run" in text
    assert "bin/docker-engine" in text and "start Docker" in text
    assert run.docker.verbs() == ["version"]  # nothing built or pushed


def test_a_registry_that_is_down_is_named_with_its_reason_before_anything_is_built(
    aws: ClientFactory, cfg: Config
) -> None:
    repositories(aws)
    down = images.RegistryState(up=False, reason="cannot listen on 127.0.0.1:80: Permission denied")
    run = make(cfg, aws, registry=down)
    with pytest.raises(DeployerError) as info:
        run.bootstrap.run()
    assert "registry is down (cannot listen on 127.0.0.1:80: Permission denied)" in str(info.value)
    assert "build" not in run.docker.verbs()


def test_a_failed_build_names_the_service_and_shows_the_end_of_its_output(
    aws: ClientFactory, cfg: Config
) -> None:
    repositories(aws)
    run = make(cfg, aws, docker=FakeDocker(aws, failing_build="auth-service"))
    with pytest.raises(DeployerError) as info:
        run.bootstrap.run()
    message = info.value.message
    assert message.startswith("building auth-service's image failed (docker build exit 1)")
    assert "COPY failed: no such file: app.py" in message  # the last line
    assert "Step 39/40" in message and "Step 1/40" not in message  # the tail only
    assert "services/auth-service/Dockerfile" in str(info.value.hint)


def test_a_missing_repository_says_to_apply_the_delivery_stack_first(
    aws: ClientFactory, cfg: Config
) -> None:
    run = make(cfg, aws)
    with pytest.raises(DeployerError) as info:
        run.bootstrap.run()
    assert "no ECR repository acme-shop-delivery-api-service in us-east-1" in info.value.message
    assert "deployer apply delivery" in str(info.value.hint)
    assert run.docker.calls == []


def test_the_delivery_environment_deploys_no_services(aws: ClientFactory, cfg: Config) -> None:
    with pytest.raises(UsageError, match="deploys no services"):
        make(cfg, aws, "delivery").bootstrap.run()


def test_a_monorepo_without_a_service_is_a_usage_error(
    aws: ClientFactory, cfg: Config, tmp_path: Path
) -> None:
    repositories(aws)
    run = make(cfg, aws, source=tmp_path)
    with pytest.raises(UsageError, match="services/api-service/Dockerfile"):
        run.bootstrap.run()
    assert run.docker.calls == []


@pytest.mark.parametrize(
    ("in_engine", "pullable", "with_script", "base", "reason"),
    [
        ({PUBLIC_BASE}, False, False, PUBLIC_BASE, "in the engine"),
        (set(), True, False, PUBLIC_BASE, "pulled"),
        ({images.OFFLINE_BASE}, False, False, images.OFFLINE_BASE, "cannot be pulled"),
        (set(), False, True, images.OFFLINE_BASE, "cannot be pulled"),
    ],
)
def test_the_public_base_when_it_can_be_had_else_the_offline_one(
    aws: ClientFactory,
    cfg: Config,
    tmp_path: Path,
    in_engine: set[str],
    pullable: bool,
    with_script: bool,
    base: str,
    reason: str,
) -> None:
    repositories(aws)
    script = tmp_path / "base-images"
    script.write_text("#!/bin/sh\n")
    docker = FakeDocker(aws, images=set(in_engine), pullable=pullable)
    run = make(cfg, aws, docker=docker, script=script if with_script else None)
    report = run.bootstrap.run()
    assert {b.image for b in report.bases.values()} == {base}
    assert reason in report.bases["api-service"].reason
    assert docker.scripts == ([script] if with_script else [])
    assert docker.verbs().count("pull") == (0 if PUBLIC_BASE in in_engine else 1)  # once a run


def ssm(clients: ClientFactory) -> Any:
    return clients.client("ssm", "us-east-1", account_id=DELIVERY, role_name=ROLE)


@pytest.mark.parametrize("kind", [LOCAL, AWS])
def test_on_the_local_target_the_offline_base_becomes_the_builds_base_image(
    aws: ClientFactory, cfg: Config, kind: str
) -> None:
    # The emulator's builds run in this engine, which cannot pull the public base either:
    # their BASE_IMAGE parameter names the offline one; a value of the user's is kept.
    # On AWS the builds run elsewhere: nothing is set.
    repositories(aws)
    mine = "/pipeline/delivery/auth-service/BASE_IMAGE"
    ssm(aws).put_parameter(Name=mine, Value="my-mirror/python:3.12", Type="String")
    run = make(cfg, aws, target=Target(kind, "http://127.0.0.1:1"))
    report = run.bootstrap.run()
    values = {
        p["Name"]: p["Value"]
        for p in ssm(aws).get_parameters_by_path(Path="/pipeline/delivery/", Recursive=True)[
            "Parameters"
        ]
    }
    if kind == AWS:
        assert values == {mine: "my-mirror/python:3.12"} and report.build_parameters == {}
        return
    assert values == {
        "/pipeline/delivery/api-service/BASE_IMAGE": images.OFFLINE_BASE,
        mine: "my-mirror/python:3.12",
        "/pipeline/delivery/notification-service/BASE_IMAGE": images.OFFLINE_BASE,
    }
    assert report.to_json()["build_parameters"]["auth-service"] == {"name": mine, "status": "kept"}
    assert f"build parameter {mine}: kept" in report.text()
    assert "[api-service] builds' /pipeline/delivery/api-service/BASE_IMAGE" in run.err.getvalue()


def test_no_base_at_all_says_how_to_build_the_offline_one(aws: ClientFactory, cfg: Config) -> None:
    repositories(aws)
    run = make(cfg, aws, docker=FakeDocker(aws, images=set()))
    with pytest.raises(DeployerError) as info:
        run.bootstrap.run()
    assert f"{PUBLIC_BASE} cannot be pulled" in info.value.message
    assert "bin/base-images" in str(info.value.hint)


# ---------------------------------------------------------------------------
# After `apply` on the local target
# ---------------------------------------------------------------------------
def warnings_in(run: Run) -> list[str]:
    return [line for line in run.err.getvalue().splitlines() if line.startswith("warning:")]


def test_for_apply_without_an_engine_warns_once_and_does_not_fail(
    aws: ClientFactory, cfg: Config
) -> None:
    repositories(aws)
    run = make(cfg, aws, docker=FakeDocker(aws, engine=False))
    report, skipped = run.bootstrap.for_apply()
    assert report is None and skipped and "no Docker engine answers" in skipped
    (warning,) = warnings_in(run)
    assert "services will not run" in warning and "bin/docker-engine" in run.err.getvalue()


def test_for_apply_with_the_registry_down_warns_once_with_the_reason(
    aws: ClientFactory, cfg: Config
) -> None:
    repositories(aws)
    down = images.RegistryState(up=False, reason="cannot listen on 127.0.0.1:80: Address in use")
    run = make(cfg, aws, registry=down)
    report, _ = run.bootstrap.for_apply()
    assert report is None
    (warning,) = warnings_in(run)
    assert "registry is down (cannot listen on 127.0.0.1:80: Address in use)" in warning


def test_for_apply_on_an_emulator_without_its_runtime_says_nothing(
    aws: ClientFactory, cfg: Config
) -> None:
    repositories(aws)
    off = images.RegistryState(up=False, reason="without its runtime", runtime_off=True)
    run = make(cfg, aws, registry=off)
    assert run.bootstrap.for_apply() == (None, "without its runtime")
    assert run.err.getvalue() == "" and run.docker.calls == []


def test_for_apply_pushes_what_is_missing(aws: ClientFactory, cfg: Config) -> None:
    repositories(aws)
    run = make(cfg, aws)
    report, skipped = run.bootstrap.for_apply()
    assert skipped is None and report is not None
    assert [i.status for i in report.images] == [images.PUSHED] * 3
    assert warnings_in(run) == []


# ---------------------------------------------------------------------------
# The Docker CLI as a subprocess, and the command line
# ---------------------------------------------------------------------------
def test_a_private_config_keeps_the_current_engine_and_never_takes_the_token_as_argument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bin" / "docker"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = context ]; then echo unix:///run/desktop.sock; exit 0; fi\n'
        'echo "args=$* config=${DOCKER_CONFIG:-} host=${DOCKER_HOST:-} stdin=$(cat)"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    runner = images.Subprocesses()
    config = tmp_path / "config"
    done = runner.docker(["login", "--password-stdin", "h"], timeout=10, config=config, stdin="pw")
    assert done.ok
    assert done.output.strip() == (
        f"args=login --password-stdin h config={config} host=unix:///run/desktop.sock stdin=pw"
    )
    # Without a private config: the user's own settings, untouched.
    plain = runner.docker(["build", "."], timeout=10)
    assert plain.output.strip() == "args=build . config= host= stdin="


def test_no_docker_client_is_an_answer_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    done = images.Subprocesses().docker(["version"], timeout=10)
    assert done.returncode == 127 and "docker: command not found" in done.output


def test_images_bootstrap_has_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["images", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out and "deployer images bootstrap staging" in out
    assert "--source DIR" in out
