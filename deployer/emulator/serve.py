"""Emulator process entry point: apply the fidelity patches, then serve moto.

Run as ``python -m deployer.emulator.serve --host 127.0.0.1 --port 0``. With
port 0 the operating system picks a free port; the bound port is announced on
stdout as one JSON line (``{"port": N, "pid": N, "patches": [...], "controls":
[...], "time_scale": N, "engines": [...]}``) once the socket is listening, so
there is no window in which another process can take the port between choosing
and binding it.

Besides the fidelity patches, the emulator serves its controls
(``/_deployer/...``, see ``controls.py``): endpoints that are not AWS APIs and
report on the emulator itself (its runtime). ``--no-patches`` serves neither.

With the patches, the emulator also runs its clock (``scheduler.py``): the
engines that play AWS's background processes, on an emulated time scale
(``--time-scale``, default ``$DEPLOYER_EMULATOR_TIME_SCALE`` or 1), and the
backend lock that every request is handled under. The announcement adds
``"time_scale"`` and ``"engines"`` (their names). ``--no-patches`` serves moto
as released, with neither: ``"time_scale": null, "engines": []``.

With the patches and unless ``--no-runtime``, the emulator also runs its local
runtime (``runtime.py``: ECR's registry on 127.0.0.1:80 and the hosts entries
for its names); the announcement adds ``"runtime"``: ``{"registry": address or
null, "registry_down": reason or null}``, or null without one.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from typing import Any

from deployer.emulator import scheduler

#: Write buffer of the emulator's HTTP handler: a response up to this size goes
#: out in one write (see ``RequestHandler`` in ``main``).
RESPONSE_BUFFER_BYTES = 256 * 1024


def request_handler() -> type:
    """moto's request handler, sending each response with one write.

    Unbuffered, werkzeug sends the status line and headers, then the body, as
    separate writes. Under load the AWS SDK for Go (in the Terraform provider)
    now and then closed the connection after the headers, before the body
    arrived, and retried the call: a create retried after it had taken effect
    fails (InvalidPermission.Duplicate, RouteAlreadyExists, FlowLogAlreadyExists).
    Seen in packet captures on the loopback interface; with one write per
    response the retries stopped. The bytes on the wire are the same, only
    their segmentation changes.
    """
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class RequestHandler(MotoRequestHandler):
        wbufsize = RESPONSE_BUFFER_BYTES

        def run_wsgi(self) -> None:
            # werkzeug writes the interim "100 Continue" without a flush, and the buffer
            # above held it back: every upload with `Expect: 100-continue` (botocore's
            # PutObject, UploadPart) waited out urllib3's 1 s for it. Sent at once here,
            # and the header dropped so that werkzeug does not send it a second time.
            if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                self.wfile.flush()
                del self.headers["Expect"]
            super().run_wsgi()

    return RequestHandler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deployer.emulator.serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--no-patches",
        action="store_true",
        help="serve stock moto, without patches or emulator controls "
        "(used by the tests that prove each patch is needed)",
    )
    parser.add_argument(
        "--ready-file",
        default=None,
        help="also write the ready announcement to this file (atomically)",
    )
    parser.add_argument(
        "--log-requests",
        action="store_true",
        help="log every request (werkzeug access log) to stderr",
    )
    parser.add_argument(
        "--only-patches",
        default=None,
        help="comma-separated patch names to apply (default: all)",
    )
    parser.add_argument(
        "--time-scale",
        type=scheduler.parse_time_scale,
        default=os.environ.get(scheduler.TIME_SCALE_ENV, "1"),
        help="emulated seconds a real second for AWS's background processes "
        f"(1: real time; 60: a minute a second; default ${scheduler.TIME_SCALE_ENV} or 1; "
        "ignored with --no-patches)",
    )
    parser.add_argument(
        "--no-runtime",
        action="store_true",
        help="serve the AWS APIs only: no registry, no hosts entries (also when "
        "$DEPLOYER_EMULATOR_RUNTIME is 0; ignored with --no-patches)",
    )
    parser.add_argument(
        "--state-dir",
        default=None,
        help="the emulator's state folder (the registry's storage goes under it; "
        "default: the ready file's folder)",
    )
    args = parser.parse_args(argv)

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the emulator binds to loopback only")

    from deployer.emulator import patches

    applied: list[str] = []
    if not args.no_patches:
        only = args.only_patches.split(",") if args.only_patches else None
        applied = patches.apply_all(only)

    import logging

    from werkzeug.serving import make_server

    if not args.log_requests:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # The engines' and patches' state changes (a task stopped and why, an alarm's
    # transition, a function's retry) go to the emulator's log, a line each.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    ours = logging.getLogger("deployer.emulator")
    ours.setLevel(logging.INFO)
    ours.addHandler(handler)
    ours.propagate = False

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app: Any = DomainDispatcherApplication(create_backend_app)
    controls: list[str] = []
    if not args.no_patches:
        # Emulator controls (/_deployer/...): not AWS APIs, see controls.py.
        from deployer.emulator import controls as emulator_controls

        app = emulator_controls.wrap(app)
        controls = emulator_controls.names()
        # Outermost: the controls too are served under the backend lock.
        app = scheduler.serialised(app)
        scheduler.release_during_waits()
    server = make_server(
        args.host,
        args.port,
        app,
        threaded=True,
        request_handler=request_handler(),
    )
    port = server.server_port
    # moto builds some URLs (for example SQS queue URLs) from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)

    def _stop(_signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)

    clock: scheduler.Scheduler | None = None
    local: Any = None
    if not args.no_patches:
        from pathlib import Path

        from deployer.emulator import engines, runtime

        clock = scheduler.Scheduler(args.time_scale)
        state = args.state_dir or (os.path.dirname(args.ready_file) if args.ready_file else ".")
        if "acm_private_ca" in applied:  # the CA ACM signs with, kept in the state folder
            from deployer.emulator.patches import acm_private_ca

            acm_private_ca.configure(Path(state))
        if runtime.wanted(False if args.no_runtime else None):
            local = runtime.Runtime(runtime.runtime_dir(Path(state)), now=clock.now)
            local.start()
        for engine in engines.create(local):
            clock.register(engine)
        clock.start()
        if "lambda_invoke" in applied:  # Invoke runs functions in the runtime's containers
            from deployer.emulator.patches import lambda_invoke

            lambda_invoke.configure(port=port, owner=local.owner if local else None, clock=clock)

    announcement = json.dumps(
        {
            "port": port,
            "pid": os.getpid(),
            "patches": applied,
            "controls": controls,
            "time_scale": clock.time_scale if clock else None,
            "engines": [engine.name for engine in clock.engines] if clock else [],
            "runtime": local.announcement() if local else None,
        }
    )
    if args.ready_file:
        from pathlib import Path

        from deployer.atomic import write_atomically

        write_atomically(Path(args.ready_file), (announcement + "\n").encode())
    sys.stdout.write(announcement + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except SystemExit:
        pass
    finally:
        if clock is not None:
            clock.stop()
        if local is not None:
            local.stop()  # after the clock: no engine round starts a container any more
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
