"""CloudWatch: a metric is its exact set of dimensions, in statistics and in ListMetrics.

After the CloudWatch User Guide ("Dimensions": each unique combination of
dimensions is a separate metric; you can't retrieve statistics for a combination
you did not publish) and the GetMetricStatistics and MetricStat API references
("you must specify the same dimensions that were used when the metrics were
created"): GetMetricStatistics and GetMetricData's MetricStat queries read only
the datapoints of the metric whose namespace, name and dimension set (names and
values, in any order, no more, no fewer) are the query's. A query without
dimensions reads the metric published without dimensions. moto 5.2.5 instead
adds every datapoint whose dimensions include the query's (GetMetricStatistics),
or every datapoint of the name whatever its dimensions when the query has none;
with dimensions, GetMetricData ignores the namespace and misses a multi-dimension
metric whose dimensions come in another order. The ELB engine publishes
RequestCount both by LoadBalancer and by LoadBalancer and TargetGroup, so a sum
by LoadBalancer came out doubled.

ListMetrics keeps the filter its API reference documents (a metric that has the
given dimensions, and others, is returned; a DimensionFilter without Value matches
any value), but lists each metric once: moto listed a metric of two or more
dimensions, or of none, once per datapoint.

Left out: statistics by unit conversion, percentiles (ExtendedStatistics), the
metric math and Metrics Insights queries (still moto's: math runs on the
MetricStat results this patch computes), ListMetrics' RecentlyActive and the
two-week listing window.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from ._util import replace

GAP = (
    "CloudWatch GetMetricStatistics and GetMetricData add the datapoints of every metric "
    "whose dimensions include the query's (a sum by LoadBalancer also counts the "
    "LoadBalancer+TargetGroup metric), and ListMetrics repeats multi-dimension metrics."
)

DimensionKey = frozenset[tuple[str, str]]


def dimension_key(dimensions: Iterable[Any]) -> DimensionKey:
    """A metric's identity within its name: its set of (name, value) pairs.

    ``dimensions`` are moto ``Dimension`` objects or API ``{"Name", "Value"}`` dicts.
    """
    pairs = set()
    for d in dimensions:
        if isinstance(d, dict):
            pairs.add((str(d["Name"]), str(d["Value"])))
        else:
            pairs.add((str(d.name), str(d.value)))
    return frozenset(pairs)


def same_metric(datum: Any, namespace: str, name: str, key: DimensionKey) -> bool:
    """Whether a stored datapoint belongs to the metric (namespace, name, dimensions)."""
    return bool(
        datum.namespace == namespace
        and datum.name == name
        and dimension_key(datum.dimensions) == key
    )


def _statistics(backend: Any, params: dict[str, Any]) -> list[Any]:
    """GetMetricStatistics over the exact metric, bucketed as moto buckets."""
    from moto.cloudwatch.exceptions import InvalidParameterValue
    from moto.cloudwatch.models import Statistics, daterange

    start: datetime = params["start_time"].replace(microsecond=0)
    end: datetime = params["end_time"].replace(microsecond=0)
    if start >= end:
        raise InvalidParameterValue(
            "The parameter StartTime must be less than the parameter EndTime."
        )
    key = dimension_key(params["dimensions"] or [])
    unit = params["unit"]
    found = sorted(
        (
            md
            for md in backend.get_all_metrics()
            if same_metric(md, params["namespace"], params["metric_name"], key)
            and start <= md.timestamp < end
            and (not unit or md.unit == unit)
        ),
        key=lambda md: md.timestamp,
    )
    if not found:
        return []
    period = timedelta(seconds=params["period"])
    data: list[Any] = []
    index = 0
    for moment in daterange(found[0].timestamp, found[-1].timestamp + period, period):
        bucket = Statistics(params["stats"], moment)
        while index < len(found) and found[index].timestamp < moment + period:
            bucket.metric_data.append(found[index])
            bucket.unit = found[index].unit
            index += 1
        if bucket.metric_data:
            data.append(bucket)
    return data


def _metric_stat(
    backend: Any, query: dict[str, Any], start: datetime, end: datetime, descending: bool
) -> dict[str, Any]:
    """One MetricStat query's result, over the exact metric, as moto shapes it."""
    from moto.cloudwatch.models import Statistics

    stat_query = query["MetricStat"]
    metric = stat_query["Metric"]
    namespace, name = metric["Namespace"], metric["MetricName"]
    key = dimension_key(metric.get("Dimensions") or [])
    unit, stat = stat_query.get("Unit"), stat_query["Stat"]
    found = [
        md
        for md in backend.get_all_metrics()
        if same_metric(md, namespace, name, key)
        and start <= md.timestamp < end
        and (not unit or md.unit == unit)
    ]
    delta = timedelta(seconds=int(stat_query["Period"]))
    values: list[Any] = []
    timestamps: list[datetime] = []
    moment = start
    while moment <= end:
        in_period = [md for md in found if moment <= md.timestamp < moment + delta]
        if in_period:
            bucket = Statistics([stat], moment)
            bucket.metric_data = in_period
            values.append(bucket.get_statistics_for_type(stat))
            timestamps.append(bucket.timestamp)
        moment += delta
    if descending:
        values.reverse()
        timestamps.reverse()
    return {
        "id": query["Id"],
        "label": query.get("Label") or f"{name} {stat}",
        "values": values,
        "timestamps": timestamps,
        "status_code": "Complete",
    }


def apply() -> None:
    from moto.cloudwatch.metric_data_expression_parser import parse_expression
    from moto.cloudwatch.models import CloudWatchBackend

    def get_metric_statistics(_original: Any) -> Any:
        def statistics(
            self: Any,
            namespace: str,
            metric_name: str,
            start_time: datetime,
            end_time: datetime,
            period: int,
            stats: list[str],
            dimensions: list[dict[str, str]],
            unit: str | None = None,
        ) -> list[Any]:
            return _statistics(
                self,
                {
                    "namespace": namespace,
                    "metric_name": metric_name,
                    "start_time": start_time,
                    "end_time": end_time,
                    "period": period,
                    "stats": stats,
                    "dimensions": dimensions,
                    "unit": unit,
                },
            )

        return statistics

    replace(CloudWatchBackend, "get_metric_statistics", get_metric_statistics)

    def get_metric_data(original: Any) -> Any:
        def metric_data(
            self: Any,
            queries: list[dict[str, Any]],
            start_time: datetime,
            end_time: datetime,
            scan_by: str = "TimestampAscending",
        ) -> list[dict[str, Any]]:
            # moto's own run validates the times and answers the Metrics Insights
            # (SELECT) queries, which it returns last; the MetricStat queries, and
            # the math that reads them, are answered here.
            insights = [q for q in queries if q.get("Expression", "").startswith("SELECT")]
            insights_results: list[dict[str, Any]] = original(
                self, queries=insights, start_time=start_time, end_time=end_time, scan_by=scan_by
            )
            start, end = start_time.replace(microsecond=0), end_time.replace(microsecond=0)
            descending = scan_by == "TimestampDescending"
            results = [
                _metric_stat(self, q, start, end, descending) for q in queries if "MetricStat" in q
            ]
            returned = [
                r
                for q, r in zip([q for q in queries if "MetricStat" in q], results, strict=True)
                if q.get("ReturnData", True)
            ]
            for query in queries:
                expression = query.get("Expression")
                if expression is None or expression.startswith("SELECT"):
                    continue
                values, timestamps = parse_expression(expression, results)
                returned.append(
                    {
                        "id": query["Id"],
                        "label": query.get("Label") or query["Id"],
                        "values": values,
                        "timestamps": timestamps,
                        "status_code": "Complete",
                    }
                )
            return returned + insights_results

        return metric_data

    replace(CloudWatchBackend, "get_metric_data", get_metric_data)

    def get_filtered_metrics(original: Any) -> Any:
        def listed(
            self: Any, metric_name: str, namespace: str, dimensions: list[dict[str, str]]
        ) -> list[Any]:
            seen: set[tuple[str, str, DimensionKey]] = set()
            metrics = []
            for md in original(self, metric_name, namespace, dimensions):
                identity = (md.namespace, md.name, dimension_key(md.dimensions))
                if identity not in seen:
                    seen.add(identity)
                    metrics.append(md)
            return metrics

        return listed

    replace(CloudWatchBackend, "get_filtered_metrics", get_filtered_metrics)
