"""Bootstrap images: each microservice built from the monorepo and pushed to ECR as ``bootstrap``.

The runtime stack's task definitions name ``<image_repository>:bootstrap`` (variable
``image_tag``) until the pipeline's first release puts a deployment ID in their place.
:func:`bootstrap` makes that tag exist: for every microservice of the project it asks
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
from typing import Any, Protocol

import botocore.exceptions

from deployer.aws import Target, translate
from deployer.config import Config, Environment
from deployer.errors import DeployerError, EmulatorError, UsageError
from deployer.output import Reporter, table
from deployer.scope import Scope

#: The tag the runtime stack's task definitions name until the first release
#: (environments/stacks/runtime, variable image_tag).
TAG = "bootstrap"
#: Where the monorepo is, relative to the project root, unless --source says.
DEFAULT_SOURCE = Path("examples") / "monorepo"
#: What bin/base-images builds, and the public bases it stands in for.
OFFLINE_BASE = "deployer-base/python-runtime:bookworm"
OFFLINE_BASE_REPLACES = "python:"
BASE_IMAGES_SCRIPT = Path("bin") / "base-images"
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
        return Completed(124, f"{text}\n{argv[0]} {argv[1] if len(argv) > 1 else ''} did not "
                         f"finish within {timeout:g} s")  # fmt: skip
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
ALREADY_THERE = "already there"
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

    @property
    def pushed(self) -> list[ServiceImage]:
        return [i for i in self.images if i.status == PUSHED]

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
        return "\n".join(lines)


