"""The engines: AWS's background processes, played in the emulator on its clock.

Each engine is a module here whose class follows ``scheduler.Engine`` (a ``name``,
``start(scheduler)``, ``status()``) and whose docstring says what it reproduces,
after AWS's documentation, and what it leaves out. ``create()`` makes one of each
for an emulator process; ``serve.py`` registers them with the scheduler.
"""

from __future__ import annotations

from typing import Any

from deployer.emulator.scheduler import Engine


def create(runtime: Any = None) -> list[Engine]:
    """The engines of an emulator process; those that run containers need its runtime
    (``runtime.Runtime``, None without one) with the registry up."""
    from deployer.emulator import controls
    from deployer.emulator.engines.codepipeline import CodePipelineEngine
    from deployer.emulator.engines.codepipeline_metrics import CodePipelineMetrics
    from deployer.emulator.engines.ecr_lifecycle import EcrLifecycle
    from deployer.emulator.engines.s3_replication import S3Replication

    # Pipelines run without the runtime too (their Source and Approval actions need no
    # container); a Build action then waits, as no CodeBuild engine takes its build.
    from deployer.emulator.patches.acm_private_ca import AcmValidation

    engines: list[Engine] = [
        EcrLifecycle(),
        CodePipelineEngine(),
        CodePipelineMetrics(),
        AcmValidation(),  # DNS-validated certificates issued once their records are in DNS
        S3Replication(),  # the state bucket's replica in the DR region (issue 15)
    ]
    if runtime is not None and runtime.registry_down is None:
        from deployer.emulator.engines.cloudwatch_alarms import CloudWatchAlarms
        from deployer.emulator.engines.codebuild import CodeBuildEngine
        from deployer.emulator.engines.codedeploy import CodeDeployEngine
        from deployer.emulator.engines.ecs_tasks import EcsTasks
        from deployer.emulator.engines.elb_listeners import ElbListeners
        from deployer.emulator.engines.route53_dns import Route53Dns
        from deployer.emulator.engines.route53_health import Route53HealthChecks, elb_resolver

        tasks = EcsTasks(runtime.owner, runtime.state_dir / "docker-config")
        listeners = ElbListeners(tasks.resolve)
        # Alarms evaluate the data the runtime's engines publish; without them no task
        # or load balancer reports anything, and every alarm that treats missing data as
        # breaching would go off for want of data, not for a fault.
        alarms = CloudWatchAlarms()
        # CodeDeploy's engine needs tasks that run and health that is measured: without
        # them no replacement task set would ever be checked healthy.
        deploys = CodeDeployEngine()
        # Builds log in to the registry as their service role: a Docker configuration of
        # their own, so they never replace the ECS engine's login.
        builds = CodeBuildEngine(
            runtime.owner,
            runtime.state_dir / "codebuild",
            runtime.state_dir / "codebuild-docker-config",
        )
        # Route 53 (global): health checks reach a load balancer where its name and port
        # are served; the DNS data plane answers its own address and health. A region
        # taken down (controls.py) closes its load balancers; Route 53 keeps running.
        health = Route53HealthChecks(elb_resolver(listeners.endpoint_of))
        names = Route53Dns(
            address_of=listeners.address_of,
            alias_healthy=listeners.alias_healthy,
            health_of=health.health_of,
        )
        controls.watch_regions(listeners.set_regions_down)
        started: list[Engine] = [tasks, listeners, alarms, deploys, builds, health, names]
        runtime.engines += started
        engines += started
    return engines
