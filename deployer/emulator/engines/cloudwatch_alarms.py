"""CloudWatch alarms: metric and composite alarms change state and act, as CloudWatch's do.

Reproduces, after CloudWatch's "Using Amazon CloudWatch alarms" (alarm states,
"Evaluating an alarm", "Configuring how CloudWatch alarms treat missing data",
"Avoiding premature transitions to alarm state", "Alarms on math expressions"),
PutCompositeAlarm's ``AlarmRule``, "Notifying users on alarm changes" (the SNS
message schemas) and "Alarm events and EventBridge":

* every metric alarm of every account and region is evaluated once an emulated
  minute (every 10 s when its period is under a minute), over whole periods
  aligned on the epoch, the newest being the last complete one;
* a period's value is its statistic (``Average``, ``Sum``, ``Minimum``,
  ``Maximum``, ``SampleCount``) over the datapoints of the metric whose
  namespace, name and dimensions match the alarm's exactly (and its unit, when
  the alarm names one);
* metric math (``Metrics``): ``MetricStat`` queries and ``Expression`` queries
  with ``+ - * / ^``, unary minus, parentheses, numbers, query ids, arrays
  ``[a, b]`` and the functions MAX, MIN, SUM, AVG (over an array: a time series,
  period by period, of the values present; over one series: a scalar), ABS,
  CEIL, FLOOR; series with series combine at the timestamps both have, and a
  division by zero gives no value at that timestamp; the query with
  ``ReturnData`` is the alarm's series;
* the evaluation range is Evaluation Periods (N) + 2 periods. With N real
  datapoints or more, the N most recent decide; with fewer, the missing ones are
  filled as ``TreatMissingData`` says: ``breaching``/``notBreaching`` fill the
  N; ``missing`` and ``ignore`` decide on the real ones (ALARM with M breaching,
  OK with one not breaching, else INSUFFICIENT_DATA, or the state kept for
  ``ignore``), with the premature-alarm rule (all real points breaching, the
  oldest at least M periods old: ALARM, or the state kept for ``ignore``); no
  data at all gives INSUFFICIENT_DATA, the state kept, ALARM or OK. M is
  Datapoints to Alarm (N when unset). Both tables of the doc are unit tests;
* a state change sets StateValue, StateReason and StateReasonData in
  CloudWatch's words and JSON, StateUpdatedTimestamp, and a ``StateUpdate``
  history item (``patches/cloudwatch_alarm_history.py`` serves them);
* composite alarms are evaluated after the metric alarms of each round:
  ALARM(), OK(), INSUFFICIENT_DATA() of names or ARNs, quoted or not, TRUE,
  FALSE, NOT, AND, OR (in that precedence) and parentheses; TRUE is ALARM,
  FALSE is OK, so INSUFFICIENT_DATA is only the state of a new composite alarm;
  composites of composites settle within the round;
* on a change, with actions enabled, each SNS topic among the actions of the
  new state (AlarmActions, OKActions, InsufficientDataActions) is published the
  alarm notification JSON with the subject ``ALARM: "name" in <Region>``,
  through moto's SNS (which delivers to SQS subscriptions), and an ``Action``
  history item is recorded; whether actions are enabled or not, a "CloudWatch
  Alarm State Change" event (source ``aws.cloudwatch``) is put on the account's
  default event bus with moto's ``put_events``, so that its rules match it.

Left out: percentile statistics (``ExtendedStatistic``: such alarms stay as
they are), anomaly detection bands and ``ThresholdMetricId``, metric math
functions beyond those above (FILL, METRICS(), IF, RATE, ...), Metrics Insights
queries, cross-account metrics (``AccountId``), actions other than SNS (EC2,
Auto Scaling, Lambda, Systems Manager), composite action suppressors, alarm
mute rules, the ``AWS/DynamoDB`` always-ignore rule, evaluation ranges longer
than N + 2 (AWS's depends on the period), and repeated ALARM notifications.
Metric data put without a timestamp is stamped with the emulator's clock when it is
received (PutMetricData: "the time the data point was received" is the default), so
that an alarm on a time scale above 1 sees it in its period; moto alone stamps the
wall clock.
"""

from __future__ import annotations

import datetime
import json
import logging
import math
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from deployer.emulator.scheduler import BACKEND_LOCK, Scheduler

log = logging.getLogger(__name__)

ALARM, OK, INSUFFICIENT = "ALARM", "OK", "INSUFFICIENT_DATA"
STATES = (OK, ALARM, INSUFFICIENT)

#: How often metric alarms are evaluated: standard, and high resolution (period < 60 s).
EVERY_S = 60.0
HIGH_RESOLUTION_EVERY_S = 10.0
#: The evaluation range is Evaluation Periods plus this many periods.
EXTRA_PERIODS = 2

COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (lambda v, t: v >= t, "greater than or equal to"),
    "GreaterThanThreshold": (lambda v, t: v > t, "greater than"),
    "LessThanThreshold": (lambda v, t: v < t, "less than"),
    "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "less than or equal to"),
}
STATISTICS = ("Average", "Sum", "Minimum", "Maximum", "SampleCount")


# -- formats --------------------------------------------------------------------------------------
def java_double(value: float) -> str:
    """``value`` as Java's Double.toString writes it (CloudWatch's reasons): 1.0, 0.25, 1.0E7."""
    if math.isnan(value) or math.isinf(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        text = repr(float(value))
        return text if "." in text or "e" in text else text + ".0"
    sign, digits, exponent = Decimal(repr(float(value))).as_tuple()
    shown = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) - 1 + int(exponent)
    mantissa = shown[0] + "." + (shown[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{power}"


def _utc(epoch: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC)


def iso_millis(epoch: float) -> str:
    """CloudWatch's JSON time: 2020-10-05T06:47:38.033+0000."""
    moment = _utc(epoch)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def reason_time(epoch: float) -> str:
    """A datapoint's time in a state reason: 30/11/26 01:02:00."""
    return _utc(epoch).strftime("%d/%m/%y %H:%M:%S")


def composite_time(epoch: float) -> str:
    """A child's transition time in a composite reason: Sunday 30 October, 2022 20:47:35 UTC."""
    return _utc(epoch).strftime("%A %d %B, %Y %H:%M:%S UTC")


def naive_utc(epoch: float) -> datetime.datetime:
    """The naive UTC datetime moto keeps its timestamps in."""
    return _utc(epoch).replace(tzinfo=None)


def epoch_of(moment: datetime.datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# -- datapoints -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    """One datum: a value (count 1) or a statistic set."""

    at: float
    count: float
    total: float
    low: float
    high: float


def statistic(samples: Sequence[Sample], stat: str) -> float | None:
    if not samples:
        return None
    count = sum(s.count for s in samples)
    if stat == "SampleCount":
        return count
    if stat == "Sum":
        return sum(s.total for s in samples)
    if stat == "Minimum":
        return min(s.low for s in samples)
    if stat == "Maximum":
        return max(s.high for s in samples)
    if stat == "Average":
        return sum(s.total for s in samples) / count if count else None
    return None


MetricKey = tuple[str, str, frozenset[tuple[str, str]]]


@dataclass
class MetricIndex:
    """The datapoints of one backend, by namespace, name and exact dimensions."""

    by_metric: dict[MetricKey, list[tuple[Sample, str | None]]] = field(default_factory=dict)

    @classmethod
    def build(cls, data: Iterable[Any], since: float) -> MetricIndex:
        index = cls()
        for datum in data:
            at = epoch_of(datum.timestamp)
            if at < since:
                continue
            dims = frozenset((d.name, d.value) for d in datum.dimensions)
            if hasattr(datum, "value"):
                value = float(datum.value)
                sample = Sample(at, 1.0, value, value, value)
            else:
                sample = Sample(
                    at,
                    float(datum.sample_count),
                    float(datum.sum),
                    float(datum.min),
                    float(datum.max),
                )
            key = (datum.namespace, datum.name, dims)
            index.by_metric.setdefault(key, []).append((sample, datum.unit))
        return index

    def series(
        self, metric: MetricKey, stat: str, period: int, start: float, end: float, unit: str | None
    ) -> dict[float, tuple[float, float]]:
        """Period start -> (value, sample count) for the periods in [start, end) with data."""
        buckets: dict[float, list[Sample]] = {}
        for sample, sample_unit in self.by_metric.get(metric, []):
            if not (start <= sample.at < end) or (unit and sample_unit != unit):
                continue
            slot = start + math.floor((sample.at - start) / period) * period
            buckets.setdefault(slot, []).append(sample)
        found: dict[float, tuple[float, float]] = {}
        for slot, samples in buckets.items():
            value = statistic(samples, stat)
            if value is not None:
                found[slot] = (value, sum(s.count for s in samples))
        return found


# -- metric math ----------------------------------------------------------------------------------
Series = dict[float, float]
Value = float | Series | list[Series]


class MathError(ValueError):
    """An expression the engine cannot evaluate."""


_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)|(.))")
_AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "MAX": max,
    "MIN": min,
    "SUM": math.fsum,
    "AVG": lambda values: math.fsum(values) / len(values),
}
_ELEMENTWISE: dict[str, Callable[[float], float]] = {
    "ABS": abs,
    "CEIL": lambda v: float(math.ceil(v)),
    "FLOOR": lambda v: float(math.floor(v)),
}


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:  # pragma: no cover - the pattern matches any character
            raise MathError(f"cannot read {text[position:]!r}")
        number, name, symbol = match.groups()
        if number is not None:
            found.append(("num", number))
        elif name is not None:
            found.append(("name", name))
        elif symbol is not None and symbol.strip():
            if symbol not in "+-*/^()[],":
                raise MathError(f"unexpected {symbol!r} in {text!r}")
            found.append(("op", symbol))
        position = match.end()
    return found


def _binary(op: str, left: Value, right: Value) -> Value:
    def apply(a: float, b: float) -> float | None:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return None if b == 0 else a / b
        try:
            result = a**b
        except (OverflowError, ZeroDivisionError):
            return None
        return result if isinstance(result, float) else None

    if isinstance(left, list) or isinstance(right, list):
        raise MathError("arithmetic on an array of time series")
    if isinstance(left, dict) and isinstance(right, dict):
        pairs = ((t, apply(left[t], right[t])) for t in left if t in right)
    elif isinstance(left, dict):
        pairs = ((t, apply(v, float(right))) for t, v in left.items())  # type: ignore[arg-type]
    elif isinstance(right, dict):
        pairs = ((t, apply(float(left), v)) for t, v in right.items())
    else:
        scalar = apply(float(left), float(right))
        if scalar is None:
            raise MathError("division by zero")
        return scalar
    return {t: v for t, v in pairs if v is not None}


class _Parser:
    """expression := sum; sum := product (('+'|'-') product)*; product := unary (('*'|'/')
    unary)*; unary := '-' unary | power; power := atom ('^' unary)?; atom := number | id |
    FUNCTION '(' expression ')' | '(' expression ')' | '[' expression (',' expression)* ']'."""

    def __init__(self, text: str, env: dict[str, Value]) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.position = 0
        self.env = env

    def parse(self) -> Value:
        value = self.sum()
        if self.position != len(self.tokens):
            raise MathError(f"unexpected {self.tokens[self.position][1]!r} in {self.text!r}")
        return value

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, symbol: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (symbol is not None and token != ("op", symbol)):
            raise MathError(f"expected {symbol or 'more'} in {self.text!r}")
        self.position += 1
        return token

    def sum(self) -> Value:
        value = self.product()
        while self.peek() in (("op", "+"), ("op", "-")):
            value = _binary(self.take()[1], value, self.product())
        return value

    def product(self) -> Value:
        value = self.unary()
        while self.peek() in (("op", "*"), ("op", "/")):
            value = _binary(self.take()[1], value, self.unary())
        return value

    def unary(self) -> Value:
        if self.peek() == ("op", "-"):
            self.take()
            return _binary("*", -1.0, self.unary())
        value = self.atom()
        if self.peek() == ("op", "^"):
            self.take()
            value = _binary("^", value, self.unary())
        return value

    def atom(self) -> Value:
        kind, text = self.take()
        if kind == "num":
            return float(text)
        if kind == "op" and text == "(":
            value = self.sum()
            self.take(")")
            return value
        if kind == "op" and text == "[":
            items = [self.sum()]
            while self.peek() == ("op", ","):
                self.take()
                items.append(self.sum())
            self.take("]")
            if not all(isinstance(i, dict) for i in items):
                raise MathError("an array holds time series only")
            return [i for i in items if isinstance(i, dict)]
        if kind == "name" and self.peek() == ("op", "("):
            self.take()
            argument = self.sum()
            self.take(")")
            return self.function(text.upper(), argument)
        if kind == "name" and text in self.env:
            return self.env[text]
        raise MathError(f"unknown {text!r} in {self.text!r}")

    @staticmethod
    def function(name: str, argument: Value) -> Value:
        if name in _ELEMENTWISE:
            fn = _ELEMENTWISE[name]
            if isinstance(argument, list):
                raise MathError(f"{name} of an array")
            if isinstance(argument, dict):
                return {t: fn(v) for t, v in argument.items()}
            return fn(float(argument))
        if name not in _AGGREGATES:
            raise MathError(f"the function {name} is not supported")
        aggregate = _AGGREGATES[name]
        if isinstance(argument, list) and len(argument) > 1:
            stamps = sorted({t for series in argument for t in series})
            return {t: aggregate([s[t] for s in argument if t in s]) for t in stamps}
        series = argument[0] if isinstance(argument, list) else argument
        if isinstance(series, dict):
            if not series:
                raise MathError(f"{name} of an empty time series")
            return aggregate(list(series.values()))
        return float(series)


def evaluate_expression(text: str, env: dict[str, Value]) -> Value:
    """The value of a metric math expression over the query results ``env``."""
    return _Parser(text, env).parse()


# -- the decision ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    """What the datapoints decide: a state (None: keep the current one), the window slots
    evaluated (newest first) and how many missing datapoints were filled, as what."""

    state: str | None
    used: tuple[int, ...]
    filled: int = 0
    filled_as: bool | None = None


def decide(window: Sequence[bool | None], n: int, m: int, treat: str) -> Decision:
    """The alarm state for ``window`` (oldest first; True breaching, False not, None missing).

    After "How alarm state is evaluated when data is missing" and "Avoiding premature
    transitions to alarm state"; tests/unit/emulator/test_cloudwatch_alarms.py holds the
    doc's two tables.
    """
    real = [i for i in reversed(range(len(window))) if window[i] is not None]
    if len(real) >= n:
        used = tuple(real[:n])
        breaching = sum(1 for i in used if window[i])
        return Decision(ALARM if breaching >= m else OK, used)
    fill = n - len(real)
    breaching = sum(1 for i in real if window[i])
    if treat == "breaching":
        state = ALARM if breaching + fill >= m else OK
        return Decision(state, tuple(real), fill, True)
    if treat == "notBreaching":
        return Decision(ALARM if breaching >= m else OK, tuple(real), fill, False)
    keep = treat == "ignore"
    if not real:
        return Decision(None if keep else INSUFFICIENT, (), fill)
    if breaching >= m:
        return Decision(ALARM, tuple(real), fill)
    oldest_age = len(window) - 1 - real[-1]
    if breaching == len(real) and oldest_age + 1 >= m:
        return Decision(None if keep else ALARM, tuple(real), fill)
    if breaching < len(real):
        return Decision(OK, tuple(real), fill)
    return Decision(None if keep else INSUFFICIENT, tuple(real), fill)


# -- alarms ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    id: str
    label: str | None
    return_data: bool
    expression: str | None
    metric: MetricKey | None
    period: int
    stat: str | None
    unit: str | None


@dataclass(frozen=True)
class MetricAlarmConfig:
    """What evaluating a metric alarm needs, read under the lock."""

    name: str
    arn: str
    period: int
    n: int
    m: int
    threshold: float
    operator: str
    treat: str
    statistic: str | None
    metric: MetricKey | None
    unit: str | None
    queries: tuple[Query, ...]
    state: str

    @property
    def every(self) -> float:
        return HIGH_RESOLUTION_EVERY_S if self.period < 60 else EVERY_S


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def read_config(alarm: Any) -> MetricAlarmConfig | None:
    """The alarm as the engine evaluates it, or None for what it leaves out."""
    operator = alarm.comparison_operator
    if operator not in COMPARISONS or alarm.threshold is None:
        return None
    queries = []
    for q in alarm.metric_data_queries or []:
        stat = q.metric_stat
        metric = None
        if stat is not None:
            dims = frozenset((d.name, d.value) for d in stat.metric.dimensions)
            metric = (stat.metric.namespace, stat.metric.metric_name, dims)
        queries.append(
            Query(
                id=q.id,
                label=q.label,
                return_data=q.return_data is None or _truthy(q.return_data),
                expression=q.expression,
                metric=metric,
                period=int((stat.period if stat else None) or q.period or alarm.period or 60),
                stat=stat.stat if stat else None,
                unit=stat.unit if stat else None,
            )
        )
    if any(q.stat not in STATISTICS for q in queries if q.metric is not None):
        return None  # percentiles and other extended statistics are left out
    if queries:
        periods = [q.period for q in queries if q.metric is not None] or [queries[0].period]
        period, metric, stat = periods[0], None, None
    else:
        if alarm.statistic not in STATISTICS or not alarm.period:
            return None
        dims = frozenset((d.name, d.value) for d in alarm.dimensions)
        period, metric, stat = (
            int(alarm.period),
            (alarm.namespace, alarm.metric_name, dims),
            alarm.statistic,
        )
    n = int(alarm.evaluation_periods or 1)
    return MetricAlarmConfig(
        name=alarm.name,
        arn=alarm.alarm_arn,
        period=period,
        n=n,
        m=int(alarm.datapoints_to_alarm or n),
        threshold=float(alarm.threshold),
        operator=operator,
        treat=alarm.treat_missing_data or "missing",
        statistic=stat,
        metric=metric,
        unit=alarm.unit,
        queries=tuple(queries),
        state=alarm.state_value,
    )


@dataclass(frozen=True)
class Transition:
    state: str
    reason: str
    reason_data: str


def _series(
    config: MetricAlarmConfig, index: MetricIndex, start: float, end: float
) -> tuple[dict[float, float], dict[float, float]]:
    """The alarm's values (period start -> value) and sample counts (simple alarms only)."""
    if config.metric is not None and config.statistic is not None:
        found = index.series(
            config.metric, config.statistic, config.period, start, end, config.unit
        )
        return {t: v for t, (v, _) in found.items()}, {t: c for t, (_, c) in found.items()}
    env: dict[str, Value] = {}
    for q in config.queries:
        if q.metric is not None and q.stat is not None:
            found = index.series(q.metric, q.stat, q.period, start, end, q.unit)
            env[q.id] = {t: v for t, (v, _) in found.items()}
    pending = [q for q in config.queries if q.expression]
    while pending:  # expressions may use each other, in any order
        progressed = False
        for q in list(pending):
            try:
                env[q.id] = evaluate_expression(q.expression or "", env)
            except MathError as error:
                if "unknown" not in str(error):
                    raise
                continue
            pending.remove(q)
            progressed = True
        if not progressed:
            evaluate_expression(pending[0].expression or "", env)  # raises the error
    returned = [q for q in config.queries if q.return_data] or list(config.queries[-1:])
    result = env.get(returned[0].id) if returned else None
    if not isinstance(result, dict):
        raise MathError("the alarm's expression does not return a single time series")
    return dict(result), {}


def evaluate(config: MetricAlarmConfig, index: MetricIndex, now: float) -> Transition | None:
    """The state ``config`` moves to at ``now``; None when it stays."""
    period = config.period
    end = math.floor(now / period) * period
    slots = config.n + EXTRA_PERIODS
    start = end - slots * period
    values, counts = _series(config, index, start, end)
    compare, phrase = COMPARISONS[config.operator]
    stamps = [float(start + i * period) for i in range(slots)]
    window: list[bool | None] = [
        None if t not in values else compare(values[t], config.threshold) for t in stamps
    ]
    decision = decide(window, config.n, config.m, config.treat)
    if decision.state is None or decision.state == config.state:
        return None
    used = [(float(stamps[i]), values[stamps[i]]) for i in decision.used]  # newest first
    data: dict[str, Any] = {"version": "1.0", "queryDate": iso_millis(now)}
    if used:
        data["startDate"] = iso_millis(min(t for t, _ in used))
    if config.statistic:
        data["statistic"] = config.statistic
    data["period"] = period
    data["recentDatapoints"] = [v for _, v in reversed(used)]
    data["threshold"] = config.threshold
    if used:
        data["evaluatedDatapoints"] = [
            {
                "timestamp": iso_millis(t),
                **({"sampleCount": counts[t]} if t in counts else {}),
                "value": v,
            }
            for t, v in used
        ]
    reason = _reason(config, decision, used, window, stamps, phrase)
    return Transition(decision.state, reason, json.dumps(data, separators=(",", ":")))


def _reason(
    config: MetricAlarmConfig,
    decision: Decision,
    used: list[tuple[float, float]],
    window: Sequence[bool | None],
    stamps: Sequence[float],
    phrase: str,
) -> str:
    state = decision.state
    if state == INSUFFICIENT:
        return f"Insufficient Data: {_plural(max(decision.filled, 1), 'datapoint')} " + (
            "was unknown." if max(decision.filled, 1) == 1 else "were unknown."
        )
    wanted = state == ALARM
    crossing = [(t, v) for t, v in used if bool(window[stamps.index(t)]) == wanted]
    words = phrase if wanted else f"not {phrase}"
    threshold = java_double(config.threshold)
    filled = ""
    if decision.filled and decision.filled_as is not None:
        kind = "Breaching" if decision.filled_as else "NonBreaching"
        verb = "was" if decision.filled == 1 else "were"
        filled = f"{_plural(decision.filled, 'missing datapoint')} {verb} treated as [{kind}]"
    if not used and filled:
        return (
            f"Threshold Crossed: no datapoints were received for "
            f"{_plural(config.n, 'period')} and {filled}."
        )
    if not crossing and filled:
        verb = "was" if len(used) == 1 else "were"
        return (
            f"Threshold Crossed: {_plural(len(used), 'datapoint')} {verb} received for "
            f"{_plural(config.n, 'period')} and {filled}."
        )
    shown = ", ".join(f"{java_double(v)} ({reason_time(t)})" for t, v in crossing[:5])
    verb = "was" if len(crossing) == 1 else "were"
    minimum = config.m if wanted else config.n - config.m + 1
    old = OK if wanted else ALARM
    if config.state == INSUFFICIENT and not filled:
        head = f"{_plural(len(crossing), 'datapoint')}"
        if len(crossing) >= 5:
            return (
                f"Threshold Crossed: {head} {verb} {words} the threshold ({threshold}). "
                f"The most recent datapoints which crossed the threshold: [{shown}]."
            )
        return f"Threshold Crossed: {head} [{shown}] {verb} {words} the threshold ({threshold})."
    head = f"{len(crossing)} out of the last {_plural(config.n, 'datapoint')}"
    tail = f" and {filled}" if filled else ""
    rule = f"(minimum {_plural(minimum, 'datapoint')} for {old} -> {state} transition)"
    if len(crossing) >= 5:
        return (
            f"Threshold Crossed: {head} {verb} {words} the threshold ({threshold}){tail}. "
            f"The most recent datapoints which crossed the threshold: [{shown}] {rule}."
        )
    return (
        f"Threshold Crossed: {head} [{shown}] {verb} {words} the threshold ({threshold})"
        f"{tail} {rule}."
    )


# -- composite alarm rules ------------------------------------------------------------------------
_RULE_TOKEN = re.compile(r'\s*(?:(\()|(\))|"([^"]*)"|([^\s()"]+))')
_FUNCTIONS = {"ALARM": ALARM, "OK": OK, "INSUFFICIENT_DATA": INSUFFICIENT}


class RuleError(ValueError):
    """An AlarmRule the engine cannot read."""


def rule_tokens(rule: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(rule):
        match = _RULE_TOKEN.match(rule, position)
        if match is None:
            if rule[position:].strip():
                raise RuleError(f"cannot read {rule[position:]!r}")
            break
        opening, closing, quoted, word = match.groups()
        if opening:
            tokens.append(("(", "("))
        elif closing:
            tokens.append((")", ")"))
        elif quoted is not None:
            tokens.append(("name", quoted))
        elif word is not None:
            tokens.append(("word", word))
        position = match.end()
    return tokens


class RuleParser:
    """rule := or; or := and (OR and)*; and := not (AND not)*; not := NOT not | atom;
    atom := TRUE | FALSE | STATE '(' name ')' | '(' rule ')'. Evaluates with ``state_of``."""

    def __init__(self, rule: str, state_of: Callable[[str], str | None]) -> None:
        self.rule = rule
        self.tokens = rule_tokens(rule)
        self.position = 0
        self.state_of = state_of
        self.children: list[str] = []

    def parse(self) -> bool:
        value = self.either()
        if self.position != len(self.tokens):
            raise RuleError(f"unexpected {self.tokens[self.position][1]!r} in {self.rule!r}")
        return value

    def take(self) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise RuleError(f"the rule {self.rule!r} ends too soon")
        self.position += 1
        return self.tokens[self.position - 1]

    def word(self, text: str) -> bool:
        token = self.tokens[self.position] if self.position < len(self.tokens) else None
        return token == ("word", text)

    def either(self) -> bool:
        value = self.both()
        while self.word("OR"):
            self.take()
            right = self.both()
            value = value or right
        return value

    def both(self) -> bool:
        value = self.negation()
        while self.word("AND"):
            self.take()
            right = self.negation()
            value = value and right
        return value

    def negation(self) -> bool:
        if self.word("NOT"):
            self.take()
            return not self.negation()
        return self.atom()

    def atom(self) -> bool:
        kind, text = self.take()
        if kind == "(":
            value = self.either()
            if self.take()[0] != ")":
                raise RuleError(f"a parenthesis is not closed in {self.rule!r}")
            return value
        if kind == "word" and text in ("TRUE", "FALSE"):
            return text == "TRUE"
        if kind == "word" and text in _FUNCTIONS:
            if self.take()[0] != "(":
                raise RuleError(f"{text} needs (alarm name) in {self.rule!r}")
            name_kind, name = self.take()
            if name_kind not in ("name", "word") or self.take()[0] != ")":
                raise RuleError(f"{text}(...) takes one alarm name or ARN in {self.rule!r}")
            self.children.append(name)
            return self.state_of(name) == _FUNCTIONS[text]
        raise RuleError(f"unexpected {text!r} in {self.rule!r}")


def evaluate_rule(rule: str, state_of: Callable[[str], str | None]) -> tuple[bool, list[str]]:
    """Whether ``rule`` holds, and the alarms it names, in order."""
    parser = RuleParser(rule, state_of)
    return parser.parse(), parser.children


# -- the engine -----------------------------------------------------------------------------------
def _region_name(region: str) -> str:
    """The Region's name as CloudWatch writes it in notifications: US East (N. Virginia)."""
    import botocore.loaders

    for partition in botocore.loaders.Loader().load_data("endpoints")["partitions"]:
        described = partition.get("regions", {}).get(region)
        if described and described.get("description"):
            return str(described["description"])
    return region


def _dimensions_list(dims: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"value": v, "name": k} for k, v in sorted(dims)]


#: The scheduler whose clock stamps data put without a timestamp (the last started).
_RECEIVED_CLOCK: list[Scheduler] = []


def stamp_received_data(scheduler: Scheduler) -> None:
    """PutMetricData without a ``Timestamp`` gets ``scheduler``'s now (emulated epoch
    seconds) while it runs; moto's wall clock otherwise."""
    from moto.cloudwatch.models import CloudWatchBackend

    _RECEIVED_CLOCK[:] = [scheduler]
    original = CloudWatchBackend.put_metric_data
    if getattr(original, "deployer_stamped", False):
        return

    def put_metric_data(
        self: CloudWatchBackend, namespace: str, metric_data: list[dict[str, Any]]
    ) -> None:
        clock = [c for c in _RECEIVED_CLOCK if c.running]
        if clock:
            received = naive_utc(clock[0].now())
            for member in metric_data:
                if not member.get("Timestamp"):
                    member["Timestamp"] = received
        original(self, namespace, metric_data)

    put_metric_data.deployer_stamped = True  # type: ignore[attr-defined]
    CloudWatchBackend.put_metric_data = put_metric_data  # type: ignore[method-assign]


class CloudWatchAlarms:
    """The engine (see the module docstring)."""

    name = "cloudwatch-alarms"

    def __init__(self, lock: Any = BACKEND_LOCK) -> None:
        self.lock = lock
        self.runs = 0
        self.transitions = 0
        self.notifications = 0
        self.events = 0
        self.errors: dict[str, str] = {}
        self.last_evaluation: float | None = None
        self._last_run: dict[str, float] = {}
        self._scheduler: Scheduler | None = None

    def start(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        stamp_received_data(scheduler)
        scheduler.every(HIGH_RESOLUTION_EVERY_S, self.run, name="cloudwatch-alarms")

    def now(self) -> float:
        if self._scheduler is None:
            raise RuntimeError("cloudwatch-alarms: not started")
        return self._scheduler.now()

    # -- one round --------------------------------------------------------------------------------
    def run(self, now: float | None = None) -> None:
        """Evaluate the metric alarms that are due, then every composite alarm."""
        now = self.now() if now is None else now
        for account, region, snapshot in self._snapshots(now):
            for alarm, config in snapshot:
                try:
                    outcome = evaluate(config, snapshot.index, now)
                except MathError as error:
                    self.errors[config.arn] = str(error)
                    continue
                except Exception as error:  # one broken alarm must not stop the others
                    log.exception("cloudwatch-alarms: evaluating %s failed", config.arn)
                    self.errors[config.arn] = f"{type(error).__name__}: {error}"
                    continue
                self.errors.pop(config.arn, None)
                if outcome is not None:
                    with self.lock:
                        self._apply(account, region, alarm, outcome, now)
        with self.lock:
            self._composites(now)
            self.runs += 1
            self.last_evaluation = now

    def _snapshots(self, now: float) -> list[tuple[str, str, _Snapshot]]:
        from moto.cloudwatch.models import cloudwatch_backends

        found = []
        with self.lock:
            for account in list(cloudwatch_backends.keys()):
                for region, backend in list(cloudwatch_backends[account].items()):
                    due: list[tuple[Any, MetricAlarmConfig]] = []
                    for alarm in list(backend.alarms.values()):
                        if alarm.rule is not None:
                            continue
                        config = read_config(alarm)
                        if config is None:
                            continue
                        if now - self._last_run.get(config.arn, -math.inf) < config.every - 1e-6:
                            continue
                        self._last_run[config.arn] = now
                        due.append((alarm, config))
                    if due:
                        longest = max((c.n + EXTRA_PERIODS + 1) * c.period for _, c in due)
                        data = list(backend.get_all_metrics())
                        found.append((account, region, _Snapshot(due, data, now - longest)))
        return found

    # -- under the lock: writes -------------------------------------------------------------------
    def _apply(
        self, account: str, region: str, alarm: Any, outcome: Transition, now: float
    ) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        backend = cloudwatch_backends[account][region]
        current: Any = backend.alarms.get(alarm.name)
        if current is not alarm or current.state_value == outcome.state:
            return  # deleted, replaced or changed meanwhile
        self.change_state(backend, alarm, outcome, now)

    def change_state(self, backend: Any, alarm: Any, outcome: Transition, now: float) -> None:
        """Set the alarm's new state, record it, notify and put the event (under the lock)."""
        from deployer.emulator.patches.cloudwatch_alarm_history import record

        old = {
            "value": alarm.state_value,
            "reason": alarm.state_reason,
            "reasonData": alarm.state_reason_data,
            "timestamp": epoch_of(alarm.state_updated_timestamp),
        }
        alarm.state_value = outcome.state
        alarm.state_reason = outcome.reason
        alarm.state_reason_data = outcome.reason_data
        alarm.state_updated_timestamp = naive_utc(now)
        self.transitions += 1
        kind = "CompositeAlarm" if alarm.rule is not None else "MetricAlarm"
        record(
            backend,
            alarm.name,
            kind,
            "StateUpdate",
            f"Alarm updated from {old['value']} to {outcome.state}",
            {
                "version": "1.0",
                "oldState": _history_state(old["value"], old["reason"], old["reasonData"]),
                "newState": _history_state(outcome.state, outcome.reason, outcome.reason_data),
            },
            naive_utc(now),
        )
        log.info("cloudwatch-alarms: %s %s -> %s", alarm.alarm_arn, old["value"], outcome.state)
        notified, put = announce(backend, alarm, old, now)
        self.notifications += notified
        self.events += put

    def _composites(self, now: float) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        for account in list(cloudwatch_backends.keys()):
            for backend in list(cloudwatch_backends[account].values()):
                composites = [a for a in backend.alarms.values() if a.rule is not None]
                for _ in range(len(composites)):  # composites of composites settle
                    if not any(self._composite(backend, a, now) for a in composites):
                        break

    def _composite(self, backend: Any, alarm: Any, now: float) -> bool:
        def find(name: str) -> Any:
            if name.startswith("arn:"):
                return next((a for a in backend.alarms.values() if a.alarm_arn == name), None)
            return backend.alarms.get(name)

        def state_of(name: str) -> str | None:
            child = find(name)
            return None if child is None else str(child.state_value)

        try:
            holds, names = evaluate_rule(alarm.rule, state_of)
        except RuleError as error:
            self.errors[alarm.alarm_arn] = str(error)
            return False
        self.errors.pop(alarm.alarm_arn, None)
        state = ALARM if holds else OK
        if state == alarm.state_value:
            return False
        children = [c for c in (find(n) for n in names) if c is not None]
        if alarm.state_value == INSUFFICIENT and state == OK:
            reason = f"{alarm.alarm_arn} was created and its alarm rule evaluates to OK"
            triggering = children
        else:
            matching = [c for c in children if c.state_value == state] or children
            latest = max(matching, key=lambda c: c.state_updated_timestamp, default=None)
            if latest is None:
                reason, triggering = f"{alarm.alarm_arn} alarm rule evaluates to {state}", []
            else:
                when = composite_time(epoch_of(latest.state_updated_timestamp))
                reason = f"{latest.alarm_arn} transitioned to {latest.state_value} at {when}"
                triggering = [latest]
        data = {
            "triggeringAlarms": [
                {
                    "arn": c.alarm_arn,
                    "state": {
                        "value": c.state_value,
                        "timestamp": iso_millis(epoch_of(c.state_updated_timestamp)),
                    },
                }
                for c in triggering
            ]
        }
        alarm._triggering_children = triggering
        outcome = Transition(state, reason, json.dumps(data, separators=(",", ":")))
        self.change_state(backend, alarm, outcome, now)
        return True

    # -- status -----------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        from moto.cloudwatch.models import cloudwatch_backends

        counts = dict.fromkeys(STATES, 0)
        with self.lock:
            for account in list(cloudwatch_backends.keys()):
                for backend in list(cloudwatch_backends[account].values()):
                    for alarm in backend.alarms.values():
                        counts[alarm.state_value] = counts.get(alarm.state_value, 0) + 1
        return {
            "alarms": counts,
            "last_evaluation": iso_millis(self.last_evaluation) if self.last_evaluation else None,
            "runs": self.runs,
            "transitions": self.transitions,
            "notifications": self.notifications,
            "events": self.events,
            "errors": dict(self.errors),
        }


@dataclass
class _Snapshot:
    """The due alarms of one backend and its datapoints, read under the lock."""

    due: list[tuple[Any, MetricAlarmConfig]]
    data: list[Any]
    since: float
    _index: MetricIndex | None = None

    @property
    def index(self) -> MetricIndex:
        if self._index is None:
            self._index = MetricIndex.build(self.data, self.since)
        return self._index

    def __iter__(self) -> Any:
        return iter(self.due)


def announce(backend: Any, alarm: Any, old: dict[str, Any], now: float) -> tuple[int, int]:
    """What CloudWatch does once ``alarm`` has changed state from ``old`` (value, reason,
    reasonData, timestamp): the state change event, always, and the actions of the new
    state when actions are enabled. Under the lock; returns (notifications, events)."""
    put = _put_event(backend, alarm, old, now)
    notified = 0
    if alarm.actions_enabled:
        actions = {
            ALARM: alarm.alarm_actions,
            OK: alarm.ok_actions,
            INSUFFICIENT: alarm.insufficient_data_actions,
        }.get(alarm.state_value)
        for action in actions or []:
            notified += _notify(backend, alarm, str(action), str(old["value"]), now)
    return notified, int(put)


def _notify(backend: Any, alarm: Any, action: str, old_state: str, now: float) -> bool:
    from moto.sns.models import sns_backends

    from deployer.emulator.patches.cloudwatch_alarm_history import record

    parts = action.split(":")
    if len(parts) < 6 or parts[2] != "sns":
        log.info("cloudwatch-alarms: %s: action %s left out (SNS only)", alarm.name, action)
        return False
    message = notification(backend.account_id, backend.region_name, alarm, old_state)
    subject = f'{alarm.state_value}: "{alarm.name}" in {_region_name(backend.region_name)}'
    try:
        sns_backends[parts[4]][parts[3]].publish(
            json.dumps(message, separators=(",", ":")), arn=action, subject=subject[:100]
        )
    except Exception as error:  # CloudWatch records a failed action
        summary = f"Failed to execute action {action}"
        data: dict[str, Any] = {"actionState": "Failed", "error": str(error)}
        done = False
    else:
        done = True
        summary, data = f"Successfully executed action {action}", {"actionState": "Succeeded"}
    data.update(
        {
            "stateUpdateTimestamp": int(epoch_of(alarm.state_updated_timestamp) * 1000),
            "notificationResource": action,
            "publishedMessage": message,
        }
    )
    kind = "CompositeAlarm" if alarm.rule is not None else "MetricAlarm"
    record(backend, alarm.name, kind, "Action", summary, data, naive_utc(now))
    return done


def _put_event(backend: Any, alarm: Any, old: dict[str, Any], now: float) -> bool:
    from moto.events.models import events_backends

    previous = {
        "value": old["value"],
        "reason": old["reason"],
        "reasonData": old["reasonData"],
        "timestamp": iso_millis(float(old["timestamp"])),
    }
    detail = {
        "alarmName": alarm.name,
        "state": {
            "value": alarm.state_value,
            "reason": alarm.state_reason,
            "reasonData": alarm.state_reason_data,
            "timestamp": iso_millis(now),
        },
        "previousState": previous,
        "configuration": configuration(alarm),
    }
    entry = {
        "Source": "aws.cloudwatch",
        "DetailType": "CloudWatch Alarm State Change",
        "Detail": json.dumps(detail),
        "Resources": [alarm.alarm_arn],
        "Time": math.floor(now),
    }
    try:
        events_backends[backend.account_id][backend.region_name].put_events([entry])
    except Exception:  # a target moto cannot reach must not stop the alarms
        log.exception("cloudwatch-alarms: putting the event of %s failed", alarm.alarm_arn)
        return False
    return True


def _history_state(value: str, reason: str, reason_data: str | None) -> dict[str, Any]:
    state: dict[str, Any] = {"stateValue": value, "stateReason": reason}
    try:
        parsed = json.loads(reason_data) if reason_data else None
    except ValueError:
        parsed = None
    if parsed:
        state["stateReasonData"] = parsed
    return state


# -- what CloudWatch sends ------------------------------------------------------------------------
def _metrics(alarm: Any) -> list[dict[str, Any]]:
    """The alarm's metrics as EventBridge events carry them."""
    queries = alarm.metric_data_queries or []
    if not queries:
        return [
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, alarm.alarm_arn)),
                "metricStat": {
                    "metric": {
                        "namespace": alarm.namespace,
                        "name": alarm.metric_name,
                        "dimensions": {d.name: d.value for d in alarm.dimensions},
                    },
                    "period": alarm.period,
                    "stat": alarm.statistic or alarm.extended_statistic,
                },
                "returnData": True,
            }
        ]
    found = []
    for q in queries:
        item: dict[str, Any] = {"id": q.id}
        if q.metric_stat is not None:
            stat = q.metric_stat
            item["metricStat"] = {
                "metric": {
                    "namespace": stat.metric.namespace,
                    "name": stat.metric.metric_name,
                    "dimensions": {d.name: d.value for d in stat.metric.dimensions},
                },
                "period": int(stat.period) if stat.period else None,
                "stat": stat.stat,
            }
        if q.expression:
            item["expression"] = q.expression
        if q.label:
            item["label"] = q.label
        item["returnData"] = q.return_data is None or _truthy(q.return_data)
        found.append(item)
    return found


def configuration(alarm: Any) -> dict[str, Any]:
    """The ``configuration`` of a "CloudWatch Alarm State Change" event."""
    if alarm.rule is not None:
        composite: dict[str, Any] = {"alarmRule": alarm.rule}
        if alarm.description:
            composite["description"] = alarm.description
        return composite
    metric: dict[str, Any] = {}
    if alarm.description:
        metric["description"] = alarm.description
    metric["metrics"] = _metrics(alarm)
    return metric


def notification(account: str, region: str, alarm: Any, old_state: str) -> dict[str, Any]:
    """CloudWatch's SNS message for the alarm's change from ``old_state`` to its state."""
    message: dict[str, Any] = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account,
    }
    if alarm.rule is None:
        message["AlarmConfigurationUpdatedTimestamp"] = iso_millis(
            epoch_of(alarm.configuration_updated_timestamp)
        )
    message.update(
        {
            "NewStateValue": alarm.state_value,
            "NewStateReason": alarm.state_reason,
            "StateChangeTime": iso_millis(epoch_of(alarm.state_updated_timestamp)),
            "Region": _region_name(region),
            "AlarmArn": alarm.alarm_arn,
            "OldStateValue": old_state,
            "OKActions": list(alarm.ok_actions or []),
            "AlarmActions": list(alarm.alarm_actions or []),
            "InsufficientDataActions": list(alarm.insufficient_data_actions or []),
        }
    )
    if alarm.rule is not None:
        message["AlarmRule"] = alarm.rule
        message["TriggeringChildren"] = [
            {
                "Arn": c.alarm_arn,
                "State": {
                    "Value": c.state_value,
                    "Timestamp": iso_millis(epoch_of(c.state_updated_timestamp)),
                },
            }
            for c in getattr(alarm, "_triggering_children", [])
        ]
        return message
    trigger: dict[str, Any] = {}
    if alarm.metric_data_queries:
        trigger["Metrics"] = [_trigger_query(q) for q in alarm.metric_data_queries]
    else:
        trigger.update(
            {
                "MetricName": alarm.metric_name,
                "Namespace": alarm.namespace,
                "StatisticType": "Statistic" if alarm.statistic else "ExtendedStatistic",
                "Statistic": (alarm.statistic or alarm.extended_statistic or "").upper(),
                "Unit": alarm.unit,
                "Dimensions": _dimensions_list((d.name, d.value) for d in alarm.dimensions),
                "Period": alarm.period,
            }
        )
    trigger.update(
        {
            "EvaluationPeriods": alarm.evaluation_periods,
            "DatapointsToAlarm": alarm.datapoints_to_alarm or alarm.evaluation_periods,
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": alarm.threshold,
            "TreatMissingData": alarm.treat_missing_data or "missing",
            "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile or "",
        }
    )
    message["Trigger"] = trigger
    return message


def _trigger_query(q: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"Id": q.id}
    if q.expression:
        item["Expression"] = q.expression
    if q.label:
        item["Label"] = q.label
    if q.metric_stat is not None:
        stat = q.metric_stat
        item["MetricStat"] = {
            "Metric": {
                "Dimensions": _dimensions_list((d.name, d.value) for d in stat.metric.dimensions),
                "MetricName": stat.metric.metric_name,
                "Namespace": stat.metric.namespace,
            },
            "Period": int(stat.period) if stat.period else None,
            "Stat": stat.stat,
        }
    item["ReturnData"] = q.return_data is None or _truthy(q.return_data)
    return item
