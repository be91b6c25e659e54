"""cloudwatch_exact_dimensions: statistics read the metric of exactly the query's dimensions."""

from __future__ import annotations

import datetime
from typing import Any

from ._helpers import unique
from .conftest import Server

NAMESPACE = "AWS/ApplicationELB"


def publish(cloudwatch: Any, metric: str, lb: str, tg: str) -> None:
    """RequestCount as the ELB engine publishes it: by LoadBalancer, and by both."""
    now = datetime.datetime.now(datetime.UTC)
    by_lb = [{"Name": "LoadBalancer", "Value": lb}]
    by_both = [*by_lb, {"Name": "TargetGroup", "Value": tg}]

    def datum(dimensions: list[dict[str, str]], value: float) -> dict[str, Any]:
        return {
            "MetricName": metric,
            "Dimensions": dimensions,
            "Value": value,
            "Unit": "Count",
            "Timestamp": now,
        }

    cloudwatch.put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            datum(by_lb, 3),
            datum(by_lb, 4),
            datum(by_both, 10),
            datum(by_both, 20),
            datum([], 100),
        ],
    )
    # The same metric name and dimensions in another namespace is another metric.
    cloudwatch.put_metric_data(Namespace=f"{NAMESPACE}X", MetricData=[datum(by_lb, 1000)])


def window() -> dict[str, datetime.datetime]:
    now = datetime.datetime.now(datetime.UTC)
    return {
        "StartTime": now - datetime.timedelta(minutes=10),
        "EndTime": now + datetime.timedelta(minutes=10),
    }


def statistics_sum(cloudwatch: Any, metric: str, dimensions: list[dict[str, str]]) -> float:
    points = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=metric,
        Dimensions=dimensions,
        Period=3600,
        Statistics=["Sum"],
        **window(),
    )["Datapoints"]
    return float(sum(p["Sum"] for p in points))


def data_sum(cloudwatch: Any, metric: str, dimensions: list[dict[str, str]]) -> float:
    results = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {
                        "Namespace": NAMESPACE,
                        "MetricName": metric,
                        "Dimensions": dimensions,
                    },
                    "Period": 3600,
                    "Stat": "Sum",
                },
            },
            {"Id": "e", "Expression": "m"},  # moto's math: a query's id only
        ],
        **window(),
    )["MetricDataResults"]
    by_id = {r["Id"]: r["Values"] for r in results}
    assert by_id["e"] == by_id["m"]  # math reads the MetricStat result
    return float(sum(by_id["m"]))


def listed(cloudwatch: Any, metric: str, filters: list[dict[str, str]]) -> list[dict[str, str]]:
    metrics = cloudwatch.list_metrics(Namespace=NAMESPACE, MetricName=metric, Dimensions=filters)
    return sorted(
        ({d["Name"]: d["Value"] for d in m["Dimensions"]} for m in metrics["Metrics"]),
        key=len,
    )


def test_statistics_read_exactly_the_dimensions_queried(patched: Server, stock: Server) -> None:
    lb, tg = f"app/{unique('alb')}/1", f"targetgroup/{unique('tg')}/2"
    by_lb = [{"Name": "LoadBalancer", "Value": lb}]
    # Another order of the same two dimensions is the same metric.
    by_both = [{"Name": "TargetGroup", "Value": tg}, {"Name": "LoadBalancer", "Value": lb}]
    metric = unique("RequestCount")
    cloudwatch = patched.client("cloudwatch")
    publish(cloudwatch, metric, lb, tg)

    for read in (statistics_sum, data_sum):
        assert read(cloudwatch, metric, by_lb) == 7, read.__name__
        assert read(cloudwatch, metric, by_both) == 30, read.__name__
        assert read(cloudwatch, metric, []) == 100, read.__name__
        assert read(cloudwatch, metric, [{"Name": "TargetGroup", "Value": tg}]) == 0

    # ListMetrics filters as its API reference says: metrics that have the dimension.
    assert listed(cloudwatch, metric, by_lb[:1]) == [
        {"LoadBalancer": lb},
        {"LoadBalancer": lb, "TargetGroup": tg},
    ]
    assert listed(cloudwatch, metric, [{"Name": "TargetGroup"}]) == [
        {"LoadBalancer": lb, "TargetGroup": tg}
    ]
    assert listed(cloudwatch, metric, []) == [
        {},
        {"LoadBalancer": lb},
        {"LoadBalancer": lb, "TargetGroup": tg},
    ]

    old = stock.client("cloudwatch")
    publish(old, metric, lb, tg)
    assert statistics_sum(old, metric, by_lb) == 37  # the LoadBalancer+TargetGroup sum added
    assert statistics_sum(old, metric, []) == 137
    assert data_sum(old, metric, by_lb) == 1007  # and the other namespace's
    assert data_sum(old, metric, by_both) == 0  # the order of the dimensions mattered
    assert len(listed(old, metric, by_lb[:1])) == 3  # the two-dimension metric twice
