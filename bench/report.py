"""One measured figure beside its reference, and the JSON / Markdown report of a run.

Every figure is a ratio `ours / reference` of two numbers measured in the same run (these
machines are noisy, so absolute numbers from another day compare badly)."""

from __future__ import annotations

import json
import math
import os
import platform
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import torch


@dataclass(frozen=True)
class Comparison:
    area: str  # training | decode | projection | app | bundles | browser
    case: str  # what was measured, e.g. "mnist.pt, batch 64"
    measure: str  # the quantity and its unit, e.g. "images/s" or "ms"
    ours: float
    reference: float
    reference_name: str  # what the reference is, e.g. "DataLoader(TensorDataset) loop"
    higher_is_better: bool
    goal: float | None = None  # the ratio the issue asks for: >= goal when higher is better, else <=
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.reference if self.reference else math.inf

    @property
    def met(self) -> bool | None:
        if self.goal is None:
            return None
        return self.ratio >= self.goal if self.higher_is_better else self.ratio <= self.goal

    def to_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio, "met": self.met}


def machine() -> dict:
    cuda = torch.cuda.is_available()
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "processor": _processor_name(),
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
    }


def _processor_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _goal(c: Comparison) -> str:
    if c.goal is None:
        return ""
    sign = "≥" if c.higher_is_better else "≤"
    return f"{sign} {c.goal:g}× " + ("✔" if c.met else "✘")


def markdown(results: list[Comparison], info: dict, errors: dict[str, str]) -> str:
    """The run as a Markdown table, grouped by area, with the machine it ran on."""
    lines = [
        f"Benchmark run {info['date']} · {info['processor']}, {info['cpus']} CPUs · torch {info['torch']}"
        + (f" · GPU {info['gpu']}" if info.get("gpu") else " · no GPU")
        + (" · quick smoke run" if info.get("quick") else ""),
        "",
        "| area | case | measure | ours | reference | ours / reference | goal |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in results:
        reference = f"{_number(c.reference)} ({c.reference_name})"
        lines.append(
            f"| {c.area} | {c.case} | {c.measure} | {_number(c.ours)} | {reference} | {c.ratio:.2f}× | {_goal(c)} |"
        )
    notes = [f"- {c.area}, {c.case}: {c.note}" for c in results if c.note]
    if notes:
        lines += ["", *notes]
    if errors:
        lines += ["", *[f"- **{area} failed**: {message}" for area, message in errors.items()]]
    return "\n".join(lines) + "\n"


def write(out_dir: Path, results: list[Comparison], info: dict, errors: dict[str, str]) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "results.json", out_dir / "results.md"
    payload = {"machine": info, "results": [c.to_dict() for c in results], "errors": errors}
    json_path.write_text(json.dumps(payload, indent=2, allow_nan=True) + "\n")
    md_path.write_text(markdown(results, info, errors))
    return json_path, md_path
