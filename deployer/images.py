"""Bootstrap images: each microservice built from the monorepo and pushed to ECR as ``bootstrap``.

The runtime stack's task definitions name ``<image_repository>:bootstrap`` (variable
``image_tag``) until the pipeline's first release puts a deployment ID in their place.
:class:`Bootstrap` makes that tag exist: for every microservice of the project it asks
ECR (``DescribeImages``, in the delivery account) whether the tag is there, and only
where it is missing builds ``services/<name>/`` of the monorepo (default
``examples/monorepo``) and pushes it. ECR tags are immutable here, so a tag that exists
is never pushed again; it is reported as "already there".

One code path for both targets, as a user drives ECR: ``GetAuthorizationToken`` through
the delivery account's Scope, ``docker login --password-stdin`` into a private
temporary ``DOCKER_CONFIG`` (never the user's ``~/.docker``; the token is never printed
or logged, and its folder is deleted afterwards), ``docker build --build-arg
BASE_IMAGE=...``, ``docker tag``, ``docker push``. On the local target the push reaches
the emulator's registry by the same ``repositoryUri`` (``deployer/emulator/registry.py``).

Images are pushed once, to the delivery region; ECR replication copies them to the
other regions (the delivery stack's replication rule), which are only checked.

The base image: the Dockerfiles take ``ARG BASE_IMAGE`` with a public default
(``python:3.12-slim``). That default is used when the engine has it or can pull it;
where it cannot be pulled (no registry is reachable on this project's machines), a
``python:`` default is replaced by the offline base ``bin/base-images`` builds from
Debian's packages (``deployer-base/python-runtime:bookworm``), running that script when
the engine lacks it. The report says which base was used and why.

The pipeline's builds meet the same wall: on the local target they run in this same
engine (the emulator's CodeBuild), where the Dockerfiles' public base cannot be pulled
either. So when the offline base stood in, each such service's build-time parameter
``BASE_IMAGE`` (``/pipeline/{delivery}/{service}/BASE_IMAGE`` in the delivery account,
which the buildspec passes as ``--build-arg``) is set to it, unless it is set already:
a value of the user's is never replaced. On AWS the builds run elsewhere, so nothing is set.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from deployer.aws import Clients, Target, translate
from deployer.config import Config, Environment
from deployer.errors import DeployerError, EmulatorError, UsageError
from deployer.image_settings import ALREADY_THERE as ALREADY_THERE
from deployer.image_settings import BASE_IMAGES_SCRIPT as BASE_IMAGES_SCRIPT
from deployer.image_settings import DEFAULT_SOURCE as DEFAULT_SOURCE
from deployer.image_settings import OFFLINE_BASE as OFFLINE_BASE
from deployer.image_settings import TAG as TAG
from deployer.names import parameter_path
from deployer.output import Reporter, table
from deployer.scope import Scope

if TYPE_CHECKING:
    import botocore.exceptions

#: The public bases the offline one (OFFLINE_BASE, made by BASE_IMAGES_SCRIPT) stands in for.
OFFLINE_BASE_REPLACES = "python:"
GET_ENGINE = (
    "start one with bin/docker-engine (as root on Debian it installs docker.io and starts "
    "dockerd), or start Docker yourself"
)

ENGINE_TIMEOUT_S = 15.0
PULL_TIMEOUT_S = 300.0
BASE_BUILD_TIMEOUT_S = 1200.0
BUILD_TIMEOUT_S = 1200.0
PUSH_TIMEOUT_S = 900.0
#: How long to wait for ECR replication to show the image in the other regions: the
#: emulator replicates before the push is answered; AWS within seconds to minutes.
REPLICATION_WAIT_S = {True: 2.0, False: 120.0}  # by Target.is_local
#: How long a login waits for the registry's host name to resolve.
RESOLVE_WAIT_S = 10.0
TAIL_LINES = 25

_BASE_ARG = re.compile(r"^\s*ARG\s+BASE_IMAGE\s*=\s*(\S+)\s*$", re.MULTILINE)
_HAS_BASE_ARG = re.compile(r"^\s*ARG\s+BASE_IMAGE\b", re.MULTILINE)


# ---------------------------------------------------------------------------
# Docker, as a subprocess (tests inject a fake)
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Completed:
    """A finished command: its exit code and its stdout and stderr, interleaved."""

    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = TAIL_LINES) -> str:
        return "\n".join(self.output.rstrip().splitlines()[-lines:])

    def last_line(self) -> str:
        lines = self.output.strip().splitlines()
        return lines[-1].strip() if lines else f"exit code {self.returncode}"


class DockerRunner(Protocol):
    """How the workflow runs the Docker CLI and bin/base-images."""

    def docker(
        self,
        args: Sequence[str],
        *,
        timeout: float,
        config: Path | None = None,
        stdin: str | None = None,
    ) -> Completed:
        """``docker ARGS``; with ``config``, as a client whose DOCKER_CONFIG is that folder."""
        ...

    def script(self, path: Path, *, timeout: float) -> Completed: ...


class Subprocesses:
    """The Docker CLI and scripts as subprocesses; output read by ``communicate``."""

    def __init__(self) -> None:
        self._engine_host: str | None = None

    def docker(
        self,
        args: Sequence[str],
        *,
        timeout: float,
        config: Path | None = None,
        stdin: str | None = None,
    ) -> Completed:
        env = dict(os.environ)
        if config is not None:
            env["DOCKER_CONFIG"] = str(config)
            # A private configuration has no contexts: keep talking to the engine the
            # user's current context names (Docker Desktop, colima, a remote engine).
            if "DOCKER_HOST" not in env:
                host = self._context_host()
                if host:
                    env["DOCKER_HOST"] = host
                    env.pop("DOCKER_CONTEXT", None)
        return _run(["docker", *args], env=env, timeout=timeout, stdin=stdin)

    def script(self, path: Path, *, timeout: float) -> Completed:
        return _run([str(path)], env=dict(os.environ), timeout=timeout, stdin=None)

    def _context_host(self) -> str:
        if self._engine_host is None:
            found = self.docker(
                ["context", "inspect", "--format", "{{.Endpoints.docker.Host}}"], timeout=10
            )
            self._engine_host = found.output.strip() if found.ok else ""
        return self._engine_host


def _run(argv: list[str], *, env: dict[str, str], timeout: float, stdin: str | None) -> Completed:
    try:
        done = subprocess.run(
            argv,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        return Completed(127, f"{argv[0]}: command not found")
    except subprocess.TimeoutExpired as exc:
        partial = exc.output or ""
        text = partial.decode(errors="replace") if isinstance(partial, bytes) else partial
        command = " ".join(argv[:2])
        return Completed(124, f"{text}\n{command} did not finish within {timeout:g} s")
    return Completed(done.returncode, done.stdout or "")


# ---------------------------------------------------------------------------
# The local registry's state (the emulator's control; tests inject their own)
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RegistryState:
    """Whether the target's registry takes pushes; on AWS it always does."""

    up: bool
    reason: str | None = None
    #: The emulator runs without its runtime (--no-runtime): infrastructure only.
    runtime_off: bool = False


def registry_state(target: Target) -> RegistryState:
    """ECR's registry on the target: the emulator's (``GET /_deployer/runtime``), or AWS's."""
    if not target.is_local:
        return RegistryState(up=True)
    from deployer.emulator import controls

    assert target.endpoint
    try:
        runtime = controls.post(target.endpoint, "runtime", None).get("runtime")
    except EmulatorError as exc:
        return RegistryState(up=False, reason=exc.message)
    if runtime is None:
        return RegistryState(
            up=False,
            reason="the emulator runs without its runtime (started with --no-runtime or "
            "DEPLOYER_EMULATOR_RUNTIME=0): it serves no registry",
            runtime_off=True,
        )
    registry = runtime.get("registry") or {}
    if registry.get("up"):
        return RegistryState(up=True)
    return RegistryState(up=False, reason=str(registry.get("reason") or "unknown reason"))


# ---------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------
PUSHED = "pushed"
REPLICATED = "replicated"
NOT_REPLICATED = "not replicated yet"


@dataclass
class ServiceImage:
    """One microservice's bootstrap image: where it goes and what happened to it."""

    service: str
    repository_name: str
    repository_uri: str  # in the delivery region, as DescribeRepositories gives it
    status: str = ""  # PUSHED or ALREADY_THERE
    digest: str | None = None
    size_bytes: int | None = None
    seconds: float | None = None  # build and push
    regions: dict[str, str] = field(default_factory=dict)  # region -> status

    @property
    def image(self) -> str:
        return f"{self.repository_uri}:{TAG}"

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "repository": self.repository_name,
            "image": self.image,
            "status": self.status,
            "digest": self.digest,
            "size_bytes": self.size_bytes,
            "seconds": self.seconds,
            "regions": dict(self.regions),
        }


@dataclass(frozen=True)
class Base:
    image: str | None  # None: the Dockerfile's own FROM (it takes no BASE_IMAGE)
    reason: str

    def describe(self) -> str:
        return f"{self.image or 'its Dockerfile FROM'} ({self.reason})"


@dataclass
class Report:
    environment: str
    target: str
    source: Path
    images: list[ServiceImage]
    bases: dict[str, Base] = field(default_factory=dict)  # service -> base it was built on
    #: service -> (parameter name, "set" or "kept": a value was there already)
    build_parameters: dict[str, tuple[str, str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "target": self.target,
            "tag": TAG,
            "source": str(self.source),
            "base_images": {
                service: {"image": base.image, "reason": base.reason}
                for service, base in self.bases.items()
            },
            "images": [i.to_json() for i in self.images],
            "build_parameters": {
                service: {"name": name, "status": status}
                for service, (name, status) in self.build_parameters.items()
            },
        }

    def text(self) -> str:
        rows = [
            (
                i.service,
                i.status,
                i.image,
                ", ".join(f"{region} {state}" for region, state in i.regions.items()),
            )
            for i in self.images
        ]
        lines = [table(("service", "status", "image", "regions"), rows)]
        for base in dict.fromkeys(self.bases.values()):
            lines.append(f"built on {base.describe()}")
        for name, status in self.build_parameters.values():
            lines.append(f"build parameter {name}: {status}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# The workflow
# ---------------------------------------------------------------------------
@dataclass
class Bootstrap:
    """Build and push the missing bootstrap images of one runtime environment."""

    config: Config
    env: Environment
    target: Target
    clients: Clients
    reporter: Reporter
    source: Path
    docker: DockerRunner = field(default_factory=Subprocesses)
    #: The project's bin/base-images (None: the offline base cannot be built here).
    base_images_script: Path | None = None
    registry: Callable[[Target], RegistryState] = field(default=registry_state)
    #: How long to wait for replicas of what was pushed (None: REPLICATION_WAIT_S).
    replication_wait_s: float | None = None

    # -- where --------------------------------------------------------------------
    @property
    def push_region(self) -> str:
        """Where images are pushed: the delivery region (ECR replicates from there)."""
        return self.config.names.delivery.region

    def _delivery_ecr(self, region: str) -> Any:
        scope = Scope(self.config, self.config.delivery, region, self.target, self.clients)
        return scope.client("ecr")

    def _other_regions(self) -> list[str]:
        """The environment's regions besides the push region: replicas, only checked."""
        return [r.name for r in self.env.regions if r.name != self.push_region]

    # -- ECR ----------------------------------------------------------------------
    def images(self) -> list[ServiceImage]:
        """Each microservice's repository in the delivery region (a usage error for an
        environment that deploys no services)."""
        import botocore.exceptions

        scope = Scope(self.config, self.env, self.env.primary_region, self.target, self.clients)
        delivery = self.config.names.delivery
        ecr = self._delivery_ecr(self.push_region)
        found = []
        for service in scope.names.services:
            name = delivery.ecr_repository_names[service]
            try:
                repositories = ecr.describe_repositories(
                    registryId=delivery.account_id, repositoryNames=[name]
                )["repositories"]
            except botocore.exceptions.ClientError as exc:
                if _code(exc) == "RepositoryNotFoundException":
                    raise DeployerError(
                        f"the delivery account ({delivery.account_id}) has no ECR repository "
                        f"{name} in {self.push_region}, where {service}'s images go",
                        hint=f"apply the delivery stack first (deployer apply "
                        f"{self.config.delivery.name}), then run deployer images bootstrap "
                        f"{self.env.name}",
                    ) from None
                raise translate(exc, f"describe the ECR repository {name}") from exc
            found.append(ServiceImage(service, name, str(repositories[0]["repositoryUri"])))
        return found

    def missing_repositories(self) -> list[str]:
        """The environment's microservice repositories the delivery account lacks."""
        import botocore.exceptions

        delivery = self.config.names.delivery
        scope = Scope(self.config, self.env, self.env.primary_region, self.target, self.clients)
        wanted = [delivery.ecr_repository_names[s] for s in scope.names.services]
        ecr = self._delivery_ecr(self.push_region)
        missing = []
        for name in wanted:
            try:
                ecr.describe_repositories(registryId=delivery.account_id, repositoryNames=[name])
            except botocore.exceptions.ClientError as exc:
                if _code(exc) != "RepositoryNotFoundException":
                    raise translate(exc, f"describe the ECR repository {name}") from exc
                missing.append(name)
        return missing

    def present(self, image: ServiceImage, region: str) -> tuple[str, int | None] | None:
        """The tag's digest and size in ``region``, or None where it is missing."""
        import botocore.exceptions

        try:
            details = self._delivery_ecr(region).describe_images(
                registryId=self.config.names.delivery.account_id,
                repositoryName=image.repository_name,
                imageIds=[{"imageTag": TAG}],
            )["imageDetails"]
        except botocore.exceptions.ClientError as exc:
            if _code(exc) in ("ImageNotFoundException", "RepositoryNotFoundException"):
                return None
            raise translate(exc, f"describe {image.repository_name}:{TAG} in {region}") from exc
        if not details:
            return None
        size = details[0].get("imageSizeInBytes")
        return str(details[0]["imageDigest"]), None if size is None else int(size)

    # -- what a build and a push need -------------------------------------------------
    def engine_problem(self) -> str | None:
        """Why no Docker engine answers, or None when one does."""
        done = self.docker.docker(
            ["version", "--format", "{{.Server.Version}}"], timeout=ENGINE_TIMEOUT_S
        )
        return None if done.ok and done.output.strip() else done.last_line()

    def engine_error(self, problem: str) -> DeployerError:
        return DeployerError(
            f"no Docker engine answers ({problem}): the services will not run",
            hint=f"{GET_ENGINE}; then run deployer images bootstrap {self.env.name}, which "
            "builds and pushes the images they start from",
        )

    def registry_error(self, state: RegistryState) -> DeployerError:
        return DeployerError(
            f"the emulator's registry is down ({state.reason}): the bootstrap images cannot "
            "be pushed, so the services will not run",
            hint="the registry needs root and 127.0.0.1:80; once that holds: deployer "
            "emulator stop (this forgets its resources), then apply again",
        )

    def dockerfile(self, service: str) -> Path:
        return self.source / "services" / service / "Dockerfile"

    def check_sources(self, images: list[ServiceImage]) -> None:
        missing = [self.dockerfile(i.service) for i in images]
        missing = [path for path in missing if not path.is_file()]
        if missing:
            raise UsageError(
                f"the monorepo {self.source} has no {', '.join(map(str, missing))}",
                hint="--source names the monorepo: a folder with services/<name>/Dockerfile",
            )

    def choose_bases(self, images: list[ServiceImage]) -> dict[str, Base]:
        """The base each service builds on: one decision per Dockerfile default."""
        decided: dict[str | None, Base] = {}
        chosen = {}
        for image in images:
            path = self.dockerfile(image.service)
            text = path.read_text(errors="replace")
            match = _BASE_ARG.search(text)
            if match is None and _HAS_BASE_ARG.search(text):
                raise UsageError(
                    f"{path}: ARG BASE_IMAGE has no default",
                    hint="give it the public base as its default: ARG BASE_IMAGE=python:3.12-slim",
                )
            default = match.group(1).strip("\"'") if match else None
            if default not in decided:
                decided[default] = self._base_for(default)
            chosen[image.service] = decided[default]
        return chosen

    def _base_for(self, default: str | None) -> Base:
        if default is None:
            return Base(None, "its Dockerfile takes no BASE_IMAGE")
        if self.docker.docker(["image", "inspect", default], timeout=ENGINE_TIMEOUT_S).ok:
            return Base(default, "the Dockerfiles' default, in the engine")
        self.reporter.progress(f"pulling {default}, the Dockerfiles' default base")
        pulled = self.docker.docker(["pull", default], timeout=PULL_TIMEOUT_S)
        if pulled.ok:
            return Base(default, "the Dockerfiles' default, pulled")
        why = f"{default} cannot be pulled: {pulled.last_line()}"
        if not default.startswith(OFFLINE_BASE_REPLACES):
            raise DeployerError(
                f"{why}; no offline base stands in for it",
                hint="make the image available to the engine (docker load, a mirror), then "
                "run again",
            )
        chosen = Base(OFFLINE_BASE, f"{why}; the offline base {BASE_IMAGES_SCRIPT} builds")
        if self.docker.docker(["image", "inspect", OFFLINE_BASE], timeout=ENGINE_TIMEOUT_S).ok:
            self.reporter.progress(f"{why}: building on the offline base {OFFLINE_BASE}")
            return chosen
        script = self.base_images_script
        if script is None or not script.is_file():
            raise DeployerError(
                f"{why}, and the offline base {OFFLINE_BASE} is not in the engine",
                hint=f"build it with {BASE_IMAGES_SCRIPT} (in the project's checkout), then "
                "run again",
            )
        self.reporter.progress(
            f"{why}: building the offline base {OFFLINE_BASE} with {BASE_IMAGES_SCRIPT} "
            "(cached outside the clone: only a machine's first run takes a minute)"
        )
        built = self.docker.script(script, timeout=BASE_BUILD_TIMEOUT_S)
        if not built.ok:
            raise DeployerError(
                f"{BASE_IMAGES_SCRIPT} failed (exit {built.returncode}); the end of its "
                "output:\n" + _indent(built.tail()),
                hint="fix what it names, then run again",
            )
        return chosen

    # -- login, build, push ---------------------------------------------------------
    def login(self, config_dir: Path, host: str) -> None:
        """``docker login`` with a token of the delivery account, stored in ``config_dir``."""
        import botocore.exceptions

        try:
            data = self._delivery_ecr(self.push_region).get_authorization_token()
        except botocore.exceptions.ClientError as exc:
            raise translate(exc, "get an ECR authorization token") from exc
        token = data["authorizationData"][0]["authorizationToken"]
        user, _, password = base64.b64decode(token).decode().partition(":")
        # A host name the emulator has just added to /etc/hosts may not resolve yet:
        # Docker's resolver re-reads that file at most every 5 s.
        deadline = time.monotonic() + RESOLVE_WAIT_S
        while True:
            done = self.docker.docker(
                ["login", "--username", user, "--password-stdin", host],
                timeout=ENGINE_TIMEOUT_S * 4,
                config=config_dir,
                stdin=password,
            )
            if done.ok or "no such host" not in done.output or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if not done.ok:
            said = done.tail().replace(password, "***") if password else done.tail()
            raise DeployerError(
                f"docker login to {host} failed (exit {done.returncode}):\n" + _indent(said),
                hint="the delivery account's role needs ecr:GetAuthorizationToken; on the "
                "local target, `deployer emulator status` shows the registry",
            )

    def build_and_push(self, image: ServiceImage, base: Base, config_dir: Path) -> None:
        started = time.monotonic()
        local = f"{image.repository_name}:{TAG}"
        context = self.dockerfile(image.service).parent
        say = self._say(image.service)
        say(f"building {context.relative_to(self.source)} on {base.image or 'its FROM'}")
        build_arg = ["--build-arg", f"BASE_IMAGE={base.image}"] if base.image else []
        built = self.docker.docker(
            ["build", *build_arg, "-t", local, str(context)], timeout=BUILD_TIMEOUT_S
        )
        self.reporter.debug(built.output, scope=image.service)
        if not built.ok:
            raise DeployerError(
                f"building {image.service}'s image failed (docker build exit "
                f"{built.returncode}); the end of its output:\n" + _indent(built.tail()),
                hint=f"fix {self.dockerfile(image.service)} (or its base), then run "
                f"deployer images bootstrap {self.env.name}",
            )
        tagged = self.docker.docker(["tag", local, image.image], timeout=ENGINE_TIMEOUT_S)
        if not tagged.ok:
            raise DeployerError(f"docker tag {local} {image.image} failed: {tagged.last_line()}")
        self.docker.docker(["rmi", local], timeout=ENGINE_TIMEOUT_S)  # the URI's tag stays
        say(f"pushing {image.image}")
        pushed = self.docker.docker(
            ["push", image.image], timeout=PUSH_TIMEOUT_S, config=config_dir
        )
        self.reporter.debug(pushed.output, scope=image.service)
        found = self.present(image, self.push_region)
        if found is not None and not pushed.ok:
            # Another run pushed it since we looked (tags are immutable: ours was refused).
            image.status, (image.digest, image.size_bytes) = ALREADY_THERE, found
            say(f"already there (pushed by another run): {image.image}")
            return
        if not pushed.ok:
            raise DeployerError(
                f"pushing {image.service}'s image to {image.image} failed (docker push exit "
                f"{pushed.returncode}); the end of its output:\n" + _indent(pushed.tail()),
                hint=f"once the cause is fixed, run deployer images bootstrap {self.env.name}",
            )
        if found is None:
            raise DeployerError(f"docker pushed {image.image}, but ECR's DescribeImages lacks it")
        image.status, (image.digest, image.size_bytes) = PUSHED, found
        image.seconds = round(time.monotonic() - started, 1)
        say(f"pushed {image.digest} in {image.seconds:g} s")

    def seed_build_bases(self, report: Report) -> None:
        """On the local target, where the offline base stood in: the builds' BASE_IMAGE."""
        import botocore.exceptions

        offline = [s for s, base in report.bases.items() if base.image == OFFLINE_BASE]
        if not self.target.is_local or not offline:
            return
        delivery = self.config.delivery
        ssm = Scope(self.config, delivery, self.push_region, self.target, self.clients).client(
            "ssm"
        )
        for service in offline:
            name = parameter_path(delivery.name, service) + "BASE_IMAGE"
            try:
                ssm.put_parameter(Name=name, Value=OFFLINE_BASE, Type="String", Overwrite=False)
                status = "set"
            except botocore.exceptions.ClientError as exc:
                if _code(exc) != "ParameterAlreadyExists":
                    raise translate(exc, f"setting {name}") from exc
                status = "kept"
            report.build_parameters[service] = (name, status)
            self._say(service)(
                f"builds' {name}: {OFFLINE_BASE}"
                if status == "set"
                else f"builds' {name}: kept the value there"
            )

    def check_replicas(self, images: list[ServiceImage]) -> None:
        """The other regions: there already, replicated after the push, or not (yet)."""
        others = self._other_regions()
        for image in images:
            for region in others:
                there = image.status == ALREADY_THERE and self.present(image, region) is not None
                image.regions[region] = ALREADY_THERE if there else NOT_REPLICATED
        # Wait for what was just pushed; an older image missing there will not come.
        wait = self.replication_wait_s
        deadline = time.monotonic() + (
            REPLICATION_WAIT_S[self.target.is_local] if wait is None else wait
        )
        while True:
            waiting = [
                (image, region)
                for image in images
                if image.status == PUSHED
                for region, state in image.regions.items()
                if state == NOT_REPLICATED
            ]
            for image, region in waiting:
                if self.present(image, region) is not None:
                    image.regions[region] = REPLICATED
            if len(waiting) == 0 or time.monotonic() >= deadline:
                break
            time.sleep(2.0)
        for image in images:
            late = [r for r, state in image.regions.items() if state == NOT_REPLICATED]
            if late:
                self.reporter.warn(
                    f"{image.service}: {image.image} is not in {', '.join(late)}: ECR "
                    f"replication copies what is pushed to {self.push_region} (the delivery "
                    "stack's rule; on AWS within minutes); deployer images bootstrap "
                    f"{self.env.name} shows when it is there"
                )

    def _say(self, service: str) -> Callable[[str], None]:
        return lambda message: self.reporter.progress(message, scope=service)

    # -- the whole -------------------------------------------------------------------
    def run(self) -> Report:
        """Push each missing image once, report each one's state in every region."""
        images = self.images()
        report = Report(self.env.name, self.target.kind, self.source, images)
        missing = []
        for image in images:
            found = self.present(image, self.push_region)
            if found is None:
                missing.append(image)
            else:
                image.status, (image.digest, image.size_bytes) = ALREADY_THERE, found
                self._say(image.service)(f"already there: {image.image}")
        if missing:
            self.check_sources(missing)
            problem = self.engine_problem()
            if problem:
                raise self.engine_error(problem)
            state = self.registry(self.target)
            if not state.up:
                raise self.registry_error(state)
            report.bases = self.choose_bases(missing)
            host = missing[0].repository_uri.split("/", 1)[0]
            with tempfile.TemporaryDirectory(prefix="deployer-docker-") as config_dir:
                self.login(Path(config_dir), host)
                for image in missing:
                    self.build_and_push(image, report.bases[image.service], Path(config_dir))
            self.seed_build_bases(report)
        for image in images:
            image.regions[self.push_region] = image.status
        self.check_replicas(images)
        return report

    def for_apply(self) -> tuple[Report | None, str | None]:
        """On the local target, as an apply begins: bootstrap, or say once why not.

        Never raises a DeployerError: the apply goes on, and a missing engine or
        registry only means the services will not run yet. Returns the report, or why
        there is none.
        """
        state = self.registry(self.target)
        if state.runtime_off:  # infrastructure only, as asked: nothing to say
            self.reporter.detail(f"no bootstrap images: {state.reason}")
            return None, state.reason
        problem = self.engine_problem()
        error = self.engine_error(problem) if problem else None
        if error is None and not state.up:
            error = self.registry_error(state)
        try:
            if error is not None:
                raise error
            return self.run(), None
        except DeployerError as exc:
            self.reporter.warn(f"bootstrap images: {exc}")
            return None, exc.message


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
