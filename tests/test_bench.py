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


@pytest.mark.browser
@pytest.mark.slow
def test_quick_run_writes_json_and_markdown_with_every_area(tmp_path):
    areas = ["decode", "app", "bundles", "projection", "training"] + (
        ["browser", "large"] if browser_available() else []
    )
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


TINY_SPRITES = ["--dataset", "sprites", "--n", "200", "--image-size", "16", "--arch", "mlp", "--hidden", "32"]


def test_mig_seeds_trains_every_seed_and_reports_their_median(tmp_path, capsys):
    from bench.mig_seeds import main

    assert (
        main(
            ["--seeds", "0", "1", "--out-dir", str(tmp_path), "--", *TINY_SPRITES, "--latent-dim", "3", "--epochs", "1"]
        )
        == 0
    )
    summary = json.loads((tmp_path / "mig_seeds.json").read_text())
    migs = [run["mig"] for run in summary["runs"]]
    assert [run["seed"] for run in summary["runs"]] == [0, 1]
    assert (tmp_path / "seed-0.pt").exists() and (tmp_path / "seed-1.pt").exists()
    assert all(0.0 <= m <= 1.0 for m in migs) and summary["median_mig"] == pytest.approx(
        sorted(migs)[0] / 2 + sorted(migs)[1] / 2
    )
    assert set(summary["runs"][0]["gaps"]) == {"shape", "scale", "orientation", "pos_x", "pos_y"}
    assert "median MIG over 2 seeds" in capsys.readouterr().out


def test_mig_seeds_refuses_what_it_sets_and_data_without_factors(tmp_path, capsys):
    from bench.mig_seeds import main

    with pytest.raises(SystemExit):
        main(["--out-dir", str(tmp_path), "--", *TINY_SPRITES, "--seed", "3"])
    assert "set per seed by this script" in capsys.readouterr().err
    digits = ["--dataset", "digits", "--arch", "mlp", "--hidden", "16", "--latent-dim", "2", "--epochs", "1"]
    with pytest.raises(SystemExit, match="no known factors"):
        main(["--seeds", "0", "--out-dir", str(tmp_path), "--", *digits])
