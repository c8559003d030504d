"""The progress line of `hoop import` and `hoop export`: content, redraw limit, quiet when piped."""

from __future__ import annotations

import io

from hoop_async.migrate.progress import ProgressBar


def test_line_shows_rate_eta_and_failures() -> None:
    bar = ProgressBar(8800, label="importing", enabled=True, stream=io.StringIO())

    line = bar.render(4400, 12, elapsed=11.0)

    assert line == (
        "importing  [############............]  4,400/8,800 rows  50%  400 rows/s  ETA 0:11  "
        "rejected 12"
    )


def test_line_without_total_has_no_eta() -> None:
    bar = ProgressBar(None, label="exporting", failures_label="pages", stream=io.StringIO())

    assert bar.render(300, 3, elapsed=2.0) == "exporting  300 rows  150 rows/s  pages 3"


def test_hours_in_eta() -> None:
    bar = ProgressBar(1_000_000, label="importing", enabled=True, stream=io.StringIO())

    assert "ETA 2:46:30" in bar.render(1000, 0, elapsed=10.0)


def test_piped_output_gets_no_bar() -> None:
    stream = io.StringIO()
    bar = ProgressBar(10, label="importing", stream=stream)

    bar.update(5, 0, force=True)
    bar.close()

    assert stream.getvalue() == ""


def test_redraws_at_most_ten_times_a_second() -> None:
    stream = io.StringIO()
    bar = ProgressBar(1000, label="importing", enabled=True, stream=stream)

    for done in range(1, 101):
        bar.update(done, 0)
    bar.update(1000, 0, force=True)
    bar.close()

    assert 2 <= stream.getvalue().count("\r") <= 3
    assert stream.getvalue().endswith("\n")
    assert "1,000/1,000 rows 100%" in stream.getvalue()
