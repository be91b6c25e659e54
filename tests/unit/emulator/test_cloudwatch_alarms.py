"""The CloudWatch alarms engine: the doc's missing-data tables, metric math, alarm rules,
and the engine on a fake clock against moto in-process (states, reasons, SNS, events,
history; one mock_aws for the module, every backend reset before each test:
``_module_moto``)."""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from deployer.emulator.engines.cloudwatch_alarms import (
    ALARM,
    INSUFFICIENT,
    OK,
    CloudWatchAlarms,
    MathError,
    RuleError,
    decide,
    evaluate_expression,
    evaluate_rule,
    java_double,
)
from deployer.emulator.patches import (
    cloudwatch_alarm_history,
    cloudwatch_alarm_initial_state,
    cloudwatch_composite_alarm,
)
from deployer.emulator.scheduler import Scheduler

from ._module_moto import fresh_backends, module_moto

for _patch in (
    cloudwatch_alarm_history,
    cloudwatch_alarm_initial_state,
    cloudwatch_composite_alarm,
):
    _patch.apply()

REGION, ACCOUNT = "us-east-1", "123456789012"
KEEP = "keep"


def window(text: str) -> list[bool | None]:
    return [{"0": False, "X": True, "-": None}[c] for c in text.split()]


def state(text: str, m: int, treat: str) -> str:
    found = decide(window(text), 3, m, treat).state
    return KEEP if found is None else found


# "Configuring how CloudWatch alarms treat missing data": Evaluation Periods 3, evaluation
# range 5, most recent datapoint on the right; columns MISSING, IGNORE, BREACHING, NOT BREACHING.
THREE_OF_THREE = [
    ("0 - X - X", OK, OK, OK, OK),
    ("0 - - - -", OK, OK, OK, OK),
    ("- - - - -", INSUFFICIENT, KEEP, ALARM, OK),
    ("0 X X - X", ALARM, ALARM, ALARM, ALARM),
    ("- - X - -", ALARM, KEEP, ALARM, OK),
    # The earlier edition's rows: a breaching point only in the latest period is premature.
    ("- - - - X", INSUFFICIENT, KEEP, ALARM, OK),
    ("X - - - -", ALARM, KEEP, ALARM, OK),
]
TWO_OF_THREE = [
    ("0 - X - X", ALARM, ALARM, ALARM, ALARM),
    ("0 0 X 0 X", ALARM, ALARM, ALARM, ALARM),
    ("0 - X - -", OK, OK, ALARM, OK),
    ("- - - - 0", OK, OK, ALARM, OK),
    ("- - - X -", ALARM, KEEP, ALARM, OK),
]


@pytest.mark.parametrize(
    ("m", "row"), [(3, r) for r in THREE_OF_THREE] + [(2, r) for r in TWO_OF_THREE]
)
def test_the_docs_missing_data_tables(m: int, row: tuple[str, str, str, str, str]) -> None:
    points, *expected = row
    found = [state(points, m, t) for t in ("missing", "ignore", "breaching", "notBreaching")]
    assert found == expected, points


def test_java_double() -> None:
    assert [java_double(v) for v in (0.0, 1.0, 10.25, 2.5e7, 1e-4, -3.0)] == [
        "0.0",
        "1.0",
        "10.25",
        "2.5E7",
        "1.0E-4",
        "-3.0",
    ]


def test_metric_math_the_projects_expressions() -> None:
    errors = {0.0: 2.0, 60.0: 0.0, 120.0: 5.0}
    requests = {0.0: 10.0, 60.0: 0.0, 180.0: 50.0}
    # Timestamps in both series only; 0/0 gives no value at 60.
    assert evaluate_expression(
        "100 * errors / requests", {"errors": errors, "requests": requests}
    ) == {0.0: 20.0}
    tg0, tg1 = {0.0: 1.0, 60.0: 0.0}, {0.0: 3.0, 120.0: 2.0}
    # MAX of an array: per timestamp, over the series that have a value there.
    assert evaluate_expression("MAX([tg0, tg1])", {"tg0": tg0, "tg1": tg1}) == {
        0.0: 3.0,
        60.0: 0.0,
        120.0: 2.0,
    }
    assert evaluate_expression("MAX(tg1)", {"tg1": tg1}) == 3.0  # one series: a scalar


def test_metric_math_precedence_and_errors() -> None:
    env: dict[str, Any] = {"a": {0.0: 2.0}, "b": {0.0: 4.0}}
    assert evaluate_expression("-(a + b) * 2 ^ 2 - 1", env) == {0.0: -25.0}
    assert evaluate_expression("AVG([a, b]) + SUM([a, b]) / MIN([a, b])", env) == {0.0: 6.0}
    for bad in ("a +", "eval(a)", "a ; b", "unknown * 2", "[a, 1]", "2 / 0", "(a"):
        with pytest.raises(MathError):
            evaluate_expression(bad, env)


def test_alarm_rules() -> None:
    states = {"a": ALARM, "b": OK, "c": INSUFFICIENT, "arn:aws:cloudwatch:r:1:alarm:d": ALARM}

    def holds(rule: str) -> bool:
        return evaluate_rule(rule, states.get)[0]

    assert holds('ALARM("a") OR ALARM("b") OR ALARM("c")')
    assert not holds("ALARM(b) OR ALARM(c)")
    assert holds("ALARM(a) AND OK(b) AND INSUFFICIENT_DATA(c)")
    assert not holds("ALARM(b) AND ALARM(a) OR FALSE")  # AND binds before OR
    assert holds("ALARM(b) AND ALARM(a) OR TRUE")
    assert holds("NOT ALARM(b) AND NOT (OK(a) OR ALARM(missing))")
    assert holds('ALARM("arn:aws:cloudwatch:r:1:alarm:d")')
    assert evaluate_rule('ALARM(a) OR OK("b")', states.get)[1] == ["a", "b"]
    for bad in ("ALARM(a) OR", "ALARM a", "(ALARM(a)", "MAYBE(a)", "ALARM(a) ALARM(b)"):
        with pytest.raises(RuleError):
            evaluate_rule(bad, states.get)


# -- the engine, against moto in-process, on a fake clock --------------------------------------

T0 = 1_796_083_200.0  # 2026-12-01 00:00:00 UTC, on a minute


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, Any]]:
    """One mock_aws and one set of clients for the module (``_module_moto``)."""
    with module_moto(("cloudwatch", "sns", "sqs", "events"), REGION) as made:
        yield made


@pytest.fixture
def aws(clients: dict[str, Any]) -> dict[str, Any]:
    """The clients, on moto backends reset for this test."""
    fresh_backends()
    return clients


def put(cw: Any, namespace: str, name: str, value: float, at: float, **dims: str) -> None:
    cw.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": name,
                "Value": value,
                "Timestamp": datetime.datetime.fromtimestamp(at, datetime.UTC),
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            }
        ],
    )


def alarm(cw: Any, name: str) -> dict[str, Any]:
    found = cw.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    return dict((found["MetricAlarms"] + found["CompositeAlarms"])[0])


SERVICE = {"ClusterName": "acme-dev", "ServiceName": "api"}


def running_tasks_alarm(cw: Any, name: str = "api-running-tasks", **extra: Any) -> None:
    """The project's RunningTaskCount alarm (modules/monitoring/alarms.tf)."""
    settings: dict[str, Any] = {
        "AlarmName": name,
        "Namespace": "ECS/ContainerInsights",
        "MetricName": "RunningTaskCount",
        "Dimensions": [{"Name": k, "Value": v} for k, v in SERVICE.items()],
        "Statistic": "Average",
        "Period": 60,
        "EvaluationPeriods": 3,
        "Threshold": 1.0,
        "ComparisonOperator": "LessThanThreshold",
        "TreatMissingData": "breaching",
    }
    cw.put_metric_alarm(**{k: v for k, v in {**settings, **extra}.items() if v is not None})


def test_running_tasks_from_no_data_to_ok_to_alarm(aws: dict[str, Any]) -> None:
    cw = aws["cloudwatch"]
    running_tasks_alarm(cw)
    assert alarm(cw, "api-running-tasks")["StateValue"] == INSUFFICIENT
    engine = CloudWatchAlarms()
    engine.run(now=T0 + 5)
    found = alarm(cw, "api-running-tasks")
    assert found["StateValue"] == ALARM
    assert found["StateReason"] == (
        "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints "
        "were treated as [Breaching]."
    )

    for minute in range(3):  # 2 tasks running in 00:00, 00:01, 00:02
        put(cw, "ECS/ContainerInsights", "RunningTaskCount", 2.0, T0 + 60 * minute + 30, **SERVICE)
    engine.run(now=T0 + 185)
    found = alarm(cw, "api-running-tasks")
    assert found["StateValue"] == OK
    assert found["StateReason"] == (
        "Threshold Crossed: 3 out of the last 3 datapoints [2.0 (01/12/26 00:02:00), "
        "2.0 (01/12/26 00:01:00), 2.0 (01/12/26 00:00:00)] were not less than the threshold "
        "(1.0) (minimum 1 datapoint for ALARM -> OK transition)."
    )
    data = json.loads(found["StateReasonData"])
    assert data["statistic"] == "Average" and data["period"] == 60 and data["threshold"] == 1.0
    assert data["recentDatapoints"] == [2.0, 2.0, 2.0]
    assert data["startDate"] == "2026-12-01T00:00:00.000+0000"
    assert data["evaluatedDatapoints"][0] == {
        "timestamp": "2026-12-01T00:02:00.000+0000",
        "sampleCount": 1.0,
        "value": 2.0,
    }

    for minute in range(3, 6):  # the tasks die: 0 running in 00:03, 00:04, 00:05
        put(cw, "ECS/ContainerInsights", "RunningTaskCount", 0.0, T0 + 60 * minute + 30, **SERVICE)
    # Another service's metric (an extra dimension) does not count.
    put(cw, "ECS/ContainerInsights", "RunningTaskCount", 9.0, T0 + 330, Extra="x", **SERVICE)
    engine.run(now=T0 + 365)
    found = alarm(cw, "api-running-tasks")
    assert found["StateValue"] == ALARM
    assert found["StateReason"] == (
        "Threshold Crossed: 3 out of the last 3 datapoints [0.0 (01/12/26 00:05:00), "
        "0.0 (01/12/26 00:04:00), 0.0 (01/12/26 00:03:00)] were less than the threshold (1.0) "
        "(minimum 3 datapoints for OK -> ALARM transition)."
    )
    assert found["StateUpdatedTimestamp"].timestamp() == T0 + 365
    assert engine.status()["alarms"] == {OK: 0, ALARM: 1, INSUFFICIENT: 0}
    assert engine.status()["transitions"] == 3


@pytest.mark.parametrize(
    ("treat", "expected"),
    [("missing", INSUFFICIENT), ("ignore", OK), ("notBreaching", OK), ("breaching", ALARM)],
)
def test_each_treat_missing_data_when_the_data_stops(
    aws: dict[str, Any], treat: str, expected: str
) -> None:
    cw = aws["cloudwatch"]
    running_tasks_alarm(cw, TreatMissingData=treat)
    engine = CloudWatchAlarms()
    for minute in range(3):
        put(cw, "ECS/ContainerInsights", "RunningTaskCount", 2.0, T0 + 60 * minute, **SERVICE)
    engine.run(now=T0 + 180)
    assert alarm(cw, "api-running-tasks")["StateValue"] == OK
    engine.run(now=T0 + 60 * 9)  # nothing for six minutes: the range holds no datapoint
    assert alarm(cw, "api-running-tasks")["StateValue"] == expected


def test_m_out_of_n(aws: dict[str, Any]) -> None:
    cw = aws["cloudwatch"]
    running_tasks_alarm(cw, EvaluationPeriods=3, DatapointsToAlarm=2, TreatMissingData="missing")
    engine = CloudWatchAlarms()
    for minute, value in enumerate([2.0, 0.0, 2.0]):
        put(cw, "ECS/ContainerInsights", "RunningTaskCount", value, T0 + 60 * minute, **SERVICE)
    engine.run(now=T0 + 180)
    assert alarm(cw, "api-running-tasks")["StateValue"] == OK  # 1 of 3 breaching
    put(cw, "ECS/ContainerInsights", "RunningTaskCount", 0.0, T0 + 180, **SERVICE)
    engine.run(now=T0 + 240)
    found = alarm(cw, "api-running-tasks")
    assert found["StateValue"] == ALARM  # 0 2 0: 2 of the last 3
    assert found["StateReason"].startswith("Threshold Crossed: 2 out of the last 3 datapoints [")
    assert found["StateReason"].endswith("(minimum 2 datapoints for OK -> ALARM transition).")


def metric_query(qid: str, name: str, stat: str, **dims: str) -> dict[str, Any]:
    return {
        "Id": qid,
        "ReturnData": False,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/ApplicationELB",
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            },
            "Period": 60,
            "Stat": stat,
        },
    }


ALB = "app/acme-dev/0123456789abcdef"


def test_the_projects_metric_math_alarms(aws: dict[str, Any]) -> None:
    cw = aws["cloudwatch"]
    tg = {"tg0": "targetgroup/blue/1", "tg1": "targetgroup/green/2"}
    cw.put_metric_alarm(
        AlarmName="api-unhealthy-targets",
        EvaluationPeriods=3,
        Threshold=0.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
        Metrics=[
            {"Id": "unhealthy", "Expression": "MAX([tg0, tg1])", "ReturnData": True},
            *(
                metric_query(q, "UnHealthyHostCount", "Maximum", LoadBalancer=ALB, TargetGroup=v)
                for q, v in tg.items()
            ),
        ],
    )
    cw.put_metric_alarm(
        AlarmName="api-5xx-rate",
        EvaluationPeriods=3,
        Threshold=5.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
        Metrics=[
            {"Id": "rate", "Expression": "100 * errors / requests", "ReturnData": True},
            metric_query("errors", "HTTPCode_Target_5XX_Count", "Sum", LoadBalancer=ALB),
            metric_query("requests", "RequestCount", "Sum", LoadBalancer=ALB),
        ],
    )
    engine = CloudWatchAlarms()
    engine.run(now=T0)
    assert alarm(cw, "api-unhealthy-targets")["StateValue"] == OK  # no data: not breaching
    assert alarm(cw, "api-5xx-rate")["StateValue"] == OK

    for minute in range(3):
        at = T0 + 60 * minute
        put(
            cw,
            "AWS/ApplicationELB",
            "UnHealthyHostCount",
            0.0,
            at,
            LoadBalancer=ALB,
            TargetGroup=tg["tg0"],
        )
        put(
            cw,
            "AWS/ApplicationELB",
            "UnHealthyHostCount",
            2.0,
            at + 1,
            LoadBalancer=ALB,
            TargetGroup=tg["tg1"],
        )
        for second in range(10):  # 10 requests a minute, 1 answered 5XX (10 %): Sum
            put(cw, "AWS/ApplicationELB", "RequestCount", 1.0, at + second, LoadBalancer=ALB)
        put(cw, "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", 1.0, at + 5, LoadBalancer=ALB)
    engine.run(now=T0 + 180)
    unhealthy = alarm(cw, "api-unhealthy-targets")
    assert unhealthy["StateValue"] == ALARM  # the green target group's 2
    assert "[2.0 (01/12/26 00:02:00), 2.0 (01/12/26 00:01:00)" in unhealthy["StateReason"]
    assert "statistic" not in json.loads(unhealthy["StateReasonData"])
    rate = alarm(cw, "api-5xx-rate")
    assert rate["StateValue"] == ALARM
    assert "[10.0 (01/12/26 00:02:00)" in rate["StateReason"]
    assert "were greater than the threshold (5.0)" in rate["StateReason"]


def test_composite_or_notifies_through_sns_and_puts_the_event(aws: dict[str, Any]) -> None:
    cw, sns, sqs, events = aws["cloudwatch"], aws["sns"], aws["sqs"], aws["events"]
    topic = sns.create_topic(Name="acme-dev-notifications")["TopicArn"]
    notes = sqs.create_queue(QueueName="notes")["QueueUrl"]
    notes_arn = sqs.get_queue_attributes(QueueUrl=notes, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=notes_arn)
    guard = sqs.create_queue(QueueName="guard")["QueueUrl"]
    guard_arn = sqs.get_queue_attributes(QueueUrl=guard, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    # The deploy guard's rule (modules/deploy-guard/main.tf), with a queue as its target.
    events.put_rule(
        Name="deploy-guard-alarms",
        EventPattern=json.dumps(
            {
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "detail": {"alarmName": ["api-running-tasks"], "state": {"value": ["ALARM"]}},
            }
        ),
    )
    events.put_targets(Rule="deploy-guard-alarms", Targets=[{"Id": "guard", "Arn": guard_arn}])

    running_tasks_alarm(cw, TreatMissingData="notBreaching")
    for other in ("api-unhealthy-targets", "api-5xx-rate"):
        running_tasks_alarm(cw, name=other, Threshold=-1.0, TreatMissingData="notBreaching")
    rule = 'ALARM("api-running-tasks") OR ALARM("api-unhealthy-targets") OR ALARM("api-5xx-rate")'
    cw.put_composite_alarm(
        AlarmName="api-health",
        AlarmDescription="api is unhealthy",
        AlarmRule=rule,
        ActionsEnabled=True,
        AlarmActions=[topic],
        OKActions=[topic],
    )
    engine = CloudWatchAlarms()
    engine.run(now=T0)
    health = alarm(cw, "api-health")
    assert health["StateValue"] == OK
    assert health["StateReason"].endswith(
        ":alarm:api-health was created and its alarm rule evaluates to OK"
    )
    first = json.loads(json.loads(receive(sqs, notes)[0])["Message"])
    assert (first["OldStateValue"], first["NewStateValue"]) == (INSUFFICIENT, OK)

    for minute in range(3):
        put(cw, "ECS/ContainerInsights", "RunningTaskCount", 0.0, T0 + 60 * minute, **SERVICE)
    engine.run(now=T0 + 180)
    assert alarm(cw, "api-running-tasks")["StateValue"] == ALARM
    health = alarm(cw, "api-health")
    assert health["StateValue"] == ALARM
    arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:api-running-tasks"
    assert health["StateReason"] == (
        f"{arn} transitioned to ALARM at Tuesday 01 December, 2026 00:03:00 UTC"
    )

    (body,) = receive(sqs, notes)
    envelope = json.loads(body)
    assert envelope["Subject"] == 'ALARM: "api-health" in US East (N. Virginia)'
    message = json.loads(envelope["Message"])
    assert message["AlarmName"] == "api-health"
    assert message["AlarmDescription"] == "api is unhealthy"
    assert message["AWSAccountId"] == ACCOUNT
    assert (message["OldStateValue"], message["NewStateValue"]) == (OK, ALARM)
    assert message["NewStateReason"] == health["StateReason"]
    assert message["StateChangeTime"] == "2026-12-01T00:03:00.000+0000"
    assert message["Region"] == "US East (N. Virginia)"
    assert message["AlarmArn"].endswith(":alarm:api-health")
    assert message["AlarmRule"] == rule
    assert message["TriggeringChildren"] == [
        {"Arn": arn, "State": {"Value": ALARM, "Timestamp": "2026-12-01T00:03:00.000+0000"}}
    ]

    (raw,) = receive(sqs, guard)  # the metric alarm's ALARM event matched the rule
    event = json.loads(raw)
    assert event["source"] == "aws.cloudwatch"
    assert event["detail-type"] == "CloudWatch Alarm State Change"
    assert event["resources"] == [arn]
    detail = event["detail"]
    assert detail["alarmName"] == "api-running-tasks"
    assert detail["state"]["value"] == ALARM
    assert detail["state"]["reason"].startswith("Threshold Crossed: 3 out of the last 3")
    assert json.loads(detail["state"]["reasonData"])["recentDatapoints"] == [0.0, 0.0, 0.0]
    assert detail["previousState"]["value"] == OK
    (metric,) = detail["configuration"]["metrics"]
    assert metric["metricStat"]["metric"] == {
        "namespace": "ECS/ContainerInsights",
        "name": "RunningTaskCount",
        "dimensions": SERVICE,
    }

    # The metric alarms have no actions; no more SNS messages than the composite's two.
    history = cw.describe_alarm_history(AlarmName="api-health", AlarmTypes=["CompositeAlarm"])
    kinds = [(i["HistoryItemType"], i["HistorySummary"]) for i in history["AlarmHistoryItems"]]
    assert kinds[:2] == [
        ("Action", f"Successfully executed action {topic}"),
        ("StateUpdate", "Alarm updated from OK to ALARM"),
    ]
    assert kinds[-1] == ("ConfigurationUpdate", 'Alarm "api-health" created')
    update = json.loads(history["AlarmHistoryItems"][1]["HistoryData"])
    assert update["oldState"]["stateValue"] == OK
    assert update["newState"]["stateValue"] == ALARM
    assert update["newState"]["stateReasonData"]["triggeringAlarms"][0]["arn"] == arn


def test_actions_only_when_enabled_and_events_always(aws: dict[str, Any]) -> None:
    cw, sns, sqs = aws["cloudwatch"], aws["sns"], aws["sqs"]
    topic = sns.create_topic(Name="t")["TopicArn"]
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    running_tasks_alarm(
        cw, AlarmActions=[topic], OKActions=[topic], InsufficientDataActions=[topic]
    )
    cw.disable_alarm_actions(AlarmNames=["api-running-tasks"])
    engine = CloudWatchAlarms()
    engine.run(now=T0)
    assert alarm(cw, "api-running-tasks")["StateValue"] == ALARM
    assert receive(sqs, queue) == []
    assert engine.status()["events"] == 1  # put whether actions are enabled or not

    cw.enable_alarm_actions(AlarmNames=["api-running-tasks"])
    for minute in range(3):
        put(cw, "ECS/ContainerInsights", "RunningTaskCount", 2.0, T0 + 60 * minute, **SERVICE)
    engine.run(now=T0 + 180)
    (body,) = receive(sqs, queue)
    message = json.loads(json.loads(body)["Message"])
    assert (message["OldStateValue"], message["NewStateValue"]) == (ALARM, OK)
    assert message["Trigger"] == {
        "MetricName": "RunningTaskCount",
        "Namespace": "ECS/ContainerInsights",
        "StatisticType": "Statistic",
        "Statistic": "AVERAGE",
        "Unit": None,
        "Dimensions": [
            {"value": "acme-dev", "name": "ClusterName"},
            {"value": "api", "name": "ServiceName"},
        ],
        "Period": 60,
        "EvaluationPeriods": 3,
        "DatapointsToAlarm": 3,
        "ComparisonOperator": "LessThanThreshold",
        "Threshold": 1.0,
        "TreatMissingData": "breaching",
        "EvaluateLowSampleCountPercentile": "",
    }
    engine.run(now=T0 + 240)  # no change, no message
    assert receive(sqs, queue) == []


def test_a_standard_alarm_is_evaluated_once_a_minute(aws: dict[str, Any]) -> None:
    cw = aws["cloudwatch"]
    running_tasks_alarm(cw)
    engine = CloudWatchAlarms()
    engine.run(now=T0)
    cw.set_alarm_state(AlarmName="api-running-tasks", StateValue=OK, StateReason="testing")
    engine.run(now=T0 + 10)  # ten seconds later: not due yet
    assert alarm(cw, "api-running-tasks")["StateValue"] == OK
    engine.run(now=T0 + 60)  # "until the next alarm comparison occurs"
    assert alarm(cw, "api-running-tasks")["StateValue"] == ALARM


def receive(sqs: Any, url: str) -> list[str]:
    found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    for message in found:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [m["Body"] for m in found]


def test_on_the_emulated_clock(aws: dict[str, Any]) -> None:
    cw = aws["cloudwatch"]
    running_tasks_alarm(cw)
    clock = Scheduler(600.0)  # ten emulated minutes a second
    engine = CloudWatchAlarms()
    clock.register(engine)
    clock.start()
    try:
        deadline = time.monotonic() + 10
        while alarm(cw, "api-running-tasks")["StateValue"] != ALARM:
            assert time.monotonic() < deadline, "the alarm was not evaluated in time"
            time.sleep(0.05)
    finally:
        clock.stop()
    assert engine.status()["last_evaluation"] is not None
    assert engine.status()["alarms"][ALARM] == 1


def stored_data() -> list[Any]:
    from moto.cloudwatch.models import cloudwatch_backends

    return list(cloudwatch_backends[ACCOUNT][REGION].metric_data)


def test_data_put_without_a_timestamp_is_stamped_on_the_emulated_clock(
    aws: dict[str, Any],
) -> None:
    """PutMetricData's Timestamp defaults to when the data is received: the emulator's
    time, which runs ahead of the wall clock above time scale 1 (the traffic switch of
    ``deployer dr failover`` is put so)."""
    cw = aws["cloudwatch"]
    clock = Scheduler(600.0)
    clock.register(CloudWatchAlarms())
    clock.start()
    try:
        time.sleep(0.2)  # two emulated minutes ahead of the wall clock, at least
        cw.put_metric_data(
            Namespace="Deployer/DR",
            MetricData=[{"MetricName": "TrafficSwitch", "Value": 1.0,
                         "Dimensions": [{"Name": "Environment", "Value": "prod"}]}],
        )  # fmt: skip
        emulated = clock.now()
    finally:
        clock.stop()
    (datum,) = [d for d in stored_data() if d.name == "TrafficSwitch"]
    stamped = datum.timestamp.replace(tzinfo=datetime.UTC).timestamp()
    assert emulated - 60 < stamped <= emulated, (stamped, emulated, time.time())
    assert stamped > time.time() + 60  # not the wall clock
    # a stopped clock stamps nothing: moto's wall clock again
    cw.put_metric_data(
        Namespace="Deployer/DR",
        MetricData=[{"MetricName": "After", "Value": 0.0}],
    )  # fmt: skip
    (after,) = [d for d in stored_data() if d.name == "After"]
    assert abs(after.timestamp.replace(tzinfo=datetime.UTC).timestamp() - time.time()) < 30


def test_what_is_left_out_keeps_its_state(aws: dict[str, Any]) -> None:
    cw = aws["cloudwatch"]
    running_tasks_alarm(cw, name="p99", Statistic=None, ExtendedStatistic="p99")
    cw.put_metric_alarm(
        AlarmName="p99-math",
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="LessThanThreshold",
        TreatMissingData="breaching",
        Metrics=[
            metric_query("m", "TargetResponseTime", "p99", LoadBalancer=ALB) | {"ReturnData": True}
        ],
    )
    CloudWatchAlarms().run(now=T0)
    assert alarm(cw, "p99")["StateValue"] == INSUFFICIENT
    assert alarm(cw, "p99-math")["StateValue"] == INSUFFICIENT
