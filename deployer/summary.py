"""Short Markdown summaries for pull requests and job summaries (``--summary-md FILE``).

Per workspace: the add / change / destroy / import counts, the gate's verdict (in a
protected environment, the stateful resources a plan would delete or replace, which
``apply`` refuses without ``--allow-destroy``), the replacements by address, and why the
workspace was selected. Only counts, addresses and reasons: never an attribute value, so
never a secret, and never a full plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from deployer import gate
from deployer.orchestrator import RegionRun, RunStatus

#: What a PR comment can carry comfortably; longer lists are cut with a count.
MAX_ADDRESSES = 20

MARKER = "<!-- deployer-plan -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _addresses(changes: Sequence[gate.Change]) -> list[str]:
    lines = [f"- `{c.address}`" for c in changes[:MAX_ADDRESSES]]
    if len(changes) > MAX_ADDRESSES:
        lines.append(f"- ... and {len(changes) - MAX_ADDRESSES} more")
    return lines


def gate_verdict(run: RegionRun) -> tuple[str, list[gate.Change]]:
    """The gate's verdict on a plan, and the changes it refuses."""
    if run.failed:
        return "-", []
    if not run.scope.protected:
        return "not protected", []
    refused = gate.refused(run.changes, ())
    if refused:
        return f"refuses {len(refused)}", refused
    return "passes", []


def plan_markdown(
    runs: Sequence[RegionRun],
    *,
    title: str,
    reasons: Mapping[str, Sequence[str]] | None = None,
    note: str = "",
) -> str:
    lines = [MARKER, f"## {title}", ""]
    if note:
        lines += [note, ""]
    if not runs:
        lines.append("No workspace to plan.")
        return "\n".join(lines) + "\n"
    lines += [
        "| workspace | status | add | change | destroy | import | gate |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        s = run.summary
        verdict, _ = gate_verdict(run)
        counts = (
            ["-"] * 4
            if run.failed
            else [str(s.get(k, 0)) for k in ("add", "change", "destroy", "import")]
        )
        lines.append(
            f"| {run.workspace.name} | {run.status} | " + " | ".join(counts) + f" | {verdict} |"
        )
    for run in runs:
        details: list[str] = []
        why = (reasons or {}).get(run.workspace.name)
        if why:
            details.append("Selected because: " + "; ".join(_cell(r) for r in why) + ".")
        if run.error is not None:
            details.append(f"Failed: {_cell(run.error.message.splitlines()[0])[:300]}")
        replaced = [c for c in run.changes if c.verb == "replace"]
        if replaced:
            details += ["", f"Replaced ({len(replaced)}):", *_addresses(replaced)]
        verdict, refused = gate_verdict(run)
        if refused:
            details += [
                "",
                f"The gate refuses {len(refused)} (protected environment; apply needs "
                "`--allow-destroy ADDRESS` for each):",
                *_addresses(refused),
            ]
        if details:
            lines += ["", f"### {run.workspace.name}", "", *details]
    status = _overall(runs)
    lines += ["", status]
    return "\n".join(lines) + "\n"


def _overall(runs: Sequence[RegionRun]) -> str:
    failed = sum(r.status is RunStatus.FAILED for r in runs)
    changed = sum(r.has_changes for r in runs if not r.failed)
    parts = [f"{len(runs)} workspace(s) planned", f"{changed} with changes"]
    if failed:
        parts.append(f"{failed} failed")
    return ", ".join(parts) + "."


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


DRIFT_MARKER = "<!-- deployer-drift -->"


def drift_markdown(runs: Sequence[RegionRun], *, title: str, note: str = "") -> str:
    """Per workspace: each drifted resource and attribute (values masked where sensitive),
    then what changed but is left to CodeDeploy (``ignore_changes``), which is not drift."""
    from deployer import drift as drift_report

    lines = [DRIFT_MARKER, f"## {title}", ""]
    if note:
        lines += [note, ""]
    lines += ["| workspace | status | drifted resources |", "|---|---|---:|"]
    for run in runs:
        count = "-" if run.failed else str(len(drift_report.drifted(run.drift)))
        lines.append(f"| {run.workspace.name} | {run.status} | {count} |")
    for run in runs:
        details: list[str] = []
        if run.error is not None:
            details.append(f"Failed: {_cell(run.error.message.splitlines()[0])[:300]}")
        found = drift_report.drifted(run.drift)
        for resource in found[:MAX_ADDRESSES]:
            if resource.action == "delete":
                details.append(f"- `{resource.address}`: deleted outside Terraform")
                continue
            details.append(f"- `{resource.address}`")
            details += [f"  - {_cell(a.describe())}" for a in resource.attributes]
        if len(found) > MAX_ADDRESSES:
            details.append(f"- ... and {len(found) - MAX_ADDRESSES} more")
        left = [r for r in run.drift if r.left_alone]
        if left:
            details += ["", "Left to CodeDeploy (`ignore_changes`), not drift:"]
            details += [f"- `{r.address}`: {', '.join(r.left_alone)}" for r in left]
        if details:
            lines += ["", f"### {run.workspace.name}", "", *details]
    total = sum(len(drift_report.drifted(r.drift)) for r in runs)
    lines += ["", f"{len(runs)} workspace(s) checked, {total} drifted resource(s)."]
    return "\n".join(lines) + "\n"
