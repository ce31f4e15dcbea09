"""A sweep: one model per value of β or of free bits, otherwise trained alike, named
`NAME-VALUE.pt` and tagged with the sweep's name so the Compare page can show them together."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from vae.errors import TrainingError
from vae.training.jobs import SWEEP_FILE, JobState, check_can_start, checkpoint_name, job_folder, start_job

# The swept training option and how it is written in a model name and in words.
PARAMETERS = {"beta": "β", "free_bits": "free bits"}
MAX_MEMBERS = 12


@dataclass(frozen=True)
class SweepMember:
    name: str  # checkpoint file name, e.g. digits-beta-0.5.pt
    value: float


def parse_values(text: str | list) -> list[float]:
    """'0.5, 1 2;4' or a list -> [0.5, 1.0, 2.0, 4.0]: distinct, finite, non-negative, in the order given."""
    parts = text if isinstance(text, list) else text.replace(",", " ").replace(";", " ").split()
    values: list[float] = []
    names: set[str] = set()
    for part in parts:
        try:
            value = float(part)
        except (TypeError, ValueError):
            raise TrainingError(f"{part!r} is not a number: give values like 0.5, 1, 2, 4") from None
        if not math.isfinite(value) or value < 0:
            raise TrainingError(f"sweep values must be finite and at least 0, got {part}")
        if f"{value:g}" in names and value not in values:
            raise TrainingError(
                f"{part} and another value both name a model …-{value:g}.pt: give values that differ more"
            )
        if value not in values:
            values.append(value)
            names.add(f"{value:g}")
    if len(values) < 2:
        raise TrainingError("a sweep needs at least two different values")
    if len(values) > MAX_MEMBERS:
        raise TrainingError(f"a sweep trains at most {MAX_MEMBERS} models, got {len(values)} values")
    return values


def sweep_members(name: str, values: list[float]) -> list[SweepMember]:
    """One checkpoint name per value: NAME-0.5.pt, NAME-1.pt, …"""
    name = name.strip().removesuffix(".pt")
    return [SweepMember(f"{name}-{value:g}.pt", value) for value in values]


def member_config(train_config: dict, parameter: str, value: float, sweep: str) -> dict:
    """The training options of one member: the shared ones with the swept value and the tag."""
    if parameter not in PARAMETERS:
        raise TrainingError(f"a sweep varies one of {sorted(PARAMETERS)}, not {parameter!r}")
    return {**train_config, parameter: float(value), "sweep": sweep}


# -- as background jobs (the Train page) ------------------------------------------------------


@dataclass(frozen=True)
class SweepProgress:
    name: str
    parameter: str
    values: list[float]
    members: list[str]  # checkpoint names, in training order
    current: int  # index of the member the job is (or was last) training

    @property
    def label(self) -> str:
        return PARAMETERS[self.parameter]


def start_sweep(
    models_dir: Path,
    name: str,
    parameter: str,
    values: list[float],
    train_config: dict,
    model_config: dict,
    overwrite: bool = False,
) -> JobState:
    """Start a sweep as background jobs, one member at a time: the first starts now, and each
    finished member starts the next (`continue_sweep`). Refuses (TrainingError) like
    `start_job`, and when any member's name is taken unless `overwrite`."""
    name = checkpoint_name(name).removesuffix(".pt")
    members = sweep_members(name, parse_values(values))
    for member in members:
        check_can_start(models_dir, member.name, overwrite)
    specs = [
        {"name": m.name, "train": member_config(train_config, parameter, m.value, name), "model": model_config}
        for m in members
    ]
    sweep = {"name": name, "parameter": parameter, "values": [m.value for m in members], "members": specs}
    first = specs[0]
    record = {**sweep, "overwrite": overwrite}
    return start_job(models_dir, first["name"], first["train"], first["model"], overwrite, sweep_record=record)


def _sweep_record(models_dir: Path) -> dict | None:
    try:
        return json.loads((job_folder(models_dir) / SWEEP_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def read_sweep(models_dir: Path, job: JobState | None) -> SweepProgress | None:
    """Where the sweep stands when `job` (the folder's current or last job) is one of its members."""
    record = _sweep_record(models_dir)
    if record is None or job is None:
        return None
    names = [m["name"] for m in record["members"]]
    if job.name not in names:
        return None
    return SweepProgress(record["name"], record["parameter"], record["values"], names, names.index(job.name))


def continue_sweep(models_dir: Path, finished: str) -> str | None:
    """Called by the job that just finished `finished`: start the sweep's next member, if any.
    Returns the next member's name, or None when `finished` was the last (or no sweep)."""
    record = _sweep_record(models_dir)
    if record is None:
        return None
    names = [m["name"] for m in record["members"]]
    if finished not in names or names.index(finished) == len(names) - 1:
        return None
    spec = record["members"][names.index(finished) + 1]
    start_job(models_dir, spec["name"], spec["train"], spec["model"], record.get("overwrite", False), handoff=True)
    return spec["name"]
