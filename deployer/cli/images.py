"""``deployer images bootstrap``: the images the runtime's task definitions start from."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from deployer import errors
from deployer import image_settings as images  # the help's names; deployer.images when run
from deployer.cli.common import Commands, Context
from deployer.config import Environment
from deployer.names import RUNTIME_STACK

if TYPE_CHECKING:
    from deployer.images import Bootstrap


def register(commands: Commands) -> None:
    p = commands.add(
        "images",
        "Build each microservice's image and push it to ECR as `bootstrap`, where missing.",
        f"""\
        The runtime stack's task definitions name <repository>:{images.TAG} until the
        pipeline's first release. For every microservice, `bootstrap` asks ECR (the
        delivery account's repository) whether that tag exists; where it does not, it
        builds services/<name>/ of the monorepo (--source, default {images.DEFAULT_SOURCE})
        and pushes it to the delivery region; ECR's replication copies it to the
        other regions. Tags are immutable: an existing one is reported as
        "{images.ALREADY_THERE}", never pushed again.

        The same on both targets: an ECR token through the delivery account's role,
        `docker login` into a private temporary Docker configuration (never
        ~/.docker; the token is never printed), then docker build, tag and push.
        The base is the Dockerfiles' default (ARG BASE_IMAGE) when the engine has it
        or can pull it, else the offline {images.OFFLINE_BASE}
        ({images.BASE_IMAGES_SCRIPT} builds it when missing); the result says which.
        Needs a Docker engine (bin/docker-engine starts one as root). On the local
        target `apply` runs this before applying a runtime environment.

        example:
          deployer images bootstrap staging
          deployer images bootstrap prod --source ../shop-monorepo --json
        """,
        cmd_images,
    )
    p.add_argument(
        "action",
        choices=("bootstrap",),
        help=f"bootstrap: build and push each missing <repository>:{images.TAG}",
    )
    p.add_argument("environment", help="a runtime environment (staging, prod, ...)")
    p.add_argument(
        "--source",
        type=Path,
        metavar="DIR",
        help=f"the monorepo: services/<name>/Dockerfile (default: {images.DEFAULT_SOURCE} "
        "of the project)",
    )


def bootstrap_of(ctx: Context, env: Environment) -> Bootstrap:
    from deployer.images import Bootstrap

    root = ctx.project.root
    source = getattr(ctx.args, "source", None)
    return Bootstrap(
        config=ctx.config,
        env=env,
        target=ctx.target,
        clients=ctx.clients,
        reporter=ctx.reporter,
        source=(source or root / images.DEFAULT_SOURCE).resolve(),
        base_images_script=root / images.BASE_IMAGES_SCRIPT,
    )


def cmd_images(ctx: Context) -> int:
    env = ctx.environment()
    report = bootstrap_of(ctx, env).run()
    ctx.reporter.result(report.to_json(), report.text())
    return errors.EXIT_OK


def delivery_first(ctx: Context, env: Environment) -> list[str]:
    """On the local target, the repositories a runtime environment's images need that do
    not exist yet: the delivery stack, which holds them, is applied first (one command
    stands up a platform whose services can start). Empty elsewhere: on AWS, without the
    emulator's registry or a Docker engine, or when the environment deploys no services."""
    if not (ctx.target.is_local and env.stack == RUNTIME_STACK):
        return []
    from deployer.emulator.runtime import engine_state

    # Infrastructure only (no registry, or no engine to build with): nothing to gain.
    from deployer.images import registry_state

    if not registry_state(ctx.target).up or not engine_state()["up"]:
        return []
    try:
        return bootstrap_of(ctx, env).missing_repositories()
    except errors.DeployerError:
        return []


def before_apply(ctx: Context, env: Environment) -> tuple[dict[str, Any], str] | None:
    """What `apply` does first on the local target for a runtime environment: the bootstrap
    images its task definitions name, pushed before the stack is applied so that its
    services' first tasks find them (no failed pulls, no back-off), as JSON and text (a
    warning, never a failure, when they cannot be made); None elsewhere."""
    if not (ctx.target.is_local and env.stack == RUNTIME_STACK):
        return None
    report, skipped = bootstrap_of(ctx, env).for_apply()
    if report is None:
        return {"skipped": skipped}, ""
    return report.to_json(), "\n\nbootstrap images:\n" + report.text()
