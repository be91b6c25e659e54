"""The custom build image: ``images/build-image`` built, tagged and pushed to the delivery ECR.

Every CodeBuild project of the delivery stack (modules/build) runs in
``<delivery account>.dkr.ecr.<delivery region>.amazonaws.com/{delivery_prefix}-build-image:
<pipeline.build_image_tag>``. :class:`BuildImage` makes that image: ``docker build`` of
``images/build-image/`` on the project's offline base (``bin/base-images`` builds it when the
engine lacks it), tagged ``{repository}:{tag}`` locally, and with ``push`` pushed the way
``deployer images bootstrap`` pushes (``deployer/images.py``): an ECR token of the delivery
account's role, ``docker login --password-stdin`` into a private temporary
``DOCKER_CONFIG``, ``docker tag`` and ``docker push`` to the repository's URI, on both
targets (the emulator's registry answers the same URI on the local target).

The stack's repositories are IMMUTABLE, so a tag is pushed once. Before pushing, ECR is
asked for the tag (``DescribeImages``); when it is there, its manifest (``BatchGetImage``)
names its config digest, which is the image ID of the image that was pushed: the same as
this build's image ID (or this engine's record of having pushed that very manifest, its
``RepoDigests``), and the image is reported "already there"; else the build differs and
the run fails naming both digests, nothing pushed: a new image needs a new
``pipeline.build_image_tag``.

:func:`build_image_presence` is what ``deployer apply delivery`` asks afterwards: whether
the tag the build projects name is in ECR.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deployer.aws import Clients, Target, translate
from deployer.config import Config
from deployer.errors import DeployerError, UsageError
from deployer.image_settings import ALREADY_THERE as ALREADY_THERE
from deployer.image_settings import BUILD_COMMAND as COMMAND
from deployer.image_settings import BUILD_CONTEXT as CONTEXT
from deployer.images import (
    BASE_BUILD_TIMEOUT_S,
    BASE_IMAGES_SCRIPT,
    BUILD_TIMEOUT_S,
    ENGINE_TIMEOUT_S,
    GET_ENGINE,
    OFFLINE_BASE,
    PUSH_TIMEOUT_S,
    DockerRunner,
    RegistryState,
    Subprocesses,
    registry_state,
)
from deployer.output import Reporter, table
from deployer.scope import Scope

BUILT = "built"
PUSHED = "pushed"


@dataclass
class Result:
    """What a run made: the image, where it went, and its digests."""

    repository: str
    tag: str
    local: str  # {repository}:{tag} in the engine
    image_id: str = ""  # the config digest (docker image inspect .Id)
    status: str = ""  # BUILT, PUSHED or ALREADY_THERE
    image: str | None = None  # {repositoryUri}:{tag}, when pushed or there
    digest: str | None = None  # ECR's imageDigest
    size_bytes: int | None = None
    base: str | None = None
    build_seconds: float | None = None
    push_seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "tag": self.tag,
            "local_image": self.local,
            "image_id": self.image_id,
            "status": self.status,
            "image": self.image,
            "digest": self.digest,
            "size_bytes": self.size_bytes,
            "base": self.base,
            "build_seconds": self.build_seconds,
            "push_seconds": self.push_seconds,
        }

    def text(self) -> str:
        rows = [(self.status, self.image or self.local, self.digest or self.image_id)]
        return table(("status", "image", "digest"), rows)


@dataclass(frozen=True)
class Remote:
    """The tag in ECR: the manifest's digest and the config digest it names."""

    digest: str
    config_digest: str | None
    size_bytes: int | None


@dataclass
class BuildImage:
    """Build the build image, and push it to the delivery account's ECR once per tag."""

    config: Config
    target: Target
    clients: Clients
    reporter: Reporter
    #: The Dockerfile's folder (default: images/build-image of the project).
    context: Path
    docker: DockerRunner = field(default_factory=Subprocesses)
    base_images_script: Path | None = None
    registry: Callable[[Target], RegistryState] = field(default=registry_state)
    #: NAME=VALUE build arguments (the Dockerfile's BASE_IMAGE, BUILD_NOTE).
    build_args: Sequence[str] = ()

    @property
    def repository(self) -> str:
        return self.config.names.delivery.build_image_repo_name

    @property
    def tag(self) -> str:
        return self.config.pipeline.build_image_tag

    @property
    def region(self) -> str:
        return self.config.names.delivery.region

    def _ecr(self) -> Any:
        scope = Scope(self.config, self.config.delivery, self.region, self.target, self.clients)
        return scope.client("ecr")

    def _say(self, message: str) -> None:
        self.reporter.progress(message, scope="build-image")

    # -- ECR ----------------------------------------------------------------------
    def repository_uri(self) -> str:
        import botocore.exceptions

        account = self.config.names.delivery.account_id
        try:
            found = self._ecr().describe_repositories(
                registryId=account, repositoryNames=[self.repository]
            )["repositories"]
        except botocore.exceptions.ClientError as exc:
            if _code(exc) == "RepositoryNotFoundException":
                raise DeployerError(
                    f"the delivery account ({account}) has no ECR repository {self.repository} "
                    f"in {self.region}, where the build image goes",
                    hint=f"apply the delivery stack first (deployer apply "
                    f"{self.config.delivery.name}), then run {COMMAND}",
                ) from None
            raise translate(exc, f"describe the ECR repository {self.repository}") from exc
        return str(found[0]["repositoryUri"])

    def remote(self) -> Remote | None:
        """The tag in ECR, or None where it (or its repository) is missing."""
        import botocore.exceptions

        ecr = self._ecr()
        ids = {
            "registryId": self.config.names.delivery.account_id,
            "repositoryName": self.repository,
            "imageIds": [{"imageTag": self.tag}],
        }
        try:
            details = ecr.describe_images(**ids)["imageDetails"]
            if not details:
                return None
            images = ecr.batch_get_image(**ids)["images"]
        except botocore.exceptions.ClientError as exc:
            if _code(exc) in ("ImageNotFoundException", "RepositoryNotFoundException"):
                return None
            raise translate(exc, f"describe {self.repository}:{self.tag}") from exc
        config_digest = None
        if images:
            try:
                manifest = json.loads(images[0]["imageManifest"])
                config_digest = str(manifest["config"]["digest"])
            except (ValueError, KeyError, TypeError):
                config_digest = None  # an index: no single config to compare
        size = details[0].get("imageSizeInBytes")
        return Remote(
            str(details[0]["imageDigest"]), config_digest, None if size is None else int(size)
        )

    # -- Docker -------------------------------------------------------------------
    def _engine(self) -> None:
        done = self.docker.docker(
            ["version", "--format", "{{.Server.Version}}"], timeout=ENGINE_TIMEOUT_S
        )
        if not (done.ok and done.output.strip()):
            raise DeployerError(
                f"no Docker engine answers ({done.last_line()}): the build image cannot be built",
                hint=f"{GET_ENGINE}; then run {COMMAND}",
            )

    def _base(self) -> str | None:
        """The base the build uses when it is the offline one: built when missing."""
        named = [a.partition("=")[2] for a in self.build_args if a.startswith("BASE_IMAGE=")]
        base = named[-1] if named else OFFLINE_BASE
        if base != OFFLINE_BASE:
            return base
        if self.docker.docker(["image", "inspect", base], timeout=ENGINE_TIMEOUT_S).ok:
            return base
        script = self.base_images_script
        if script is None or not script.is_file():
            raise DeployerError(
                f"the offline base {OFFLINE_BASE} is not in the engine",
                hint=f"build it with {BASE_IMAGES_SCRIPT} (in the project's checkout), then run "
                "again",
            )
        self._say(f"building the offline base {OFFLINE_BASE} with {BASE_IMAGES_SCRIPT}")
        built = self.docker.script(script, timeout=BASE_BUILD_TIMEOUT_S)
        if not built.ok:
            raise DeployerError(
                f"{BASE_IMAGES_SCRIPT} failed (exit {built.returncode}); the end of its "
                "output:\n" + _indent(built.tail()),
                hint="fix what it names, then run again",
            )
        return base

    def build(self, result: Result) -> None:
        dockerfile = self.context / "Dockerfile"
        if not dockerfile.is_file():
            raise UsageError(
                f"no Dockerfile in {self.context}",
                hint=f"the build image's Dockerfile is {CONTEXT}/Dockerfile of the project",
            )
        self._engine()
        result.base = self._base()
        started = time.monotonic()
        self._say(f"building {result.local} from {self.context} on {result.base}")
        args = [a for pair in self.build_args for a in ("--build-arg", pair)]
        built = self.docker.docker(
            ["build", *args, "-t", result.local, str(self.context)], timeout=BUILD_TIMEOUT_S
        )
        self.reporter.debug(built.output, scope="build-image")
        if not built.ok:
            raise DeployerError(
                f"building the build image failed (docker build exit {built.returncode}); "
                "the end of its output:\n" + _indent(built.tail()),
                hint=f"fix {dockerfile} (or its base), then run again",
            )
        result.image_id = self._inspect(result.local, "{{.Id}}")
        result.build_seconds = round(time.monotonic() - started, 1)
        result.status = BUILT
        self._say(f"built {result.local} ({result.image_id}) in {result.build_seconds:g} s")

    def _inspect(self, image: str, template: str) -> str:
        done = self.docker.docker(
            ["image", "inspect", "--format", template, image], timeout=ENGINE_TIMEOUT_S
        )
        if not done.ok:
            raise DeployerError(f"docker image inspect {image} failed: {done.last_line()}")
        return done.output.strip()

    def _pushed_digests(self, local: str, uri: str) -> set[str]:
        """The manifests this engine has pushed (or pulled) of ``local`` to ``uri``."""
        try:
            digests = json.loads(self._inspect(local, "{{json .RepoDigests}}") or "[]")
        except ValueError:
            return set()
        return {d.partition("@")[2] for d in digests or [] if d.partition("@")[0] == uri}

    # -- the whole -----------------------------------------------------------------
    def run(self, *, push: bool) -> Result:
        result = Result(self.repository, self.tag, f"{self.repository}:{self.tag}")
        uri = self.repository_uri() if push else None  # a missing repository: before building
        self.build(result)
        if uri is None:
            return result
        from deployer.images import Bootstrap  # its login, with the same private config

        state = self.registry(self.target)
        if not state.up:
            raise DeployerError(
                f"the emulator's registry is down ({state.reason}): the build image cannot be "
                "pushed",
                hint="the registry needs root and 127.0.0.1:80; `deployer emulator status` "
                "shows it",
            )
        result.image = f"{uri}:{self.tag}"
        there = self.remote()
        if there is not None:
            self._compare(result, uri, there)
            return result
        started = time.monotonic()
        login = Bootstrap(
            config=self.config,
            env=self.config.delivery,
            target=self.target,
            clients=self.clients,
            reporter=self.reporter,
            source=self.context,
            docker=self.docker,
        )
        with tempfile.TemporaryDirectory(prefix="deployer-docker-") as config_dir:
            login.login(Path(config_dir), uri.split("/", 1)[0])
            tagged = self.docker.docker(
                ["tag", result.local, result.image], timeout=ENGINE_TIMEOUT_S
            )
            if not tagged.ok:
                raise DeployerError(
                    f"docker tag {result.local} {result.image} failed: {tagged.last_line()}"
                )
            self._say(f"pushing {result.image}")
            pushed = self.docker.docker(
                ["push", result.image], timeout=PUSH_TIMEOUT_S, config=Path(config_dir)
            )
        self.reporter.debug(pushed.output, scope="build-image")
        there = self.remote()
        if not pushed.ok and there is not None:
            # Another run pushed the tag since we looked (ours was refused): compare with it.
            self._compare(result, uri, there)
            return result
        if not pushed.ok:
            raise DeployerError(
                f"pushing the build image to {result.image} failed (docker push exit "
                f"{pushed.returncode}); the end of its output:\n" + _indent(pushed.tail()),
                hint=f"once the cause is fixed, run {COMMAND}",
            )
        if there is None:
            raise DeployerError(f"docker pushed {result.image}, but ECR's DescribeImages lacks it")
        result.status, result.digest, result.size_bytes = PUSHED, there.digest, there.size_bytes
        result.push_seconds = round(time.monotonic() - started, 1)
        self._say(f"pushed {result.image} as {there.digest} in {result.push_seconds:g} s")
        return result

    def _compare(self, result: Result, uri: str, there: Remote) -> None:
        """The tag is in ECR: the same image (already there) or not (an error)."""
        same = there.config_digest == result.image_id or there.digest in self._pushed_digests(
            result.local, uri
        )
        if not same:
            theirs = there.digest + (
                f" (image ID {there.config_digest})" if there.config_digest else ""
            )
            raise DeployerError(
                f"{result.image} is in ECR with digest {theirs}, but this build is image ID "
                f"{result.image_id}: a different image; the tag is immutable, nothing was pushed",
                hint="raise pipeline.build_image_tag (environments/project.yaml) for the new "
                f"image, apply the delivery stack so the build projects name it, then run "
                f"{COMMAND}",
            )
        result.status, result.digest, result.size_bytes = (
            ALREADY_THERE,
            there.digest,
            there.size_bytes,
        )
        self._say(f"already there: {result.image} ({there.digest})")


def build_image_presence(config: Config, target: Target, clients: Clients) -> dict[str, Any]:
    """Whether the tag the build projects name is in the delivery account's ECR, as JSON:
    ``{"image": ..., "present": bool, "digest": ...}``."""
    finder = BuildImage(config, target, clients, Reporter(), context=CONTEXT)
    names = config.names.delivery
    image = (
        f"{names.account_id}.dkr.ecr.{names.region}.amazonaws.com/{finder.repository}:{finder.tag}"
    )
    there = finder.remote()
    return {
        "image": image,
        "present": there is not None,
        "digest": None if there is None else there.digest,
    }


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
