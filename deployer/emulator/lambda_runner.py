"""Lambda's Python runtime, reduced to one invocation: runs inside a function's container.

The emulator (``patches/lambda_invoke.py``) mounts this file read-only as
``/var/runtime/bootstrap.py`` and runs ``python3 /var/runtime/bootstrap.py REQUEST_ID
TIMEOUT_S FUNCTION_ARN`` with the event on standard input. Like the runtime interface
client of AWS's Python runtimes (``awslambdaric/bootstrap.py``) it:

* imports the handler (``_HANDLER``, ``module.function``) from ``$LAMBDA_TASK_ROOT``
  (``/var/task``), answering the runtime's init errors by the same types and messages
  (``Runtime.MalformedHandlerName``, ``Runtime.ImportModuleError``,
  ``Runtime.UserCodeSyntaxError``, ``Runtime.HandlerNotFound``, else the exception's
  own type), with an empty ``requestId``;
* installs the root logging handler with the runtime's text format
  (``[LEVEL]\\tTIME\\tREQUEST_ID\\tMESSAGE``) and leaves the root level at WARNING;
* calls ``handler(event, context)`` with the parsed JSON event and a context object
  (``aws_request_id``, ``function_name``, ``function_version``, ``memory_limit_in_mb``,
  ``invoked_function_arn``, ``log_group_name``, ``log_stream_name``, ``identity``,
  ``client_context``, ``get_remaining_time_in_millis()``);
* answers a handler exception as ``{errorMessage, errorType, requestId, stackTrace}``
  (the runtime's frames left out of the trace), logged as ``[ERROR] Type: message``
  followed by the traceback in one log event (lines joined by ``\\r``, as the runtime's
  standard log sink writes them); a result that is not JSON-serialisable as
  ``Runtime.MarshalError``;
* stops the handler at the function's timeout (a timer signal; the emulator kills the
  container as a backstop).

The function's standard output and standard error are its log (the container's
standard error); the outcome goes out once, as one JSON line on the original standard
output: ``{"status": "ok"|"error"|"init_error"|"timeout", "payload"|"error": ...,
"durationMs", "initMs", "maxMemoryMb"}``. Standard library only: it runs on the image's
Python, not the emulator's.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import resource
import signal
import sys
import time
import traceback
from typing import Any

ERROR_LOG_LINE_TERMINATE = "\r"
ERROR_LOG_IDENT = "\u00a0"  # as the runtime: indentation of a logged trace
THIS_FILE = os.path.abspath(__file__)


class Fault(Exception):
    """An init error the runtime reports by a type of its own."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


class LambdaContext:
    """The context object of the Python runtime (``awslambdaric.lambda_context``)."""

    def __init__(self, request_id: str, deadline_ms: float, function_arn: str) -> None:
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = function_arn
        self.client_context = None
        self.identity = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(int(self._deadline_ms - time.time() * 1000), 0)

    def log(self, message: str) -> None:
        sys.stdout.write(message)

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"function_name={self.function_name},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


def load_handler(handler: str) -> Any:
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise Fault(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise Fault(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise Fault(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {exc}",
            trace,
        ) from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise Fault(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        ) from None


def make_error(
    message: str, error_type: str, trace: list[str], request_id: str = ""
) -> dict[str, Any]:
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id,
        "stackTrace": trace or [],
    }


def user_trace(tb: Any) -> list[str]:
    """The traceback from the first frame that is not this runner's (as the runtime)."""
    frames: list[traceback.FrameSummary] = list(traceback.extract_tb(tb))
    for index, frame in enumerate(frames):
        if os.path.abspath(frame.filename) != THIS_FILE:
            frames = frames[index:]
            break
    return traceback.format_list(frames)


def log_error(error: dict[str, Any]) -> None:
    """``[ERROR] Type: message`` and the trace, one log event (the runtime's text format)."""
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        description += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
    lines = [description, "Traceback (most recent call last):"]
    for element in error.get("stackTrace") or []:
        for line in str(element).splitlines():
            stripped = line.lstrip(" ")
            lines.append(ERROR_LOG_IDENT * (len(line) - len(stripped)) + stripped)
    sys.stdout.write(ERROR_LOG_LINE_TERMINATE.join(lines) + "\n")
    sys.stdout.flush()


class RequestIdFilter(logging.Filter):
    def __init__(self, request_id: str) -> None:
        super().__init__()
        self.request_id = request_id

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def setup_logging(request_id: str) -> None:
    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.addFilter(RequestIdFilter(request_id))
    logging.getLogger().addHandler(handler)


def max_memory_mb() -> int:
    return -(-resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)  # KiB, rounded up


def main(argv: list[str]) -> int:
    request_id, timeout_s, function_arn = argv[1], float(argv[2]), argv[3]
    out = os.dup(1)
    os.dup2(2, 1)  # what the function prints joins its log
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]

    def answer(outcome: dict[str, Any]) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        outcome["maxMemoryMb"] = max_memory_mb()
        os.write(out, (json.dumps(outcome) + "\n").encode())

    task_root = os.environ.get("LAMBDA_TASK_ROOT", "/var/task")
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    event_text = sys.stdin.buffer.read().decode() or "{}"
    setup_logging(request_id)

    init_start = time.monotonic()
    error: dict[str, Any] | None
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Fault as fault:
        error = make_error(fault.message, fault.error_type, fault.trace)
    except Exception as exc:
        error = make_error(str(exc), type(exc).__name__, user_trace(sys.exc_info()[2]))
    else:
        error = None
    init_ms = (time.monotonic() - init_start) * 1000
    if error is not None:
        log_error(error)
        answer({"status": "init_error", "error": error, "durationMs": 0.0, "initMs": init_ms})
        return 0

    started = time.monotonic()
    deadline_ms = time.time() * 1000 + timeout_s * 1000

    def timed_out(_signum: int, _frame: Any) -> None:
        answer({"status": "timeout", "durationMs": timeout_s * 1000, "initMs": init_ms})
        os._exit(0)

    signal.signal(signal.SIGALRM, timed_out)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    outcome: dict[str, Any]
    try:
        event = json.loads(event_text)
        context = LambdaContext(request_id, deadline_ms, function_arn)
        result = handler(event, context)
        try:
            payload = json.dumps(result)
        except (TypeError, ValueError) as exc:
            error = make_error(
                f"Unable to marshal response: {exc}", "Runtime.MarshalError", [], request_id
            )
            log_error(error)
            outcome = {"status": "error", "error": error}
        else:
            outcome = {"status": "ok", "payload": payload}
    except Exception as exc:
        error = make_error(str(exc), type(exc).__name__, user_trace(sys.exc_info()[2]), request_id)
        log_error(error)
        outcome = {"status": "error", "error": error}
    signal.setitimer(signal.ITIMER_REAL, 0)
    outcome.update(durationMs=(time.monotonic() - started) * 1000, initMs=init_ms)
    answer(outcome)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
