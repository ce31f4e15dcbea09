"""The benchmark entry point: its report logic, and the quick smoke run CI makes."""

import json
import math
import subprocess
import sys

import pytest
from browser_support import browser_available

from bench.report import Comparison, markdown
from conftest import REPO


def test_ratio_and_goal_follow_the_direction_of_better():
    faster = Comparison("training", "c", "images/s", 300.0, 100.0, "loop", higher_is_better=True, goal=2.0)
    assert faster.ratio == 3.0 and faster.met is True
    slower = Comparison("decode", "c", "ms", 1.2, 1.0, "bare", higher_is_better=False, goal=1.1)
    assert slower.ratio == pytest.approx(1.2) and slower.met is False
    assert Comparison("app", "c", "ms", 5.0, 1.0, "empty", higher_is_better=False).met is None
    table = markdown([faster, slower], {"date": "d", "processor": "p", "cpus": 2, "torch": "t"}, {"browser": "boom"})
    assert "| training | c | images/s | 300 | 100 (loop) | 3.00× | ≥ 2× ✔ |" in table
    assert "≤ 1.1× ✘" in table and "**browser failed**: boom" in table


def test_quick_run_writes_json_and_markdown_with_every_area(tmp_path):
    areas = ["decode", "app", "projection", "training"] + (["browser"] if browser_available() else [])
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path), "--only", *areas],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "results.json").read_text())
    assert report["errors"] == {} and report["machine"]["quick"] is True
    assert {r["area"].split(" ")[0] for r in report["results"]} == set(areas)
    for row in report["results"]:
        assert row["ours"] > 0 and row["reference"] > 0 and math.isfinite(row["ratio"]), row
    table = (tmp_path / "results.md").read_text()
    assert table.count("\n| ") == len(report["results"]) + 1  # a row per figure under the header
