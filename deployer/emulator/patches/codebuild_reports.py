"""CodeBuild: report groups, test reports and their test cases.

moto 5.2.5's CodeBuild knows no report group: CreateReportGroup,
BatchGetReportGroups, ListReportGroups, DeleteReportGroup, ListReports,
ListReportsForReportGroup, BatchGetReports and DescribeTestCases are unknown
actions, so the test results a build's buildspec names under ``reports`` have
nowhere to go and cannot be read.

After the CodeBuild API Reference (ReportGroup, Report, TestReportSummary,
TestCase and those actions) and the user guide ("Report groups", "Create test
reports"), this patch keeps report groups, reports and test cases on each
CodeBuild backend:

* a report group's ARN is ``arn:aws:codebuild:<region>:<account>:report-group/<name>``,
  its type TEST, its exportConfig NO_EXPORT unless given; CreateReportGroup
  refuses a name in use (ResourceAlreadyExistsException);
* the engine (``engines/codebuild.py``) adds one report a build and report group
  (:func:`add_report`): ARN ``.../report/<group>:<uuid>``, ``executionId`` the
  build's ARN, status SUCCEEDED when no test case FAILED or ERROR, else FAILED,
  ``testSummary`` (total, statusCounts, durationInNanoSeconds), ``expired`` 30 days
  after it was created; a report group named by name in a buildspec is the
  project's ``<project>-<name>``, created if missing (:func:`report_group`);
* BatchGetReportGroups and BatchGetReports answer what they know and list the
  rest as not found; ListReportGroups, ListReports and ListReportsForReportGroup
  list ARNs, newest first; DescribeTestCases returns a report's test cases,
  filtered by ``status`` and by ``keyword`` (in the name or the prefix);
  DeleteReportGroup refuses a group with reports unless ``deleteReports``.

Left out: pagination (every item in one page), code coverage reports, report
exports to S3, UpdateReportGroup, GetReportGroupTrend, DeleteReport,
resource policies on report groups.
"""

from __future__ import annotations

from typing import Any

from ._util import add_method
from .codebuild_builds import CLOCK

GAP = (
    "CodeBuild report groups, reports and DescribeTestCases are unknown actions in moto: "
    "a build's test reports cannot be kept or read."
)

EXPIRY_S = 30 * 24 * 3600
FAILING = ("FAILED", "ERROR")


def apply() -> None:
    from moto.codebuild import responses

    cls = responses.CodeBuildResponse
    add_method(cls, "create_report_group", _create_report_group)
    add_method(cls, "batch_get_report_groups", _batch_get_report_groups)
    add_method(cls, "list_report_groups", _list_report_groups)
    add_method(cls, "delete_report_group", _delete_report_group)
    add_method(cls, "list_reports", _list_reports)
    add_method(cls, "list_reports_for_report_group", _list_reports_for_report_group)
    add_method(cls, "batch_get_reports", _batch_get_reports)
    add_method(cls, "describe_test_cases", _describe_test_cases)


# -- the state on a backend -------------------------------------------------------------------


def groups(backend: Any) -> dict[str, dict[str, Any]]:
    """Report group ARN -> ReportGroup."""
    found: dict[str, dict[str, Any]] = backend.__dict__.setdefault("_deployer_report_groups", {})
    return found


def reports(backend: Any) -> dict[str, dict[str, Any]]:
    """Report ARN -> Report."""
    found: dict[str, dict[str, Any]] = backend.__dict__.setdefault("_deployer_reports", {})
    return found


def cases_of(backend: Any) -> dict[str, list[dict[str, Any]]]:
    """Report ARN -> its TestCases."""
    found: dict[str, list[dict[str, Any]]] = backend.__dict__.setdefault("_deployer_test_cases", {})
    return found


def _arn(backend: Any, kind: str, name: str) -> str:
    from moto.utilities.utils import get_partition

    region = backend.region_name
    return f"arn:{get_partition(region)}:codebuild:{region}:{backend.account_id}:{kind}/{name}"


def create_group(
    backend: Any,
    name: str,
    kind: str = "TEST",
    export: dict[str, Any] | None = None,
    tags: list[dict[str, str]] | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    from moto.codebuild.exceptions import ResourceAlreadyExistsException

    arn = _arn(backend, "report-group", name)
    if arn in groups(backend):
        raise ResourceAlreadyExistsException(f"Report group {arn} already exists")
    stamp = CLOCK[0]() if now is None else now
    group = {
        "arn": arn,
        "name": name,
        "type": kind,
        "exportConfig": export or {"exportConfigType": "NO_EXPORT"},
        "created": stamp,
        "lastModified": stamp,
        "tags": tags or [],
        "status": "ACTIVE",
    }
    groups(backend)[arn] = group
    return group


def report_group(backend: Any, name_or_arn: str, project: str, now: float) -> dict[str, Any]:
    """The report group a buildspec's ``reports`` key names: an ARN as given, a name as
    ``<project>-<name>``, created when missing."""
    if name_or_arn.startswith("arn:"):
        found = groups(backend).get(name_or_arn)
        if found is None:
            raise KeyError(name_or_arn)
        return found
    name = f"{project}-{name_or_arn}"
    found = groups(backend).get(_arn(backend, "report-group", name))
    return found if found is not None else create_group(backend, name, now=now)


def add_report(
    backend: Any, group: dict[str, Any], build_arn: str, cases: list[dict[str, Any]], now: float
) -> dict[str, Any]:
    """A build's test report in ``group``, with its test cases (TestCase shapes without
    ``reportArn`` and ``expired``, which are set here)."""
    from moto.moto_api._internal import mock_random

    arn = _arn(backend, "report", f"{group['name']}:{mock_random.uuid4()}")
    counts: dict[str, int] = {}
    for case in cases:
        counts[case["status"]] = counts.get(case["status"], 0) + 1
        case.update(reportArn=arn, expired=now + EXPIRY_S)
    report = {
        "arn": arn,
        "type": group["type"],
        "name": group["name"],
        "reportGroupArn": group["arn"],
        "executionId": build_arn,
        "status": "FAILED" if any(counts.get(s) for s in FAILING) else "SUCCEEDED",
        "created": now,
        "expired": now + EXPIRY_S,
        "exportConfig": group["exportConfig"],
        "truncated": False,
        "testSummary": {
            "total": len(cases),
            "statusCounts": counts,
            "durationInNanoSeconds": sum(int(c.get("durationInNanoSeconds", 0)) for c in cases),
        },
    }
    reports(backend)[arn] = report
    cases_of(backend)[arn] = cases
    return report


# -- the actions ---------------------------------------------------------------------------------


def _result(body: dict[str, Any]) -> Any:
    from moto.core.responses import ActionResult

    return ActionResult(body)


def _invalid(message: str) -> Exception:
    from moto.codebuild.exceptions import InvalidInputException

    return InvalidInputException(message)


def _create_report_group(self: Any) -> Any:
    name = self._get_param("name")
    if not name or not 2 <= len(name) <= 128:
        raise _invalid("Invalid report group name: its length must be from 2 to 128")
    kind = self._get_param("type")
    if kind not in ("TEST", "CODE_COVERAGE"):
        raise _invalid(f"Invalid report group type: {kind}")
    group = create_group(
        self.codebuild_backend, name, kind, self._get_param("exportConfig"),
        self._get_param("tags"),
    )  # fmt: skip
    return _result({"reportGroup": group})


def _batch_get_report_groups(self: Any) -> Any:
    known = groups(self.codebuild_backend)
    asked = self._get_param("reportGroupArns") or []
    return _result(
        {
            "reportGroups": [known[a] for a in asked if a in known],
            "reportGroupsNotFound": [a for a in asked if a not in known],
        }
    )


def _newest_first(items: list[dict[str, Any]], sort_order: str | None) -> list[str]:
    ordered = sorted(items, key=lambda i: float(i["created"]))
    return [i["arn"] for i in (ordered if sort_order == "ASCENDING" else reversed(ordered))]


def _list_report_groups(self: Any) -> Any:
    items = list(groups(self.codebuild_backend).values())
    return _result({"reportGroups": _newest_first(items, self._get_param("sortOrder"))})


def _delete_report_group(self: Any) -> Any:
    from moto.codebuild.exceptions import ResourceNotFoundException

    backend = self.codebuild_backend
    arn = self._get_param("arn")
    if arn not in groups(backend):
        raise ResourceNotFoundException(f"Report group {arn} does not exist")
    owned = [r for r, report in reports(backend).items() if report["reportGroupArn"] == arn]
    if owned and not self._get_param("deleteReports"):
        raise _invalid(f"Cannot delete report group {arn} that has reports")
    for report in owned:
        reports(backend).pop(report, None)
        cases_of(backend).pop(report, None)
    del groups(backend)[arn]
    return _result({})


def _list_reports(self: Any) -> Any:
    items = list(reports(self.codebuild_backend).values())
    return _result({"reports": _newest_first(items, self._get_param("sortOrder"))})


def _list_reports_for_report_group(self: Any) -> Any:
    from moto.codebuild.exceptions import ResourceNotFoundException

    backend = self.codebuild_backend
    arn = self._get_param("reportGroupArn")
    if arn not in groups(backend):
        raise ResourceNotFoundException(f"Report group {arn} does not exist")
    items = [r for r in reports(backend).values() if r["reportGroupArn"] == arn]
    status = (self._get_param("filter") or {}).get("status")
    if status:
        items = [r for r in items if r["status"] == status]
    return _result({"reports": _newest_first(items, self._get_param("sortOrder"))})


def _batch_get_reports(self: Any) -> Any:
    known = reports(self.codebuild_backend)
    asked = self._get_param("reportArns") or []
    return _result(
        {
            "reports": [known[a] for a in asked if a in known],
            "reportsNotFound": [a for a in asked if a not in known],
        }
    )


def _describe_test_cases(self: Any) -> Any:
    from moto.codebuild.exceptions import ResourceNotFoundException

    backend = self.codebuild_backend
    arn = self._get_param("reportArn")
    if arn not in reports(backend):
        raise ResourceNotFoundException(f"Report {arn} does not exist")
    found = list(cases_of(backend).get(arn, []))
    wanted = self._get_param("filter") or {}
    if wanted.get("status"):
        found = [c for c in found if c["status"] == wanted["status"]]
    if wanted.get("keyword"):
        word = wanted["keyword"]
        found = [c for c in found if word in c.get("name", "") or word in c.get("prefix", "")]
    return _result({"testCases": found})
