"""The emulator's clock (scheduler.py): timed jobs in emulated time, and the backend lock."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from deployer import cli
from deployer.emulator import Emulator, serve
from deployer.emulator.scheduler import (
    BACKEND_LOCK,
    TIME_SCALE_ENV,
    Job,
    Scheduler,
    serialised,
)
from deployer.errors import EmulatorError

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def start() -> Iterator[Callable[[float], Scheduler]]:
    """A started scheduler at a time scale; stopped after the test whatever happens."""
    started: list[Scheduler] = []

    def factory(scale: float) -> Scheduler:
        scheduler = Scheduler(scale)
        scheduler.start()
        started.append(scheduler)
        return scheduler

    yield factory
    for scheduler in started:
        scheduler.stop()


def scheduler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "emulator-scheduler"]


def test_jobs_run_in_emulated_time_order(start: Callable[[float], Scheduler]) -> None:
    clock = start(100)
    ran: list[str] = []
    done = threading.Event()

    def last() -> None:
        ran.append("c")
        done.set()

    # Registered out of order; due at 10, 20 and 30 emulated seconds.
    clock.call_later(30, last, name="c")
    clock.call_later(10, lambda: ran.append("a"), name="a")
    clock.call_at(clock.now() + 20, lambda: ran.append("b"), name="b")
    assert done.wait(2)
    assert ran == ["a", "b", "c"]


def test_a_delay_is_in_emulated_seconds(start: Callable[[float], Scheduler]) -> None:
    before = time.time()
    clock = start(100)
    after = time.time()
    # The clock starts at real time (between before and after) and runs 100 times
    # faster: bounds that hold however long the machine takes between the calls.
    now, real = clock.now(), time.time()
    assert before <= now <= after + 100 * (real - before) + 0.01
    fired: list[tuple[float, float]] = []
    done = threading.Event()

    def job() -> None:
        fired.append((time.monotonic(), clock.now()))
        done.set()

    began, due = time.monotonic(), clock.now() + 10
    clock.call_later(10, job, name="ten emulated seconds")
    assert done.wait(2)
    real, emulated = fired[0]
    assert 0.09 <= real - began < 1.5  # 10 s emulated at scale 100: 0.1 s real (+ load)
    assert emulated >= due
    # now() advances 100 emulated seconds a real second.
    a_real, a_emulated = time.monotonic(), clock.now()
    time.sleep(0.1)
    advanced = (clock.now() - a_emulated) / (time.monotonic() - a_real)
    assert 95 < advanced < 105


def test_at_scale_1_the_clock_is_real_time(start: Callable[[float], Scheduler]) -> None:
    clock = start(1)
    done = threading.Event()
    fired: list[float] = []
    began = time.monotonic()
    clock.call_later(0.3, lambda: (fired.append(time.monotonic()), done.set()), name="real")
    assert done.wait(2)
    assert 0.3 <= fired[0] - began < 1.0


def test_a_job_due_in_the_past_runs_at_once(start: Callable[[float], Scheduler]) -> None:
    clock = start(1)
    done = threading.Event()
    began = time.monotonic()
    clock.call_at(clock.now() - 3600, done.set, name="overdue")
    assert done.wait(1)
    assert time.monotonic() - began < 0.5


def test_every_keeps_its_cadence_until_cancelled(start: Callable[[float], Scheduler]) -> None:
    clock = start(10)
    whens: list[float] = []
    runs: list[float] = []
    handle: list[Job] = []
    enough = threading.Event()

    def tick() -> None:
        whens.append(handle[0].when)
        runs.append(clock.now())
        time.sleep(0.03)  # 0.3 emulated seconds of work must not push the next run back
        if len(runs) == 4:
            enough.set()

    handle.append(clock.every(1, tick, name="tick"))
    assert enough.wait(2)
    handle[0].cancel()
    assert whens == pytest.approx([whens[0] + n for n in range(4)], abs=1e-6)
    # Each run starts on its tick, not a tick plus the previous run's work.
    assert runs[3] - runs[0] < 3 + 0.9
    count = len(runs)
    time.sleep(0.3)  # three intervals
    assert len(runs) <= count + 1  # at most the run that was under way when cancelled
    assert handle[0].cancelled


def test_every_skips_the_runs_an_overrun_missed(start: Callable[[float], Scheduler]) -> None:
    clock = start(10)
    whens: list[float] = []
    handle: list[Job] = []
    twice = threading.Event()

    def slow() -> None:
        whens.append(handle[0].when)
        if len(whens) == 1:
            time.sleep(0.35)  # 3.5 intervals
        else:
            twice.set()

    handle.append(clock.every(1, slow, name="slow"))
    assert twice.wait(2)
    handle[0].cancel()
    # The next run is on the first tick after the overrun (+4), not the three missed ones.
    assert whens[1] - whens[0] == pytest.approx(4)


def test_a_failing_job_is_logged_and_the_loop_goes_on(
    start: Callable[[float], Scheduler], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="deployer.emulator.scheduler")
    clock = start(100)
    failures: list[int] = []
    after = threading.Event()

    def boom() -> None:
        failures.append(1)
        raise RuntimeError("the backend was not there")

    def keeps_failing() -> None:
        failures.append(2)
        raise KeyError("gone")

    clock.call_later(0, boom, name="alarm-evaluation")
    clock.every(1, keeps_failing, name="health-checks")
    clock.call_later(10, after.set, name="after")
    assert after.wait(2)
    assert failures.count(1) == 1
    assert failures.count(2) >= 3  # a failing periodic job keeps running
    messages = [r.getMessage() for r in caplog.records]
    assert "scheduler: job 'alarm-evaluation' failed" in messages
    assert "scheduler: job 'health-checks' failed" in messages
    failed = next(r for r in caplog.records if "alarm-evaluation" in r.getMessage())
    assert failed.exc_info is not None
    assert "the backend was not there" in str(failed.exc_info[1])


def test_stop_ends_the_thread_promptly_and_cancels_what_is_pending() -> None:
    before = len(scheduler_threads())
    clock = Scheduler(1)
    clock.start()
    assert len(scheduler_threads()) == before + 1
    ran: list[int] = []
    pending = clock.call_later(3600, lambda: ran.append(1), name="in an hour")
    periodic = clock.every(0.05, lambda: ran.append(2), name="often")
    time.sleep(0.2)
    began = time.monotonic()
    clock.stop()
    assert time.monotonic() - began < 0.5
    assert len(scheduler_threads()) == before
    assert pending.cancelled and periodic.cancelled
    count = len(ran)
    time.sleep(0.15)
    assert len(ran) == count
    # A stopped scheduler takes no more work.
    assert clock.call_later(0, lambda: ran.append(3), name="late").cancelled


def test_engines_start_with_the_scheduler(start: Callable[[float], Scheduler]) -> None:
    class Ticker:
        name = "ticker"

        def __init__(self) -> None:
            self.ticks = 0
            self.started = threading.Event()

        def start(self, scheduler: Scheduler) -> None:
            scheduler.every(1, self.tick, name=self.name)

        def tick(self) -> None:
            self.ticks += 1
            self.started.set()

        def status(self) -> dict[str, Any]:
            return {"ticks": self.ticks}

    clock = Scheduler(100)
    engine = Ticker()
    clock.register(engine)
    assert not engine.started.wait(0.05)  # nothing runs before the scheduler starts
    clock.start()
    try:
        assert engine.started.wait(1)
        assert [e.name for e in clock.engines] == ["ticker"]
        assert clock.engines[0].status()["ticks"] >= 1
    finally:
        clock.stop()


def test_the_scale_must_be_greater_than_zero() -> None:
    for scale in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="greater than 0"):
            Scheduler(scale)
    with pytest.raises(ValueError, match="interval"):
        Scheduler(1).every(0, lambda: None, name="never")


# -- the backend lock ---------------------------------------------------------------------------
def call(app: Any, body: bytes = b"", stream: Any = None) -> tuple[str, bytes]:
    """Call a WSGI app as werkzeug does; returns the status and the body."""
    seen: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": stream or io.BytesIO(body),
    }
    result = app(environ, lambda status, _headers: seen.append(status))
    return seen[0], b"".join(result)


def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """A tiny WSGI app standing in for moto: echoes the body and the time it ran."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body, b" at ", str(time.monotonic()).encode()]


def test_a_request_waits_while_a_job_holds_the_backend_lock(
    start: Callable[[float], Scheduler],
) -> None:
    clock = start(1)
    holding, released = threading.Event(), []

    def engine_step() -> None:
        with BACKEND_LOCK:
            holding.set()
            time.sleep(0.3)
            released.append(time.monotonic())

    clock.call_later(0, engine_step, name="engine step")
    assert holding.wait(1)
    status, body = call(serialised(echo), b"DescribeTargetHealth")
    assert status == "200 OK"
    payload, _, ran_at = body.partition(b" at ")
    assert payload == b"DescribeTargetHealth"
    assert released, "the request ran before the job let go of the lock"
    assert float(ran_at) >= released[0]


def test_a_job_waits_while_a_request_holds_the_backend_lock(
    start: Callable[[float], Scheduler],
) -> None:
    clock = start(1)
    in_request = threading.Event()
    job_ran: list[float] = []
    finished: list[float] = []

    def slow_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        in_request.set()
        time.sleep(0.3)
        finished.append(time.monotonic())
        start_response("200 OK", [])
        return [b"ok"]

    def job() -> None:
        with BACKEND_LOCK:
            job_ran.append(time.monotonic())

    request = threading.Thread(target=call, args=(serialised(slow_app),))
    request.start()
    assert in_request.wait(1)
    clock.call_later(0, job, name="engine step")
    request.join(2)
    deadline = time.monotonic() + 1
    while not job_ran and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job_ran and finished
    assert job_ran[0] >= finished[0]


def test_the_request_body_is_read_before_the_lock_is_taken() -> None:
    """A slow client sending its body does not hold every other request up."""
    read_while_locked_elsewhere: list[bool] = []
    holding, done = threading.Event(), threading.Event()

    class SlowClient(io.BytesIO):
        def read(self, size: int | None = -1, /) -> bytes:
            read_while_locked_elsewhere.append(holding.is_set() and not done.is_set())
            return super().read(size)

    def other_thread() -> None:
        with BACKEND_LOCK:
            holding.set()
            time.sleep(0.2)
            done.set()

    holder = threading.Thread(target=other_thread)
    holder.start()
    assert holding.wait(1)
    _status, body = call(serialised(echo), b"x" * 10, SlowClient(b"x" * 10))
    holder.join(2)
    assert body.startswith(b"xxxxxxxxxx at ")
    assert read_while_locked_elsewhere and all(read_while_locked_elsewhere)


# -- the emulator process ------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["0", "-2", "fast", "inf"])
def test_serve_refuses_a_time_scale_that_is_not_positive(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        serve.main(["--time-scale", value])
    assert info.value.code == 2
    assert "the time scale must be a number greater than 0" in capsys.readouterr().err


def test_serve_takes_the_time_scale_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(TIME_SCALE_ENV, "0")
    with pytest.raises(SystemExit) as info:
        serve.main([])
    assert info.value.code == 2
    assert TIME_SCALE_ENV in capsys.readouterr().err


def test_the_emulator_runs_its_clock_at_the_time_scale_it_was_started_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(TIME_SCALE_ENV, raising=False)
    monkeypatch.setenv("DEPLOYER_PROJECT_DIR", str(ROOT))
    monkeypatch.setenv("DEPLOYER_STATE_DIR", str(tmp_path))
    emulator = Emulator(tmp_path)
    assert cli.main(["emulator", "start", "--time-scale", "30"]) == 0
    try:
        capsys.readouterr()
        # The announcement (the emulator's stdout goes to its log).
        lines = (tmp_path / "emulator.log").read_text().splitlines()
        announcement = json.loads(next(line for line in lines if line.startswith('{"port"')))
        assert announcement["time_scale"] == 30
        assert announcement["engines"] == [
            "ecr-lifecycle", "codepipeline", "codepipeline-metrics", "acm-validation",
            "s3-replication",
        ]  # fmt: skip
        assert announcement["patches"] and announcement["controls"]

        assert cli.main(["emulator", "status", "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["running"] is True and doc["pid"] == announcement["pid"]
        assert doc["time_scale"] == 30 and doc["engines"] == [
            "ecr-lifecycle",
            "codepipeline",
            "codepipeline-metrics",
            "acm-validation",
            "s3-replication",
        ]
        assert doc["patches"] == announcement["patches"]

        assert cli.main(["emulator", "status"]) == 0
        text = capsys.readouterr().out
        assert "time scale: 30 (an emulated minute every 2 s)" in text
        assert "engines: ecr-lifecycle" in text

        # Requests are served through the backend lock, the emulator's controls too:
        # one answers (the lock is taken and let go), an unknown one is refused.
        from deployer.emulator.controls import post

        assert post(str(doc["endpoint"]), "runtime", None) == {"runtime": None}
        with pytest.raises(EmulatorError, match="HTTP 404"):
            post(str(doc["endpoint"]), "no-such-control", {})

        # An SQS long poll waits without the lock: a SendMessage made during the wait
        # is served at once, and the poll returns with it (with the lock held for the
        # wait, the send would wait for the poll to time out).
        import boto3

        from deployer.emulator import TEST_CREDENTIALS

        sqs = boto3.client(
            "sqs", region_name="us-east-1", endpoint_url=str(doc["endpoint"]),
            aws_access_key_id=TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )  # fmt: skip
        queue = sqs.create_queue(QueueName="long-poll")["QueueUrl"]
        received: list[tuple[float, list[Any]]] = []
        started = time.monotonic()

        def poll() -> None:
            answer = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5)
            received.append((time.monotonic() - started, answer.get("Messages", [])))

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(0.5)
        sent = time.monotonic()
        sqs.send_message(QueueUrl=queue, MessageBody="hello")
        # Not held up by the 5-second poll (the lock is let go while it waits); the
        # margin is for a loaded CI machine, where 1 s was once exceeded.
        assert time.monotonic() - sent < 3.0
        poller.join(10)
        ((after, messages),) = received
        assert [m["Body"] for m in messages] == ["hello"]
        assert after < 3.0

        # The scale is fixed for the emulator's life: no silent restart, no silent ignore.
        assert cli.main(["emulator", "start", "--time-scale", "60"]) == 1
        assert "running at time scale 30, not 60" in capsys.readouterr().err
        assert cli.main(["emulator", "start", "--time-scale", "30"]) == 0
        assert cli.main(["emulator", "status", "--time-scale", "5"]) == 2
        assert emulator.status().pid == doc["pid"]
    finally:
        emulator.stop()
