"""``deployer build-image``: the custom image the delivery stack's build projects run in."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from deployer import errors
from deployer.cli.common import Commands, Context
from deployer.config import Environment
from deployer.image_settings import (
    ALREADY_THERE,
    BASE_IMAGES_SCRIPT,
    BUILD_COMMAND,
    BUILD_CONTEXT,
    OFFLINE_BASE,
)

if TYPE_CHECKING:
    from deployer.build_image import BuildImage


def register(commands: Commands) -> None:
    p = commands.add(
        "build-image",
        "Build the build projects' image (images/build-image) and push it to ECR with --push.",
        f"""\
        Every CodeBuild project of the delivery stack runs in
        <delivery ECR>/<delivery prefix>-build-image:<pipeline.build_image_tag>. This
        builds {BUILD_CONTEXT}/Dockerfile (Python 3, pytest, the Docker and AWS
        CLIs, git, zip) on the offline base {OFFLINE_BASE} ({BASE_IMAGES_SCRIPT} builds
        it when missing) and tags it <repository>:<build_image_tag> in the engine.

        --push pushes it to the delivery account's repository, the same way on both
        targets (an ECR token through the delivery account's role, `docker login` into a
        private temporary Docker configuration, docker tag and push). The tag is
        immutable there: when ECR has it already, the same image is reported as
        "{ALREADY_THERE}" (exit 0); a different one fails (exit 1) naming
        both digests, nothing pushed: raise pipeline.build_image_tag for a new image.
        `deployer apply {{delivery}}` warns when the image is missing.

        example:
          deployer build-image --push
          deployer build-image --push --target aws --json
          deployer build-image --build-arg BUILD_NOTE=rebuilt-for-cve-2026-1234
        """,
        cmd_build_image,
    )
    p.add_argument(
        "--push",
        action="store_true",
        help="push it to the delivery account's ECR repository (default: build and tag only)",
    )
    p.add_argument(
        "--build-arg",
        action="append",
        dest="build_args",
        default=[],
        metavar="NAME=VALUE",
        help="a docker build argument (repeatable): BASE_IMAGE, BUILD_NOTE",
    )
    p.add_argument(
        "--context",
        type=Path,
        metavar="DIR",
        help=f"the folder with the Dockerfile (default: {BUILD_CONTEXT} of the project)",
    )


def builder_of(ctx: Context) -> BuildImage:
    from deployer.build_image import BuildImage

    root = ctx.project.root
    for pair in ctx.args.build_args:
        if "=" not in pair or not pair.partition("=")[0]:
            raise errors.UsageError(f"--build-arg {pair}: expected NAME=VALUE")
    context = getattr(ctx.args, "context", None)
    return BuildImage(
        config=ctx.config,
        target=ctx.target,
        clients=ctx.clients,
        reporter=ctx.reporter,
        context=(context or root / BUILD_CONTEXT).resolve(),
        base_images_script=root / BASE_IMAGES_SCRIPT,
        build_args=tuple(ctx.args.build_args),
    )


def cmd_build_image(ctx: Context) -> int:
    result = builder_of(ctx).run(push=ctx.args.push)
    ctx.reporter.result(
        {"target": ctx.target.kind, **result.to_json()},
        result.text(),
    )
    return errors.EXIT_OK


def after_apply(ctx: Context, env: Environment) -> dict[str, Any] | None:
    """After an apply of the delivery environment: whether the build image its build
    projects name is in ECR, as JSON, with a warning naming the command when it is not
    (never a failure); None for other environments."""
    if env.name != ctx.config.delivery.name:
        return None
    from deployer.build_image import build_image_presence

    try:
        found = build_image_presence(ctx.config, ctx.target, ctx.clients)
    except errors.DeployerError as exc:
        ctx.reporter.warn(f"could not check the build image in ECR: {exc.message}")
        return None
    if not found["present"]:
        ctx.reporter.warn(
            f"the build image {found['image']} is not in ECR: the build projects cannot start "
            f"until it is; run {BUILD_COMMAND}"
        )
    return found
