"""``deployer drill``: game days that prove a promise of the platform."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deployer import errors
from deployer.aws import LOCAL
from deployer.cli.common import Commands, Context
from deployer.drill_scenarios import AFTER_ALLOW_TRAFFIC, SCENARIOS
from deployer.errors import UsageError
from deployer.scope import Scope

if TYPE_CHECKING:
    from deployer import dr


def register(commands: Commands) -> None:
    p = commands.add(
        "drill",
        "Game days: a bad release rolled back; a region outage and how long users wait.",
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

        region-outage: the environment's primary region goes down (the emulator's
        region control) while a client resolves every <service>.<zone> through the
        emulator's DNS and GETs its health path over HTTPS (the emulator's CA),
        counting successes and failures per step and which region answered. First
        Route 53's health checks alone: the time until every name answers the DR
        region and requests succeed. The region comes back and the primary serves
        again; it goes down once more and `deployer dr failover` runs at once: the
        same time, with the command. Then the region comes back, dr failover is run
        again to complete its pending steps, and `deployer dr failback` leaves the
        environment as it was (the primary serving, the traffic switch at 0). `dr
        status` must be ready first: otherwise the drill refuses and names the gaps.
        On AWS (--i-know) no control takes a region down: the drill runs a planned
        dr failover and failback under the same client and measures the switch
        from the command's start.

        --timeout: how long each wait (every name answering a region, the commands'
        own waits) lasts at most (default 600 s).

        example:
          deployer drill rollback staging --service api-service
          deployer drill rollback staging --hook alarm --json
          deployer drill region-outage prod --json
        """,
        cmd_drill,
    )
    p.add_argument("drill", choices=("rollback", "region-outage"), help="the drill to run")
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
        help="allow the drill on AWS: rollback deploys a revision and sets an alarm to ALARM "
        "there; region-outage fails production over to its DR region and back",
    )
    p.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="region-outage: how long each wait lasts at most (default 600)",
    )


def cmd_drill(ctx: Context) -> int:
    from deployer import drill

    env = ctx.environment()
    if env.stack != "runtime":
        raise UsageError(f"{env.name} uses the {env.stack} stack, which deploys no services")
    if ctx.args.drill == "region-outage":
        return _region_outage(ctx, env)
    if ctx.args.timeout is not None:
        raise UsageError("--timeout goes with region-outage, not rollback")
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


def _region_outage(ctx: Context, env: Any) -> int:
    # Here, not at the top: botocore is not every command's cost.
    from deployer import dr, drill_region, failover
    from deployer.cli.dr import reach_of, status_of
    from deployer.emulator import controls

    args = ctx.args
    if args.service or args.region or args.hook != AFTER_ALLOW_TRAFFIC:
        raise UsageError("--service, --region and --hook go with rollback, not region-outage")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError(f"--timeout {args.timeout:g}: give a number of seconds above 0")
    config = ctx.config
    dr_region = dr.dr_region_of(config, env)  # a usage error with one region
    if env.dns is None:
        raise UsageError(
            f"{env.name} has no dns.zone: there is no name whose answer a region outage moves",
            hint=f"set dns.zone in {env.name}'s YAML and apply it",
        )
    local = ctx.target_kind == LOCAL
    if not local and not args.i_know:
        raise UsageError(
            f"refusing to run a region-outage drill on AWS ({env.name}, account "
            f"{env.account_id}): no control takes an AWS region down, so it fails production "
            f"over to {dr_region} and back, a planned failover",
            hint="run it on the local emulator, or add --i-know if that is what you want",
        )
    reach = reach_of(ctx, env)
    target = ctx.target
    if local:
        endpoint = str(target.endpoint)
        if not controls.post(endpoint, "runtime", None).get("runtime"):
            raise UsageError(
                "the emulator runs without its runtime: no load balancer, DNS server or "
                "health checker to take down",
                hint="deployer emulator stop, then deployer emulator start (with its runtime)",
            )
        resolver: failover.Resolver = failover.EmulatorResolver(endpoint)
        outage: drill_region.Outage | None = drill_region.Outage(
            down=lambda r: controls.post(endpoint, "regions/down", {"region": r}),
            up=lambda r: controls.post(endpoint, "regions/up", {"region": r}),
        )
    else:
        resolver, outage = failover.SystemResolver(), None
    dns = env.dns
    names = {m.name: (dns.record_name(m.name), m.health_check_path) for m in config.microservices}
    regions: dict[str, str] = {}
    for region in (r.name for r in env.regions):
        elb = reach.env_client(region, "elbv2")
        for m in config.microservices:
            alb = reach.names(region).service(m.name).alb_name
            (found,) = elb.describe_load_balancers(Names=[alb])["LoadBalancers"]
            regions.update(dict.fromkeys(resolver.load_balancer(found["DNSName"]), region))
    traffic = drill_region.Traffic(
        drill_region.NameProbe(resolver, names, regions), list(names), clock=reach.clock
    )

    def status() -> dr.Status:
        return status_of(ctx, env, reach)

    def serving() -> str:
        record = failover.read_record(env, reach.env_client).record
        return record.serving if record else env.serving_region

    parts = drill_region.Parts(
        status=status,
        failover=lambda: failover.failover(config, env, reach, progress=ctx.reporter.progress),
        failback=lambda: failover.failback(config, env, reach, progress=ctx.reporter.progress),
        serving=serving,
        traffic=traffic,
        outage=outage,
        **({"timeout": args.timeout} if args.timeout is not None else {}),
    )
    result = drill_region.region_outage(
        parts, env.name, env.primary_region, dr_region, progress=ctx.reporter.progress
    )
    ctx.reporter.result(result.to_json(), result.to_text())
    return errors.EXIT_OK if result.ok else errors.EXIT_FAILURE
