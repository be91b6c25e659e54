"""``deployer dr``: disaster recovery of a two-region environment (deployer/dr.py)."""

from __future__ import annotations

from deployer import errors
from deployer.cli.common import Commands, Context
from deployer.scope import Scope


def register(commands: Commands) -> None:
    p = commands.add(
        "dr",
        "Disaster recovery: whether the DR region could take production now.",
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
          capacity         running = desired = the region's standby_count, targets
                           healthy (DescribeTargetHealth)
          deployment       no CodeDeploy deployment in flight
          alarms           the service's alarms exist and are OK
          health checks    with dns: Route 53's view of the failover records' checks
          state replica    not built yet (issue 15 point 5)

        Exit 0 ready, 1 not ready (each gap named with its fix), 2 usage error (an
        unknown environment, or one with a single region: nothing to fail over to).
        A check that could not compare (unknown) is not a gap.

        example:
          deployer dr status prod
          deployer dr status prod --json
        """,
        cmd_dr,
    )
    p.add_argument("action", choices=("status",), help="what to do (status: the readiness check)")
    p.add_argument("environment", help="a runtime environment with two regions (prod, ...)")


def cmd_dr(ctx: Context) -> int:
    # Here, not at the top: botocore is not every command's cost (tests/unit/test_plan_startup.py).
    from deployer import dr

    config = ctx.config
    env = config.environment(ctx.args.environment)
    dr_region = dr.dr_region_of(config, env)
    primary = Scope(config, env, env.primary_region, ctx.target, ctx.clients)
    standby = Scope(config, env, dr_region, ctx.target, ctx.clients)
    delivery = config.delivery

    def delivery_ecr(region: str) -> object:
        return Scope(config, delivery, region, ctx.target, ctx.clients).client("ecr")

    sources = dr.Sources(
        primary=primary.client,
        dr=standby.client,
        delivery_ecr=delivery_ecr,
        # Route 53 is global, its control plane in us-east-1; the zone is the delivery
        # account's (issue 15 point 1).
        route53=lambda: Scope(config, delivery, "us-east-1", ctx.target, ctx.clients).client(
            "route53"
        ),
        primary_names=primary.names,
        dr_names=standby.names,
    )
    found = dr.status(sources, config, env, progress=ctx.reporter.progress)
    ctx.reporter.result(found.to_json(), found.to_text())
    return errors.EXIT_OK if found.ready else errors.EXIT_FAILURE
