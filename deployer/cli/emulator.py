"""``deployer emulator``: the local AWS emulator's lifecycle."""

from __future__ import annotations

from deployer import errors
from deployer.cli.common import Commands, Context
from deployer.emulator import Emulator


def register(commands: Commands) -> None:
    p = commands.add(
        "emulator",
        "Start, stop or inspect the local AWS emulator (moto server on loopback).",
        """\
        The emulator is started automatically by any command with a local target.
        State and resources live in its memory: stopping it forgets everything.

        example:
          deployer emulator status --json
          deployer emulator stop
        """,
        cmd_emulator,
    )
    p.add_argument("action", choices=("start", "stop", "status"))


def cmd_emulator(ctx: Context) -> int:
    emulator = Emulator(ctx.project.state_dir)
    if ctx.args.action == "start":
        status = emulator.status()
        if not status.running:
            status = emulator.start()
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
            f"started: {status.started_at}\nlog: {status.log}"
        )
    else:
        text = "running: no"
    ctx.reporter.result(status.to_json(), text)
    return errors.EXIT_OK
