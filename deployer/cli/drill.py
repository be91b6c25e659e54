"""``deployer drill``: game days that prove a promise of the platform."""

from __future__ import annotations

from deployer import errors
from deployer.aws import LOCAL
from deployer.cli.common import Commands, Context
from deployer.drill_scenarios import AFTER_ALLOW_TRAFFIC, SCENARIOS
from deployer.errors import UsageError
from deployer.scope import Scope


def register(commands: Commands) -> None:
    p = commands.add(
        "drill",
        "Game days: prove a bad release is rolled back and people hear of it.",
        """\
        rollback: release a copy of the service's task definition as a CodeDeploy
        blue/green deployment (the deploy guard as its hooks), break it, and verify
        that CodeDeploy, the guard and the alarms roll it back: production traffic
        back on the original target group, the service on the previous task
        definition, the replacement task set gone, and a notification published.
        Prints each step with its time and the time from the breach to traffic
        restored; leaves the environment as it was.

        The same calls on AWS (--i-know) and on the local emulator with its runtime,
        whose CodeDeploy engine deploys. Where the environment enables the sample
        services' fault switch (FAULT_INJECTION=enabled) the release is really
        broken: it fails /health from the start (AfterAllowTestTraffic) or once
        production traffic reaches it (AfterAllowTraffic, alarm); elsewhere the
        drill puts the unhealthy-targets alarm in ALARM with SetAlarmState. An
        emulator started without its runtime (--no-runtime) deploys nothing: the
        drill refuses there and says how to start one that does.

        --hook: where green is found broken: AfterAllowTraffic (default; after
        production traffic moved), AfterAllowTestTraffic (test traffic only), or
        alarm (both hooks pass, then in the termination wait the alarm fires and
        CodeDeploy or the guard stops the deployment; needs a termination wait of
        a minute or more).

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
        choices=SCENARIOS,
        default=AFTER_ALLOW_TRAFFIC,
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
    from deployer import drill

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
