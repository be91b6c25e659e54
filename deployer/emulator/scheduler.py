"""The emulator's clock: AWS's background processes, run on an emulated time scale.

On AWS much happens without a call: ECS starts and replaces tasks, a load
balancer checks its targets, CloudWatch evaluates alarms every period, CodeDeploy
shifts traffic step by step and waits before it terminates the original tasks,
CodeBuild runs builds and CodePipeline moves executions from stage to stage.
The emulator plays these parts with *engines*: objects with a ``name`` that
``start(scheduler)`` by registering timed jobs on the one :class:`Scheduler` of
the emulator process and answer ``status()`` with a small JSON-able dict.

Time is emulated. The scheduler's clock starts at real time when the scheduler
starts and runs ``time_scale`` times faster (1: real time; 60: one emulated
minute a real second), so the minute-granularity waits of AWS (alarm periods,
termination waits, linear traffic steps) pass in seconds. Every delay and
interval given to the scheduler is in emulated seconds, and ``now()`` is the
emulated epoch time an engine writes into the timestamps AWS would set.

The backend lock. moto's backends are plain dictionaries and lists, not
thread-safe, and the emulator serves each request on its own thread. One
process-wide re-entrant lock, :data:`BACKEND_LOCK`, guards them:

* every request (AWS APIs, ``/moto-api/`` and the emulator controls) is handled
  while holding it: :func:`serialised` wraps the emulator's WSGI application,
  outermost. The request body is read before the lock is taken and the response
  is sent after it is released, so a slow client never holds it;
* an engine touches a backend only inside ``with BACKEND_LOCK:``, and only
  briefly: it reads what it needs, lets go, does its slow part (running a
  container, an HTTP health check, any network or disk I/O, any sleep, and
  above all a call to the emulator's own API, which would wait for the lock
  forever) outside the lock, then takes it again to write the outcome,
  re-reading what may have changed in between (a deployment stopped, a task
  deregistered);
* jobs are not run under the lock: the scheduler does not know which of their
  parts are I/O;
* a request that waits inside moto for another request lets go of it while it
  waits (:func:`release_during_waits`: SQS long polls), and so does Lambda's
  ``Invoke`` while the function's container runs (``patches/lambda_invoke.py``;
  a caller that does not hold the lock, such as EventBridge's delivery thread,
  gets it taken briefly around moto's backends). SNS deliveries to HTTP
  endpoints (no timeout) are not released and would stall the emulator; the
  project uses none.

Left out: nothing persists across a restart (no job, no clock; the backends
themselves are in memory), there is one clock a process and its time scale is
fixed at start (no pausing, no skipping ahead, no per-engine clocks), a job
that overruns delays the jobs after it (one thread runs them all, so a job must
not block on I/O for long: hand that to a thread of its own), and a periodic job
that falls behind skips the runs it missed instead of running them back to back.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import io
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from deployer.emulator.controls import WSGIApp

#: Where the emulator takes its time scale from when ``--time-scale`` is not given.
TIME_SCALE_ENV = "DEPLOYER_EMULATOR_TIME_SCALE"

#: The lock on moto's backend state; see the module docstring for who takes it when.
BACKEND_LOCK = threading.RLock()

#: How long ``Scheduler.stop`` waits for a running job to return.
STOP_TIMEOUT = 5.0

log = logging.getLogger(__name__)


def parse_time_scale(text: str) -> float:
    """Parse a time scale (an argparse ``type``): a finite number greater than 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(
            f"the time scale must be a number greater than 0 (1 is real time, 60 is one "
            f"emulated minute a second), not {text!r} (from --time-scale or ${TIME_SCALE_ENV})"
        )
    return value


def serialised(app: WSGIApp) -> WSGIApp:
    """``app`` handling each request while holding the backend lock.

    The request body is read into memory before the lock is taken and the
    response body is collected before it is released (moto builds its responses
    whole anyway), so the socket I/O of a slow client happens outside the lock.
    """

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        _buffer_request_body(environ)
        with BACKEND_LOCK:
            result = app(environ, start_response)
            try:
                return list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

    return application


@contextlib.contextmanager
def released(lock: Any = BACKEND_LOCK) -> Iterator[None]:
    """The backend lock (or another re-entrant ``lock``: the tests give theirs) released,
    however deep this thread holds it, then taken back.

    For a request that waits inside moto for another request to change a backend
    (an SQS long poll waits for a SendMessage): held, the lock would stop that
    request, and every other, for the whole wait.
    """
    # RLock's Condition protocol: _is_owned, _release_save, _acquire_restore
    if not lock._is_owned():
        yield
        return
    state = lock._release_save()
    try:
        yield
    finally:
        lock._acquire_restore(state)


def release_during_waits() -> None:
    """Release the backend lock while moto waits within a request (SQS long polls).

    ``ReceiveMessage`` with ``WaitTimeSeconds`` calls ``Queue.wait_for_messages``
    in a loop until a message arrives or the wait ends; ``SendMessage`` notifies the
    queue's condition under its own lock, so the wait may run without ours.
    """
    from moto.sqs.models import Queue

    wait = Queue.wait_for_messages
    if getattr(wait, "_releases_backend_lock", False):
        return

    def wait_for_messages(self: Any, timeout: int) -> None:
        with released():
            wait(self, timeout)

    wait_for_messages._releases_backend_lock = True  # type: ignore[attr-defined]
    Queue.wait_for_messages = wait_for_messages  # type: ignore[method-assign]


def _buffer_request_body(environ: dict[str, Any]) -> None:
    stream = environ.get("wsgi.input")
    if stream is None:
        return
    if environ.get("wsgi.input_terminated"):  # chunked: read to the end
        body = stream.read()
    else:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return  # moto answers the malformed header itself
        body = stream.read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)


class Engine(Protocol):
    """One of AWS's background processes, played in the emulator."""

    name: str

    def start(self, scheduler: Scheduler) -> None:
        """Register the engine's jobs; called once, when the scheduler runs."""

    def status(self) -> dict[str, Any]:
        """What the engine is doing, as a small JSON-able dict."""


class Job:
    """A scheduled call; ``cancel()`` stops it (and, for ``every``, its repeats)."""

    def __init__(
        self, name: str, fn: Callable[[], object], when: float, interval: float | None
    ) -> None:
        self.name = name
        self.fn = fn
        self.when = when
        self.interval = interval
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def __repr__(self) -> str:
        every = f" every {self.interval:g}s" if self.interval else ""
        return f"<Job {self.name!r} at {self.when:.3f}{every}>"


class Scheduler:
    """One daemon thread running timed jobs in emulated time, earliest first."""

    def __init__(self, time_scale: float = 1.0) -> None:
        if not (math.isfinite(time_scale) and time_scale > 0):
            raise ValueError(f"the time scale must be greater than 0, not {time_scale!r}")
        self.time_scale = time_scale
        self._origin_real = time.time()
        self._origin_mono = time.monotonic()
        self._queue: list[tuple[float, int, Job]] = []
        self._order = itertools.count()
        self._wake = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._engines: list[Engine] = []

    # -- clock ----------------------------------------------------------------
    def now(self) -> float:
        """Emulated epoch seconds."""
        return self._origin_real + (time.monotonic() - self._origin_mono) * self.time_scale

    # -- jobs -------------------------------------------------------------------
    def call_at(self, when: float, fn: Callable[[], object], *, name: str) -> Job:
        """Run ``fn`` once at emulated time ``when`` (at once if that has passed)."""
        return self._push(Job(name, fn, when, None))

    def call_later(self, delay: float, fn: Callable[[], object], *, name: str) -> Job:
        """Run ``fn`` once, ``delay`` emulated seconds from now."""
        return self.call_at(self.now() + max(0.0, delay), fn, name=name)

    def every(self, interval: float, fn: Callable[[], object], *, name: str) -> Job:
        """Run ``fn`` every ``interval`` emulated seconds, the first time one interval
        from now, until the job is cancelled. A run that fails or overruns does not
        shift the cadence; runs missed while one overran are skipped."""
        if not (math.isfinite(interval) and interval > 0):
            raise ValueError(f"{name}: the interval must be greater than 0, not {interval!r}")
        return self._push(Job(name, fn, self.now() + interval, interval))

    def _push(self, job: Job) -> Job:
        with self._wake:
            if self._stopping:
                job.cancel()  # a stopped scheduler runs nothing more
            else:
                heapq.heappush(self._queue, (job.when, next(self._order), job))
                self._wake.notify()
        return job

    # -- engines ------------------------------------------------------------------
    def register(self, engine: Engine) -> None:
        """Add an engine; it starts with the scheduler (at once if that runs)."""
        self._engines.append(engine)
        if self._thread is not None:
            engine.start(self)

    @property
    def engines(self) -> list[Engine]:
        return list(self._engines)

    @property
    def running(self) -> bool:
        """Started and not stopped."""
        return self._thread is not None and not self._stopping

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        """Start the clock (at real time), the thread, then the registered engines."""
        if self._thread is not None:
            raise RuntimeError("a scheduler starts once")
        self._origin_real, self._origin_mono = time.time(), time.monotonic()
        self._thread = threading.Thread(target=self._run, name="emulator-scheduler", daemon=True)
        self._thread.start()
        for engine in self._engines:
            engine.start(self)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """End the thread: pending jobs are cancelled, a running job is waited for."""
        with self._wake:
            self._stopping = True
            for _when, _order, job in self._queue:
                job.cancel()
            self._queue.clear()
            self._wake.notify_all()
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return
        thread.join(timeout)
        if thread.is_alive():
            log.error("scheduler: a job did not return within %.0fs of stop", timeout)

    def _run(self) -> None:
        while True:
            job = self._next_due()
            if job is None:
                return
            try:
                job.fn()
            except Exception:
                log.exception("scheduler: job %r failed", job.name)
            if job.interval is not None and not job.cancelled:
                job.when = self._next_tick(job.when, job.interval)
                self._push(job)

    def _next_due(self) -> Job | None:
        """Wait for the earliest job that is due; None once stopping."""
        with self._wake:
            while not self._stopping:
                if not self._queue:
                    self._wake.wait()
                    continue
                when, _, job = self._queue[0]
                if job.cancelled:
                    heapq.heappop(self._queue)
                    continue
                wait = (when - self.now()) / self.time_scale
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                heapq.heappop(self._queue)
                return job
            return None

    def _next_tick(self, last: float, interval: float) -> float:
        now = self.now()
        following = last + interval
        if following > now:
            return following
        return last + interval * (math.floor((now - last) / interval) + 1)
