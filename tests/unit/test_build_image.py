"""`deployer build-image`: the build projects' image built, tagged and pushed once per tag.

ECR is moto in-process (the delivery account through its role, as on AWS); Docker is a fake
that records each call, gives each build an image ID from its context and build arguments,
and, for a push, stores the image in moto's ECR the way a registry does: a manifest whose
config digest is the image ID. tests/runtime/test_release_to_production.py does the same with the
real Docker CLI, the real Dockerfile and the emulator's registry.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from deployer import build_image, cli, images
from deployer.aws import AWS, ClientFactory, Target
from deployer.cli import build_image as build_image_cli
from deployer.config import Config
from deployer.errors import DeployerError, UsageError
from deployer.images import Completed
from deployer.output import Reporter

ROOT = Path(__file__).resolve().parents[2]
DELIVERY = "111111111111"
ROLE = "OrganizationAccountAccessRole"
REPOSITORY = "acme-shop-delivery-build-image"
HOST = f"{DELIVERY}.dkr.ecr.us-east-1.amazonaws.com"
URI = f"{HOST}/{REPOSITORY}"


@dataclass
class FakeDocker:
    """The Docker CLI as the workflow sees it; a push lands in moto's ECR."""

    clients: ClientFactory
    engine: bool = True
    images: dict[str, str] = field(
        default_factory=lambda: {images.OFFLINE_BASE: "sha256:" + "b" * 64}
    )
    repo_digests: dict[str, list[str]] = field(default_factory=dict)  # image id -> pushed
    calls: list[list[str]] = field(default_factory=list)
    configs: list[Path | None] = field(default_factory=list)
    scripts: list[Path] = field(default_factory=list)

    def docker(
        self,
        args: Sequence[str],
        *,
        timeout: float,
        config: Path | None = None,
        stdin: str | None = None,
    ) -> Completed:
        args = list(args)
        self.calls.append(args)
        self.configs.append(config)
        if not self.engine:
            return Completed(
                1,
                "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the "
                "docker daemon running?",
            )
        verb = args[0]
        if verb == "version":
            return Completed(0, "20.10.24\n")
        if verb == "image":
            name = args[-1]
            if name not in self.images:
                return Completed(1, f"Error: No such image: {name}")
            image_id = self.images[name]
            if "{{.Id}}" in args:
                return Completed(0, image_id + "\n")
            if "{{json .RepoDigests}}" in args:
                return Completed(0, json.dumps(self.repo_digests.get(image_id, [])) + "\n")
            return Completed(0, "[{}]")
        if verb == "build":
            assert args[args.index("-t") + 1] == f"{REPOSITORY}:1.0.0"
            context = Path(args[-1])
            recipe = (context / "Dockerfile").read_text() + " ".join(args[1:-1])
            image_id = "sha256:" + hashlib.sha256(recipe.encode()).hexdigest()
            self.images[args[args.index("-t") + 1]] = image_id
            return Completed(0, f"Successfully built {image_id[7:19]}")
        if verb == "login":
            assert config is not None and config.is_dir() and stdin
            (config / "config.json").write_text(json.dumps({"auths": {args[-1]: {}}}))
            return Completed(0, "Login Succeeded")
        if verb == "tag":
            self.images[args[2]] = self.images[args[1]]
            return Completed(0, "")
        if verb == "push":
            assert config is not None and (config / "config.json").is_file(), "not logged in"
            return self.push(args[1])
        raise AssertionError(f"unexpected docker {args}")

    def script(self, path: Path, *, timeout: float) -> Completed:
        self.scripts.append(path)
        self.images[images.OFFLINE_BASE] = "sha256:" + "b" * 64
        return Completed(0, "base-images: built")

    def push(self, image: str) -> Completed:
        """What a registry does: a manifest naming the image's config, under the tag."""
        repository, _, tag = image.partition("/")[2].partition(":")
        image_id = self.images[image]
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "digest": image_id,
                    "size": 1,
                },
                "layers": [],
            }
        )
        try:
            stored = ecr(self.clients).put_image(
                repositoryName=repository, imageTag=tag, imageManifest=manifest
            )
        except Exception as exc:
            return Completed(1, f"tag invalid: {exc}")
        digest = stored["image"]["imageId"]["imageDigest"]
        self.repo_digests.setdefault(image_id, []).append(f"{image.partition(':')[0]}@{digest}")
        return Completed(0, f"{tag}: digest: {digest} size: 529")

    def verbs(self) -> list[str]:
        return [c[0] for c in self.calls]


def ecr(clients: ClientFactory) -> Any:
    return clients.client("ecr", "us-east-1", account_id=DELIVERY, role_name=ROLE)


def repository(clients: ClientFactory) -> None:
    ecr(clients).create_repository(repositoryName=REPOSITORY, imageTagMutability="IMMUTABLE")


@dataclass
class Run:
    builder: build_image.BuildImage
    docker: FakeDocker
    err: io.StringIO


def make(
    cfg: Config,
    clients: ClientFactory,
    *,
    docker: FakeDocker | None = None,
    build_args: Sequence[str] = (),
    script: Path | None = None,
) -> Run:
    err = io.StringIO()
    fake = docker or FakeDocker(clients)
    builder = build_image.BuildImage(
        config=cfg,
        target=Target(AWS),
        clients=clients,
        reporter=Reporter(stream=err, out=io.StringIO()),
        context=ROOT / build_image.CONTEXT,
        docker=fake,
        base_images_script=script,
        registry=lambda _target: images.RegistryState(up=True),
        build_args=tuple(build_args),
    )
    return Run(builder, fake, err)


def ecr_images(clients: ClientFactory) -> list[dict[str, Any]]:
    return list(ecr(clients).describe_images(repositoryName=REPOSITORY)["imageDetails"])


# ---------------------------------------------------------------------------
def test_build_and_push_tags_the_configured_tag_and_pushes_it_with_a_private_login(
    aws: ClientFactory, cfg: Config
) -> None:
    repository(aws)
    run = make(cfg, aws)

    result = run.builder.run(push=True)

    assert result.status == build_image.PUSHED
    assert result.image == f"{URI}:1.0.0" and result.tag == cfg.pipeline.build_image_tag
    [stored] = ecr_images(aws)
    assert stored["imageTags"] == ["1.0.0"] and stored["imageDigest"] == result.digest
    manifest = ecr(aws).batch_get_image(
        repositoryName=REPOSITORY, imageIds=[{"imageTag": "1.0.0"}]
    )["images"][0]["imageManifest"]
    assert json.loads(manifest)["config"]["digest"] == result.image_id
    verbs = run.docker.verbs()
    assert verbs.index("build") < verbs.index("login") < verbs.index("tag") < verbs.index("push")
    build = run.docker.calls[verbs.index("build")]
    assert build[-1] == str(ROOT / "images" / "build-image")
    # The push used the login's private configuration, which is gone afterwards.
    push_config = run.docker.configs[verbs.index("push")]
    assert push_config is not None and not push_config.exists()
    assert run.docker.calls[verbs.index("login")][-1] == HOST
    progress = run.err.getvalue()
    assert f"building {REPOSITORY}:1.0.0" in progress and f"pushing {URI}:1.0.0" in progress
    assert result.to_json()["status"] == "pushed"


def test_without_push_it_only_builds_and_asks_nothing_of_ecr(
    aws: ClientFactory, cfg: Config
) -> None:
    run = make(cfg, aws)  # no repository: never asked for

    result = run.builder.run(push=False)

    assert result.status == build_image.BUILT and result.image is None
    assert result.image_id == run.docker.images[f"{REPOSITORY}:1.0.0"]
    assert "push" not in run.docker.verbs() and "login" not in run.docker.verbs()


def test_a_second_push_of_the_same_image_is_already_there(aws: ClientFactory, cfg: Config) -> None:
    repository(aws)
    docker = FakeDocker(aws)
    first = make(cfg, aws, docker=docker).builder.run(push=True)
    docker.calls.clear()

    again = make(cfg, aws, docker=docker)
    second = again.builder.run(push=True)

    assert second.status == build_image.ALREADY_THERE and second.digest == first.digest
    assert "push" not in docker.verbs() and "login" not in docker.verbs()
    assert f"already there: {URI}:1.0.0 ({first.digest})" in again.err.getvalue()
    assert len(ecr_images(aws)) == 1


def test_already_there_by_this_engines_record_of_the_push(aws: ClientFactory, cfg: Config) -> None:
    """ECR's manifest may name no single config (an index): the engine's RepoDigests of
    the built image still tell that it pushed that very manifest."""
    repository(aws)
    docker = FakeDocker(aws)
    first = make(cfg, aws, docker=docker).builder.run(push=True)
    run = make(cfg, aws, docker=docker)
    there = run.builder.remote()
    assert there is not None
    run.builder.remote = lambda: build_image.Remote(there.digest, None, there.size_bytes)  # type: ignore[method-assign]

    assert run.builder.run(push=True).status == build_image.ALREADY_THERE
    docker.repo_digests.clear()
    with pytest.raises(DeployerError, match="a different image"):
        run.builder.run(push=True)
    assert first.digest


def test_a_different_image_under_the_same_tag_is_refused_naming_both_digests(
    aws: ClientFactory, cfg: Config
) -> None:
    repository(aws)
    docker = FakeDocker(aws)
    first = make(cfg, aws, docker=docker).builder.run(push=True)
    docker.calls.clear()
    changed = make(cfg, aws, docker=docker, build_args=["BUILD_NOTE=changed"])

    with pytest.raises(DeployerError) as info:
        changed.builder.run(push=True)

    new_id = docker.images[f"{REPOSITORY}:1.0.0"]
    assert new_id != first.image_id
    assert info.value.exit_code == 1
    message = str(info.value)
    assert first.digest is not None and first.digest in message  # ECR's
    assert first.image_id in message and new_id in message  # theirs and ours, compared
    assert "raise pipeline.build_image_tag" in message and "nothing was pushed" in message
    assert "push" not in docker.verbs()
    [stored] = ecr_images(aws)
    assert stored["imageDigest"] == first.digest
    build = docker.calls[docker.verbs().index("build")]
    assert build[1:3] == ["--build-arg", "BUILD_NOTE=changed"]


def test_a_missing_repository_names_the_apply_before_building(
    aws: ClientFactory, cfg: Config
) -> None:
    run = make(cfg, aws)

    with pytest.raises(DeployerError) as info:
        run.builder.run(push=True)

    assert f"no ECR repository {REPOSITORY} in us-east-1" in info.value.message
    assert info.value.hint is not None and "deployer apply delivery" in info.value.hint
    assert "build" not in run.docker.verbs()


def test_no_docker_engine_is_a_clear_error(aws: ClientFactory, cfg: Config) -> None:
    repository(aws)
    run = make(cfg, aws, docker=FakeDocker(aws, engine=False))

    with pytest.raises(DeployerError) as info:
        run.builder.run(push=True)

    assert "no Docker engine answers (Cannot connect to the Docker daemon" in info.value.message
    assert info.value.hint is not None and "bin/docker-engine" in info.value.hint
    assert run.docker.verbs() == ["version"]
    assert ecr_images(aws) == []


def test_a_missing_offline_base_is_built_with_the_script_first(
    aws: ClientFactory, cfg: Config, tmp_path: Path
) -> None:
    script = tmp_path / "base-images"
    script.write_text("#!/bin/sh\n")
    docker = FakeDocker(aws, images={})

    make(cfg, aws, docker=docker, script=script).builder.run(push=False)

    assert docker.scripts == [script]
    with pytest.raises(DeployerError, match="is not in the engine"):
        make(cfg, aws, docker=FakeDocker(aws, images={})).builder.run(push=False)


def test_presence_after_an_apply(aws: ClientFactory, cfg: Config) -> None:
    presence = build_image.build_image_presence
    assert presence(cfg, Target(AWS), aws) == {
        "image": f"{URI}:1.0.0",
        "present": False,
        "digest": None,
    }
    repository(aws)
    assert presence(cfg, Target(AWS), aws)["present"] is False
    pushed = make(cfg, aws).builder.run(push=True)
    assert presence(cfg, Target(AWS), aws) == {
        "image": f"{URI}:1.0.0",
        "present": True,
        "digest": pushed.digest,
    }


def test_after_apply_warns_for_the_delivery_environment_only(
    aws: ClientFactory, cfg: Config
) -> None:
    err = io.StringIO()

    @dataclass
    class Ctx:
        config: Config
        target: Target
        clients: ClientFactory
        reporter: Reporter

    ctx: Any = Ctx(cfg, Target(AWS), aws, Reporter(stream=err, out=io.StringIO()))
    assert build_image_cli.after_apply(ctx, cfg.environment("staging")) is None
    found = build_image_cli.after_apply(ctx, cfg.delivery)
    assert found is not None and found["present"] is False
    assert (
        f"warning: the build image {URI}:1.0.0 is not in ECR: the build projects cannot "
        "start until it is; run deployer build-image --push" in err.getvalue()
    )


def test_the_image_bakes_in_every_test_requirement_of_the_monorepo() -> None:
    def requirements(path: Path) -> set[str]:
        lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
        return {line for line in lines if line}

    baked = requirements(ROOT / build_image.CONTEXT / "requirements.txt")
    monorepo = ROOT / "examples" / "monorepo"
    files = [
        *monorepo.glob("services/*/requirements*.txt"),
        *monorepo.glob("tests/*/requirements*.txt"),
    ]
    assert files
    for path in files:
        assert requirements(path) <= baked, f"{path} needs what the build image lacks"
    dockerfile = (ROOT / build_image.CONTEXT / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE_IMAGE=" + re.escape(images.OFFLINE_BASE) + "$", dockerfile, re.M)
    for package in ("docker.io", "git", "zip", "unzip"):
        assert re.search(rf"\s{re.escape(package)}(\s|$)", dockerfile), package
    # The AWS CLI from PyPI, of a version that honours AWS_ENDPOINT_URL (Debian's does not).
    assert 'pip install --no-cache-dir --quiet "awscli>=1.29"' in dockerfile


def test_build_args_must_be_name_value(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["build-image", "--build-arg", "NOVALUE", "--target", "aws"])
    assert code == UsageError.exit_code
    assert "--build-arg NOVALUE: expected NAME=VALUE" in capsys.readouterr().err


def test_build_image_has_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["build-image", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out and "deployer build-image --push" in out
    assert "pipeline.build_image_tag" in out and "--build-arg NAME=VALUE" in out
