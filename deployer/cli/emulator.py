"""``deployer emulator``: the local AWS emulator's lifecycle."""

from __future__ import annotations

from typing import Any

from deployer import errors
from deployer.cli.common import Commands, Context
from deployer.emulator import ADDRESS_ENV, RUNTIME_ENV, Emulator, EmulatorStatus
from deployer.emulator.scheduler import TIME_SCALE_ENV, parse_time_scale
from deployer.errors import UsageError


def register(commands: Commands) -> None:
    p = commands.add(
        "emulator",
        "Start, stop or inspect the local AWS emulator (moto server on loopback), "
        "or take a region down.",
        f"""\
        The emulator is started automatically by any command with a local target.
        State and resources live in its memory: stopping it forgets everything.
        AWS's background processes run on its clock, --time-scale times faster
        than real time (default ${TIME_SCALE_ENV} or 1); the scale is set at start.

        Its local runtime serves ECR's registry: after
          aws ecr get-login-password | docker login -u AWS --password-stdin HOST
        docker push and pull by a repository's repositoryUri reach it (the
        registry listens on 127.0.0.1:80, or 127.77.0.N:80 when that is taken,
        ${ADDRESS_ENV} to choose, and the
        emulator adds each registry's host name to /etc/hosts: both need root).
        status shows the registry (or why it is down), the Docker engine and the
        containers the runtime owns; stop removes every container, network,
        volume, hosts entry and image it stored. --no-runtime (or
        ${RUNTIME_ENV}=0) starts the AWS APIs alone. The engines that need
        containers run with the runtime, its registry up: ECS tasks, load
        balancers and their health checks, CloudWatch alarms, CodeDeploy's
        deployments; without the runtime those stay as moto leaves them (targets
        reported healthy, deployments InProgress). Each load balancer also answers
        on an address of its own (127.100.0.N, on its listeners' ports; port 80
        and 443 need root), which Route 53's DNS server, on the port status
        shows (dns 127.0.0.1:PORT), answers for its name:
          dig @127.0.0.1 -p PORT api-service.example.com

        region down REGION takes a region down for a game day: its APIs answer
        HTTP 503 (ServiceUnavailable), its load balancers refuse connections;
        region up REGION brings it back (the same load balancer URLs answer).
        Global services (IAM, Route 53's API) are signed for us-east-1 and go
        down with it; Route 53's DNS and health checks keep running.

        example:
          deployer emulator start --time-scale 60   # an emulated minute a second
          deployer emulator status --json
          deployer emulator region down us-east-1
          deployer emulator region up us-east-1
          deployer emulator stop

        ca prints the certificate authority that signs the certificates the
        emulator's ACM issues (made in the state folder on first use; --out FILE
        writes it there), for clients to trust its HTTPS listeners:
          deployer emulator ca --out emulator-ca.pem
          curl --cacert emulator-ca.pem https://api-service.example.com/
        """,
        cmd_emulator,
    )
    p.add_argument("action", choices=("start", "stop", "status", "region", "ca"))
    p.add_argument("change", nargs="?", choices=("down", "up"), help="with region: down or up")
    p.add_argument("region", nargs="?", help="with region: the region, such as us-east-1")
    p.add_argument(
        "--time-scale",
        type=parse_time_scale,
        default=None,
        metavar="SCALE",
        help="with start: emulated seconds a real second (1: real time; 60: a minute a second)",
    )
    p.add_argument(
        "--no-runtime",
        action="store_true",
        help="with start: the AWS APIs only, without the registry and its hosts entries",
    )
    p.add_argument("--out", metavar="FILE", help="with ca: write the CA's certificate (PEM) here")


def cmd_emulator(ctx: Context) -> int:
    from deployer.emulator import runtime

    emulator = Emulator(ctx.project.state_dir)
    if ctx.args.time_scale is not None and ctx.args.action != "start":
        raise UsageError("--time-scale goes with start: the time scale is set when it starts")
    if ctx.args.no_runtime and ctx.args.action != "start":
        raise UsageError("--no-runtime goes with start: the runtime is set when it starts")
    if ctx.args.action == "ca" or ctx.args.out is not None:
        return _ca(ctx)
    if ctx.args.action == "region":
        return _region(ctx, emulator)
    if ctx.args.change is not None:
        raise UsageError(
            f"{ctx.args.change} goes with region: deployer emulator region down REGION"
        )
    if ctx.args.action == "start":
        was = emulator.status()
        status = emulator.start(
            time_scale=ctx.args.time_scale, runtime=False if ctx.args.no_runtime else None
        )
        if not was.running:
            ctx.reporter.progress(f"emulator started on {status.endpoint}")
    elif ctx.args.action == "stop":
        was = emulator.status()
        status = emulator.stop()
        ctx.reporter.progress("emulator stopped" if was.running else "emulator was not running")
    else:
        status = emulator.status()
    document = status.to_json()
    if status.running:
        text = (
            f"running: yes\nendpoint: {status.endpoint}\npid: {status.pid}\n"
            f"moto: {status.moto_version}\npatches: {len(status.patches)}\n"
            f"time scale: {_time_scale(status)}\n"
            f"engines: {', '.join(status.engines) or 'none'}\n"
            f"started: {status.started_at}\nlog: {status.log}"
        )
        if ctx.args.action == "status":
            from deployer.emulator import controls

            served = controls.post(str(status.endpoint), "runtime", None).get("runtime")
            document["runtime"] = described = runtime.describe(served)
            down = controls.post(str(status.endpoint), "regions", None)["regions_down"]
            document["regions_down"] = down
            text += f"\nregions down: {', '.join(down) or 'none'}"
            text += "\n" + _runtime_text(described)
    else:
        text = "running: no"
    ctx.reporter.result(document, text)
    return errors.EXIT_OK


def _region(ctx: Context, emulator: Emulator) -> int:
    """``region down|up REGION``: the emulator's region control."""
    from deployer.emulator import controls

    change, region = ctx.args.change, ctx.args.region
    if change is None or region is None:
        raise UsageError("usage: deployer emulator region down|up REGION")
    status = emulator.status()
    if not status.running:
        raise errors.EmulatorError(
            "the emulator is not running", hint="deployer emulator start, then retry"
        )
    answer = controls.post(str(status.endpoint), f"regions/{change}", {"region": region})
    down = list(answer["regions_down"])
    text = (
        f"{region}: {'down' if region in down else 'up'}\nregions down: {', '.join(down) or 'none'}"
    )
    ctx.reporter.result({"region": region, "down": region in down, "regions_down": down}, text)
    return errors.EXIT_OK


def _ca(ctx: Context) -> int:
    """``ca [--out FILE]``: the CA the emulator's ACM signs with, as PEM."""
    from pathlib import Path

    from deployer.emulator.patches import acm_private_ca as acm

    if ctx.args.action != "ca":
        raise UsageError("--out goes with ca: deployer emulator ca --out FILE")
    state = ctx.project.state_dir
    pem = acm.ca_certificate_pem(state)
    if ctx.args.out:
        Path(ctx.args.out).write_bytes(pem)
        ctx.reporter.progress(f"wrote the emulator's CA certificate to {ctx.args.out}")
    path = acm.ca_folder(state) / acm.CA_CERTIFICATE
    document = {"certificate": pem.decode(), "path": str(path), "out": ctx.args.out}
    ctx.reporter.result(document, "" if ctx.args.out else pem.decode())
    return errors.EXIT_OK


def _runtime_text(described: dict[str, Any]) -> str:
    engine = described["docker"]
    docker = (
        f"up (server {engine['server']})"
        if engine["up"]
        else f"down: {engine['reason']} (bin/docker-engine starts one as root)"
    )
    if not described["enabled"]:
        return f"runtime: off (started with --no-runtime)\ndocker: {docker}"
    registry = described["registry"]
    state = f"up on {registry['address']}" if registry["up"] else f"down: {registry['reason']}"
    names = ", ".join(described["names"]) or "none yet"
    lines = [
        "runtime: on",
        f"registry: {state}",
        f"registry names ({described['hosts_entries']} in {described['hosts_file']}): {names}",
        f"docker: {docker}",
        f"containers ({described['label']}): {len(described['containers'])}",
        *_task_lines(described.get("ecs-tasks")),
        *_dns_lines(described.get("route53-dns")),
        f"networks: {len(described['networks'])}, volumes: {len(described['volumes'])}",
    ]
    return "\n".join(lines)


def _task_lines(engine: dict[str, Any] | None) -> list[str]:
    """The ECS tasks the runtime runs, each with its loopback ports."""
    if not engine:
        return []
    lines = [f"ecs tasks: {len(engine['tasks'])} running"]
    for arn, ports in sorted(engine["tasks"].items()):
        mapped = ", ".join(f"{port} -> {address}" for port, address in sorted(ports.items()))
        lines.append(f"  {arn}: {mapped or 'no ports'}")
    return lines


def _dns_lines(engine: dict[str, Any] | None) -> list[str]:
    """Route 53's DNS server, where ``dig @ADDRESS -p PORT`` asks it."""
    if not engine or not engine.get("port"):
        return []
    return [f"dns {engine['address']}:{engine['port']}"]


def _time_scale(status: EmulatorStatus) -> str:
    scale = status.time_scale
    if scale is None:
        return "none (stock moto, no clock)"
    if scale == 1:
        return "1 (real time)"
    return f"{scale:g} (an emulated minute every {60 / scale:.3g} s)"
