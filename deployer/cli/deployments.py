"""``deployer deployments`` and ``deployer rollback``: a service's CodeDeploy history, and
going back to an earlier version of it."""

from __future__ import annotations

import argparse

from deployer import errors
from deployer.cli.common import Commands, Context
from deployer.scope import Scope

#: Ctrl-C while following: the deployment goes on; the shell's code for SIGINT.
EXIT_INTERRUPTED = 130
#: Deployments `deployer deployments` shows unless --limit says otherwise.
DEFAULT_LIMIT = 20


def register(commands: Commands) -> None:
    p = commands.add(
        "deployments",
        "List a service's CodeDeploy deployments: what each deployed, and its outcome.",
        """\
        Newest first: deployment ID, when it was created and completed, its creator
        (user, codeDeployRollback, ...), its outcome (Succeeded; Failed or Stopped with
        CodeDeploy's error code; rolled back by <id>), the task definition its AppSpec
        names and that task definition's image(s) (or deregistered / deleted). The
        deployment that deployed what the service runs now (its PRIMARY task set) is
        marked with *. These are the IDs `deployer rollback --to` takes.

        example:
          deployer deployments staging --service api-service
          deployer deployments prod --service api-service --region us-west-2 --limit 5 --json
        """,
        cmd_deployments,
    )
    _service_args(p)
    p.add_argument(
        "--limit",
        type=_positive,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"show the N newest deployments (default: {DEFAULT_LIMIT})",
    )

    p = commands.add(
        "rollback",
        "Redeploy an earlier version of a service through CodeDeploy blue/green, and follow it.",
        """\
        The default target is the last deployment that succeeded before the one that
        deployed what the service runs now, with another task definition ECS can still
        deploy; --to names one (see `deployer deployments`). Refused, with nothing
        created: while a deployment of the group is in progress, or a --to that never
        succeeded, belongs to another service, deployed what runs now, or whose task
        definition is deregistered.

        The deployment is a CodeDeploy blue/green one with the pipeline's appspec (the
        deploy guard on AfterAllowTestTraffic and AfterAllowTraffic), described
        "deployer rollback to <id>". Each lifecycle event and status is printed with
        its time until the deployment ends: exit 0 when it Succeeded, 1 when it failed,
        was stopped or rolled back (or --timeout passed), 130 on Ctrl-C. After a
        timeout or Ctrl-C the deployment carries on in CodeDeploy.

        example:
          deployer rollback staging --service api-service
          deployer rollback prod --service api-service --to d-ABCDEFGH1 --region us-west-2
        """,
        cmd_rollback,
    )
    _service_args(p)
    p.add_argument(
        "--to",
        metavar="DEPLOYMENT_ID",
        help="the deployment whose version to deploy again (default: the one before the current)",
    )
    p.add_argument(
        "--timeout",
        type=_positive,
        default=3600,
        metavar="SECONDS",
        help="stop following after this long; the deployment goes on (default: 3600)",
    )


def _service_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("environment", help="a runtime environment (dev, staging, prod, ...)")
    parser.add_argument("--service", metavar="S", required=True, help="the microservice")
    parser.add_argument("--region", metavar="R", help="region (default: the environment's primary)")


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def _scope(ctx: Context) -> Scope:
    """The one region the command names (``--region``; ``regions`` when `deployer history
    --service` hands over), default the environment's primary."""
    env = ctx.environment()
    named = getattr(ctx.args, "region", None) or (getattr(ctx.args, "regions", None) or [None])[0]
    (scope,) = Scope.resolve(
        ctx.config, env, [named or env.primary_region], ctx.target, ctx.clients
    )
    return scope


def cmd_deployments(ctx: Context) -> int:
    from deployer import deployments  # here: its imports (botocore, the drill) cost every command

    limit = getattr(ctx.args, "limit", None) or DEFAULT_LIMIT
    found = deployments.history(_scope(ctx), ctx.args.service, limit=limit)
    ctx.reporter.result(found.to_json(), found.to_text())
    return errors.EXIT_OK


def cmd_rollback(ctx: Context) -> int:
    from deployer import deployments

    result = deployments.rollback(
        _scope(ctx),
        ctx.args.service,
        to=ctx.args.to,
        progress=ctx.reporter.progress,
        timeout=float(ctx.args.timeout),
    )
    ctx.reporter.result(result.to_json(), result.to_text())
    if result.followed.ending == deployments.INTERRUPTED:
        return EXIT_INTERRUPTED
    return errors.EXIT_OK if result.ok else errors.EXIT_FAILURE
