"""``deployer report --html FILE``: one self-contained page with the four delivery figures.

The page holds the figures of each region (and of all of them) as text, and their trend
over the window as four charts drawn by matplotlib (Agg backend, no display) and embedded
as base64 PNG ``data:`` URIs: deployments per day by outcome, lead time of each successful
deployment, the change failure rate so far, each time to restore. Nothing is fetched when
the page is opened (no script, stylesheet, font or image from the network).

The tests render it with headless Chromium (``tests/runtime/report_checks.py``'s
``screenshot``; Debian's ``chromium``, installed by ``bin/chromium``).
"""

from __future__ import annotations

import base64
import html
import io
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from deployer.atomic import write_atomically
from deployer.errors import UsageError
from deployer.pipeline_runs import iso
from deployer.report import (
    FAILED,
    ROLLED_BACK,
    SUCCEEDED,
    Figures,
    Report,
    duration,
    median,
    nearest_rank,
)

#: Chart size in inches at DPI: 4 charts of 640 x 280 pixels.
CHART_SIZE = (6.4, 2.8)
DPI = 100
COLOURS = {SUCCEEDED: "#2e7d32", ROLLED_BACK: "#c62828", FAILED: "#ef6c00"}


def check_writable(path: Path) -> None:
    """Refuse (usage error, nothing written) a path the page could not be written to."""
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UsageError(f"--html {path}: is a folder; name a file")
    if not parent.is_dir():
        raise UsageError(f"--html {path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"--html {path}: not writable")


def write(report: Report, path: Path) -> None:
    """Write the page to ``path`` whole (a temporary file beside it, then renamed)."""
    write_atomically(path, page(report).encode("utf-8"))


# ---------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------
def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def charts(report: Report) -> dict[str, str]:
    """The four trend charts, each a base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates
    import matplotlib.pyplot as plt

    dates: Any = matplotlib.dates  # untyped in places (DateFormatter)

    everything = report.figures()
    found: dict[str, str] = {}
    days = [report.since + timedelta(days=i) for i in range(max(1, int(report.days + 0.999999)))]

    def axes(title: str, ylabel: str) -> tuple[Any, Any]:
        figure, ax = plt.subplots(figsize=CHART_SIZE)
        ax.set_title(title, fontsize=11)
        ax.set_ylabel(ylabel)
        ax.set_xlim(dates.date2num(report.since), dates.date2num(report.until))
        ax.xaxis.set_major_formatter(dates.DateFormatter("%m-%d"))
        ax.grid(alpha=0.3)
        return figure, ax

    try:
        # 1. Deployments per day, by outcome.
        figure, ax = axes(f"{report.stage} deployments per day", "deployments")
        bottom = [0] * len(days)
        for outcome in (SUCCEEDED, ROLLED_BACK, FAILED):
            counts = [
                sum(
                    1
                    for d in everything.deployments
                    if d.outcome == outcome and d.created and day <= d.created < day + timedelta(1)
                )
                for day in days
            ]
            ax.bar(days, counts, width=0.8, bottom=bottom, align="edge",
                   color=COLOURS[outcome], label=outcome)  # fmt: skip
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
        ax.legend(fontsize=8, loc="upper left")
        found["deployments"] = _png(figure)
        plt.close(figure)

        # 2. Lead time of each successful deployment, with the median.
        figure, ax = axes("Lead time for changes (commit to deployed)", "hours")
        points = [
            (d.completed, d.lead_time / 3600)
            for d in everything.deployments
            if d.lead_time is not None and d.completed
        ]
        _scatter(ax, points, median(everything.lead_times), 3600, "#1565c0")
        found["lead_time"] = _png(figure)
        plt.close(figure)

        # 3. Change failure rate so far, at each deployment's end.
        figure, ax = axes("Change failure rate (so far in the window)", "%")
        ended = sorted(
            (d for d in everything.deployments if d.completed and d.outcome != "in progress"),
            key=lambda d: d.completed or report.since,
        )
        rates, failed = [], 0
        for n, d in enumerate(ended, 1):
            failed += d.outcome == ROLLED_BACK
            rates.append((d.completed, 100 * failed / n))
        if rates:
            ax.step([r[0] for r in rates], [r[1] for r in rates], where="post", color="#c62828")
            ax.plot([r[0] for r in rates], [r[1] for r in rates], "o", color="#c62828")
        ax.set_ylim(0, 100)
        found["change_failure_rate"] = _png(figure)
        plt.close(figure)

        # 4. Each time to restore: alarm episodes and rollbacks, with the median.
        figure, ax = axes("Time to restore", "minutes")
        restores: list[tuple[datetime, float]] = [
            (e.end, (e.seconds or 0) / 60)
            for e in everything.episodes
            if e.end and not e.drill and e.seconds is not None
        ]
        restores += [
            (d.rollback_completed, (d.rollback_seconds or 0) / 60)
            for d in everything.deployments
            if d.rollback_completed and d.rollback_seconds
        ]
        _scatter(ax, restores, median(everything.restore_times), 60, "#6a1b9a")
        found["time_to_restore"] = _png(figure)
        plt.close(figure)
    finally:
        plt.close("all")
    return found


def _scatter(ax: Any, points: list[tuple[Any, float]], middle: float | None,
             unit: float, colour: str) -> None:  # fmt: skip
    if points:
        ax.plot([p[0] for p in points], [p[1] for p in points], "o", color=colour)
    if middle is not None:
        ax.axhline(middle / unit, color=colour, linestyle="--", linewidth=1, label="median")
        ax.legend(fontsize=8, loc="upper left")
    ax.set_ylim(bottom=0)


# ---------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------
STYLE = """
body { font-family: sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { border: 1px solid #ccc; border-radius: 6px; padding: 10px 14px; min-width: 200px; }
.card .value { font-size: 22px; font-weight: bold; }
.card .label { font-size: 12px; color: #555; }
table { border-collapse: collapse; font-size: 13px; }
td, th { border: 1px solid #ddd; padding: 4px 8px; text-align: left; }
.charts { display: grid; grid-template-columns: repeat(2, 660px); gap: 12px; }
.note { font-size: 12px; color: #555; }
"""


def _cards(figures: Figures) -> list[tuple[str, str, str]]:
    """(label, value, detail) of the four figures."""
    lead, restore = figures.lead_times, figures.restore_times
    rate = figures.change_failure_rate
    c = figures.counts
    return [
        (
            "Deployment frequency",
            f"{figures.per_day:.2f} / day",
            f"{figures.per_week:.1f} / week; {c[SUCCEEDED]} successful of "
            f"{len(figures.deployments)} deployments",
        ),
        (
            "Lead time for changes",
            f"{duration(median(lead))} median",
            f"p90 {duration(nearest_rank(lead, 90))}; {len(lead)} deployments",
        ),
        (
            "Change failure rate",
            "-" if rate is None else f"{rate:.0%}",
            f"{c[ROLLED_BACK]} rolled back of {len(figures.deployments) - c['in progress']} ended",
        ),
        (
            "Time to restore",
            f"{duration(median(restore))} median",
            f"worst {duration(max(restore) if restore else None)}; {len(restore)} restores"
            + "".join(f"; {n} from {source}" for source, n in figures.restore_sources.items()),
        ),
    ]


def page(report: Report) -> str:
    e = html.escape
    everything = report.figures()
    cards = "".join(
        f'<div class="card"><div class="label">{e(label)}</div>'
        f'<div class="value">{e(value)}</div><div class="label">{e(detail)}</div></div>'
        for label, value, detail in _cards(everything)
    )
    header = "".join(
        f"<th>{e(c)}</th>"
        for c in ("region", "deployments", "per day", "per week", "lead median", "lead p90",
                  "failure rate", "restore median", "restore worst")
    )  # fmt: skip
    rows = [report.figures(r).row() for r in report.regions]
    if len(report.regions) > 1:
        rows.append(everything.row())
    body_rows = "".join("<tr>" + "".join(f"<td>{e(v)}</td>" for v in r) + "</tr>" for r in rows)
    images = "".join(
        f'<img alt="{e(name.replace("_", " "))}" src="data:image/png;base64,{data}">'
        for name, data in charts(report).items()
    )
    deployments = "".join(
        "<tr>"
        + "".join(
            f"<td>{e(str(v))}</td>"
            for v in (
                d.deployment_id,
                d.service,
                d.region,
                (d.commit or "-")[:12],
                d.outcome,
                duration(d.lead_time),
            )
        )
        + "</tr>"
        for d in report.deployments
    )
    sources = "".join(
        f"<li><b>{e(k.replace('_', ' '))}</b>: {e(v)}</li>" for k, v in report.sources.items()
    )
    episodes = "".join(
        "<tr>"
        + "".join(
            f"<td>{e(str(v))}</td>"
            for v in (
                a.service + (" (drill, left out)" if a.drill else ""),
                a.region,
                iso(a.start) or "-",
                iso(a.end) or "-",
                duration(a.seconds),
                a.source,
            )
        )
        + "</tr>"
        for a in report.episodes
    )
    notes = "".join(f'<p class="note">{e(n)}</p>' for n in report.notes)
    if report.drills_excluded:
        notes += f'<p class="note">{report.drills_excluded} drill deployment(s) left out.</p>'
    title = f"Delivery metrics: {report.environment}"
    since, until = report.since, report.until
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>{STYLE}</style></head>
<body>
<h1>{e(title)} ({e(report.stage)} stage)</h1>
<p>{since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC ({report.days:g} days),
regions {e(", ".join(report.regions))}.</p>
<div class="cards">{cards}</div>
<h2>By region</h2>
<table><tr>{header}</tr>{body_rows}</table>
<h2>Trend over the window</h2>
<div class="charts">{images}</div>
{notes}
<h2>Deployments</h2>
<table><tr><th>deployment</th><th>service</th><th>region</th><th>commit</th><th>outcome</th>
<th>lead time</th></tr>{deployments}</table>
<h2>Alarm episodes</h2>
<table><tr><th>service</th><th>region</th><th>alarm at</th><th>ok at</th><th>lasted</th>
<th>source</th></tr>{episodes}</table>
<h2>Sources</h2>
<ul>{sources}</ul>
</body></html>
"""
