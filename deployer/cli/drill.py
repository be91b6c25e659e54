"""``deployer drill``: game days that prove a promise of the platform."""

from __future__ import annotations

from deployer import drill, errors
from deployer.aws import LOCAL
from deployer.cli.common import Commands, Context
from deployer.errors import UsageError
from deployer.scope import Scope


def register(commands: Commands) -> None:
    p = commands.add(
        "drill",
        "Game days: prove a bad release is rolled back and people hear of it.",
        """\
        rollback: release a copy of the service's task definition as a CodeDeploy
        blue/green deployment, break it (green targets unhealthy, its alarm in
        ALARM), let the deploy guard decide, and verify production traffic is back
        on the original target group, the service on the previous task definition,
        and a notification published. Prints each step with its time and the time
        from the breach to traffic restored; leaves the environment as it was.

        On the local emulator the drill plays CodeDeploy's part and runs the deploy
        guard's real handler code. On AWS it needs --i-know: real CodeDeploy
        deploys, the drill puts the alarm in ALARM and waits for the rollback.

        --hook: where green is found broken: AfterAllowTraffic (default; after
        production traffic moved), AfterAllowTestTraffic (test traffic only), or
        alarm (both hooks pass, then the alarm fires and the guard stops the
        deployment).

        example:
          deployer drill rollback staging --service api-service
          deployer drill rollback staging --hook alarm --json
        """,
        cmd_drill,
    )
    p.add_argument("drill", choices=("rollback",), help="the drill to run")
    p.add_argument("environment", help="a runtime environment (dev, staging, prod, ...)")
    p.add_argument("--service", metavar="S", help="microservice (default: the first configured)")
    p.add_argument(
        "--hook",
        choices=drill.SCENARIOS,
        default=drill.AFTER_ALLOW_TRAFFIC,
        help="where the broken release is caught (default: AfterAllowTraffic)",
    )
    p.add_argument("--region", metavar="R", help="region (default: the environment's primary)")
    p.add_argument(
        "--i-know",
        action="store_true",
        dest="i_know",
        help="allow the drill on AWS: it deploys a revision and sets an alarm to ALARM there",
    )


def cmd_drill(ctx: Context) -> int:
    env = ctx.environment()
    if env.stack != "runtime":
        raise UsageError(f"{env.name} uses the {env.stack} stack, which deploys no services")
    if ctx.target_kind != LOCAL and not ctx.args.i_know:
        raise UsageError(
            f"refusing to run a rollback drill on AWS ({env.name}, account {env.account_id}): "
            "it deploys a revision and puts an alarm in ALARM there",
            hint="run it on the local emulator, or add --i-know if that is what you want",
        )
    regions = [ctx.args.region] if ctx.args.region else [env.primary_region]
    (scope,) = Scope.resolve(ctx.config, env, regions, ctx.target, ctx.drill_clients)
    service = ctx.args.service or ctx.config.microservices[0].name
    result = drill.rollback(scope, service, ctx.args.hook, progress=ctx.reporter.progress)
    ctx.reporter.result(result.to_json(), result.to_text())
    return errors.EXIT_OK if result.ok else errors.EXIT_FAILURE
