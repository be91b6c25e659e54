"""deployer report --html: the page of test_report's scenario, its charts, and the page
rendered by headless Chromium (Debian's, from bin/chromium)."""

from __future__ import annotations

import base64
import struct
from datetime import timedelta
from pathlib import Path

import pytest

from deployer import report, report_html
from deployer.config import Config
from deployer.report import Report
from tests.runtime.report_checks import REMOTE, check_page, chromium, not_blank, screenshot

from .test_report import NOW, scenario


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    from deployer.config import load

    cfg: Config = load(Path(__file__).resolve().parents[2])
    sources, _ = scenario(cfg)
    found = report.build(sources, cfg, cfg.environment("prod"), timedelta(days=14), now=NOW)
    path = tmp_path_factory.mktemp("html") / "metrics.html"
    report_html.write(found, path)
    return path, found


def test_the_page_holds_the_four_figures(page: tuple[Path, Report]) -> None:
    path, found = page
    text = path.read_text()
    check_page(path, found.to_json())
    # All regions (worked out in test_report): 4 successful of 6 in 14 days; lead time
    # median 3 h 15 min, p90 5 h; 2 of 6 rolled back; restore median 10.5 min, worst 1 h.
    for shown in ("0.29 / day", "2.0 / week", "3h 15m median", "p90 5h 00m", "33%",
                  "2 rolled back of 6 ended", "10m 30s median", "worst 1h 00m"):  # fmt: skip
        assert shown in text, shown
    # us-east-1's row: 50 % failure rate, restore median 6 min, worst 15 min.
    assert "<td>us-east-1</td><td>4 (2 ok, 2 rolled back)</td><td>0.14</td><td>1.0</td>" in text
    assert "<td>50%</td><td>6m 00s</td><td>15m 00s</td>" in text
    assert "DescribeAlarmHistory" in text and "1 alarm episode(s) began during a drill" in text


def test_the_charts_are_pngs_drawn_by_matplotlib(page: tuple[Path, Report]) -> None:
    text = page[0].read_text()
    images = text.split('src="data:image/png;base64,')[1:]
    assert len(images) == 4
    for image in images:
        data = base64.b64decode(image.split('"', 1)[0])
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert 500 < width < 800 and 200 < height < 400, (width, height)
        assert b"matplotlib" in data  # its Software text chunk


def test_no_remote_reference_is_allowed() -> None:
    assert REMOTE.search('<img src="https://cdn.example.com/x.png">')
    assert REMOTE.search("<script src='//cdn.example.com/x.js'>")
    assert not REMOTE.search('<img src="data:image/png;base64,AAAA">')


def test_an_unwritable_path_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    from deployer.errors import UsageError

    with pytest.raises(UsageError, match="does not exist"):
        report_html.check_writable(tmp_path / "no" / "page.html")
    with pytest.raises(UsageError, match="is a folder"):
        report_html.check_writable(tmp_path)
    report_html.check_writable(tmp_path / "page.html")  # a new file in a folder: fine
    assert list(tmp_path.iterdir()) == []


def test_the_page_renders_in_headless_chromium(page: tuple[Path, Report], tmp_path: Path) -> None:
    try:
        binary = chromium()
    except RuntimeError as exc:
        pytest.skip(f"Chromium cannot be installed here: {exc}")
    png = screenshot(page[0], tmp_path / "metrics.png", binary=binary, size=(1400, 1800))
    assert png.stat().st_size > 20_000
    with png.open("rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (1400, 1800)
    # A blank page is one colour; text and four charts are hundreds.
    assert not_blank(png) > 100
