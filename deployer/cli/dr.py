"""``deployer dr``: disaster recovery of a two-region environment (deployer/dr.py,
deployer/failover.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deployer import errors
from deployer.cli.common import Commands, Context
from deployer.errors import UsageError
from deployer.scope import Scope

if TYPE_CHECKING:
    from deployer import dr, failover


def register(commands: Commands) -> None:
    p = commands.add(
        "dr",
        "Disaster recovery: whether the DR region could take production now, failover, failback.",
        """\
        status: per service, from the AWS API only, whether the environment's DR
        region (its second) could take production now. It reads nothing in the
        primary region but what the DR region is compared against; when the
        primary's API fails, the checks that compare say so and the rest still run.

          image            production's image digest is in the DR region's ECR
          task definition  the DR service runs that digest with the same cpu, memory,
                           environment, secret names, ports and health check
          parameters       SSM /pipeline/<env>/<service>/ and shared: the same names
                           and values (compared as SHA-256 digests, never printed)
          capacity         running = desired = the region's standby_count (or the
                           serving record's count), targets healthy
          deployment       no CodeDeploy deployment in flight
          alarms           the service's alarms exist and are OK
          health checks    with dns: Route 53's view of the failover records' checks
          state replica    not built yet (issue 15 point 5)

        Exit 0 ready, 1 not ready (each gap named with its fix), 2 usage error (an
        unknown environment, or one with a single region: nothing to fail over to).
        A check that could not compare (unknown) is not a gap.

        failover: moves production to the DR region (or --to REGION), reading and
        writing nothing in the primary region, each step timed:
          readiness         status's checks of the target; a gap refuses (exit 1)
                            unless --force, which names each gap it passes over
          hold deployments  the pipeline stage that deploys ENV: inbound transition
                            disabled, with the reason
          scale             the target's services to their desired count, waited
                            for until running with healthy targets (a failure stops)
          switch traffic    the traffic switch's metric = 1 in the DR region: the
                            Route 53 health checks send users to the DR region
          verify            <service>.<zone> answers the target's load balancer and
                            an HTTPS GET of the health path succeeds
          record            the serving record /deployer/dr/ENV (SSM) in every
                            region that answers: serving region, counts, steps, the
                            recovery time (start to verified); deployer plan uses
                            its counts, so plan is empty after a failover
          publish           the event on the environment's notifications topic
        A region that does not answer (HTTP 503, no connection) makes its step
        skipped, named; running the command again completes what is pending.

        failback: the reverse: the primary scaled to its desired count and healthy,
        the switch = 0, the name verified to answer the primary, the DR region back
        to its standby count, deployments released, the record (serving: the
        primary), the event on the primary's topic.

        Exit 0 done (steps pending are listed), 1 refused or failed, 2 usage error
        (an unknown environment or region, one region only, --to the serving
        region, failback when not failed over).

        example:
          deployer dr status prod
          deployer dr status prod --json
          deployer dr failover prod
          deployer dr failover prod --to us-west-2 --force --json
          deployer dr failback prod
        """,
        cmd_dr,
    )
    p.add_argument(
        "action",
        choices=("status", "failover", "failback"),
        help="status: the readiness check; failover, failback: move production",
    )
    p.add_argument("environment", help="a runtime environment with two regions (prod, ...)")
    p.add_argument("--to", metavar="REGION", help="failover: the region to move to (its DR region)")
    p.add_argument(
        "--force",
        action="store_true",
        help="failover: go ahead although the target is not ready (the gaps are named)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="failover, failback: how long each wait (healthy targets, the name verified) "
        "lasts at most (default 600)",
    )


def cmd_dr(ctx: Context) -> int:
    # Here, not at the top: botocore is not every command's cost (tests/unit/test_plan_startup.py).
    from deployer import dr

    args = ctx.args
    if args.action != "failover" and (args.to or args.force):
        raise UsageError(f"--to and --force go with failover, not {args.action}")
    if args.action == "status" and args.timeout is not None:
        raise UsageError("--timeout goes with failover and failback, not status")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError(f"--timeout {args.timeout:g}: give a number of seconds above 0")
    config = ctx.config
    env = config.environment(args.environment)
    dr.dr_region_of(config, env)  # a usage error for an environment of one region
    if args.action != "status":
        return _move(ctx, env)
    found = status_of(ctx, env, reach_of(ctx, env), warn=True)
    ctx.reporter.result(found.to_json(), found.to_text())
    return errors.EXIT_OK if found.ready else errors.EXIT_FAILURE


def status_of(ctx: Context, env: Any, reach: failover.Reach, *, warn: bool = False) -> dr.Status:
    """``deployer dr status``'s checks of ``env``, as this command and the region-outage
    drill (deployer/cli/drill.py) run them; ``warn``: say which copies of the serving
    record could not be read."""
    from deployer import dr, failover, state_replica
    from deployer.workspaces import Workspace

    config, target, clients = ctx.config, ctx.target, ctx.clients
    primary = Scope(config, env, env.primary_region, target, clients)
    standby = Scope(config, env, dr.dr_region_of(config, env), target, clients)
    delivery = config.delivery

    def delivery_ecr(region: str) -> object:
        return failover.botocore_client(
            lambda: Scope(config, delivery, region, target, clients).client("ecr")
        )

    sources = dr.Sources(
        primary=lambda s: failover.botocore_client(lambda: primary.client(s)),
        dr=lambda s: failover.botocore_client(lambda: standby.client(s)),
        delivery_ecr=delivery_ecr,
        # Route 53 is global, its control plane in us-east-1; the zone is the delivery
        # account's (issue 15 point 1).
        route53=lambda: failover.botocore_client(
            lambda: Scope(config, delivery, "us-east-1", target, clients).client("route53")
        ),
        primary_names=primary.names,
        dr_names=standby.names,
        state_replica=lambda: state_replica.check(
            config, clients, target, [Workspace(env.stack, env.name, r.name) for r in env.regions]
        ),
    )
    read = failover.read_record(env, reach.env_client)
    if warn:
        for region, why in read.unread.items():
            ctx.reporter.warn(f"the serving record in {region} could not be read: {why}")
    record = read.record
    return dr.status(
        sources, config, env, progress=ctx.reporter.progress,
        serving=record.serving if record else None,
    )  # fmt: skip


def reach_of(ctx: Context, env: Any) -> failover.Reach:
    """What dr failover and failback (and the drill) reach AWS through."""
    from deployer import failover

    config, target, clients = ctx.config, ctx.target, ctx.clients

    def env_client(region: str, service: str) -> Any:
        return Scope(config, env, region, target, clients).client(service)

    def delivery_client(region: str, service: str) -> Any:
        return Scope(config, config.delivery, region, target, clients).client(service)

    timeout = ctx.args.timeout
    return failover.Reach(
        env_client=env_client,
        delivery_client=delivery_client,
        names=lambda region: config.names.target(env.name, region),
        verifier=failover.verifier_for(target),
        **({"timeout": timeout} if timeout is not None else {}),
    )


def _move(ctx: Context, env: Any) -> int:
    from deployer import failover

    if ctx.args.action == "failover":
        failover.failover_target(ctx.config, env, ctx.args.to)  # usage errors, before AWS
    reach = reach_of(ctx, env)
    if ctx.args.action == "failover":
        outcome = failover.failover(
            ctx.config,
            env,
            reach,
            to=ctx.args.to,
            force=ctx.args.force,
            progress=ctx.reporter.progress,
        )
    else:
        outcome = failover.failback(ctx.config, env, reach, progress=ctx.reporter.progress)
    ctx.reporter.result(outcome.to_json(), outcome.to_text())
    return errors.EXIT_FAILURE if outcome.refused or outcome.failed else errors.EXIT_OK
