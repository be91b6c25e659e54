"""``deployer emulator``: the local AWS emulator's lifecycle."""

from __future__ import annotations

from deployer import errors
from deployer.cli.common import Commands, Context
from deployer.emulator import Emulator, EmulatorStatus
from deployer.emulator.scheduler import TIME_SCALE_ENV, parse_time_scale
from deployer.errors import UsageError


def register(commands: Commands) -> None:
    p = commands.add(
        "emulator",
        "Start, stop or inspect the local AWS emulator (moto server on loopback).",
        f"""\
        The emulator is started automatically by any command with a local target.
        State and resources live in its memory: stopping it forgets everything.
        AWS's background processes run on its clock, --time-scale times faster
        than real time (default ${TIME_SCALE_ENV} or 1); the scale is set at start.

        example:
          deployer emulator start --time-scale 60   # an emulated minute a second
          deployer emulator status --json
          deployer emulator stop
        """,
        cmd_emulator,
    )
    p.add_argument("action", choices=("start", "stop", "status"))
    p.add_argument(
        "--time-scale",
        type=parse_time_scale,
        default=None,
        metavar="SCALE",
        help="with start: emulated seconds a real second (1: real time; 60: a minute a second)",
    )


def cmd_emulator(ctx: Context) -> int:
    emulator = Emulator(ctx.project.state_dir)
    if ctx.args.time_scale is not None and ctx.args.action != "start":
        raise UsageError("--time-scale goes with start: the time scale is set when it starts")
    if ctx.args.action == "start":
        was = emulator.status()
        status = emulator.start(time_scale=ctx.args.time_scale)
        if not was.running:
            ctx.reporter.progress(f"emulator started on {status.endpoint}")
    elif ctx.args.action == "stop":
        was = emulator.status()
        status = emulator.stop()
        ctx.reporter.progress("emulator stopped" if was.running else "emulator was not running")
    else:
        status = emulator.status()
    if status.running:
        text = (
            f"running: yes\nendpoint: {status.endpoint}\npid: {status.pid}\n"
            f"moto: {status.moto_version}\npatches: {len(status.patches)}\n"
            f"time scale: {_time_scale(status)}\n"
            f"engines: {', '.join(status.engines) or 'none'}\n"
            f"started: {status.started_at}\nlog: {status.log}"
        )
    else:
        text = "running: no"
    ctx.reporter.result(status.to_json(), text)
    return errors.EXIT_OK


def _time_scale(status: EmulatorStatus) -> str:
    scale = status.time_scale
    if scale is None:
        return "none (stock moto, no clock)"
    if scale == 1:
        return "1 (real time)"
    return f"{scale:g} (an emulated minute every {60 / scale:.3g} s)"
