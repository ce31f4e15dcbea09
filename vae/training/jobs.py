"""One background training job per models folder, for the app's Train page.

The job runs `python -m vae.training.job_child run FOLDER` in its own process: the same `train()` as
`python -m vae.train`, writing its checkpoint under FOLDER/.jobs/ and moving it into FOLDER
under the chosen name only when training has finished. Everything about the job lives in
files, so a browser refresh (or a second browser) finds it again:

    .jobs/job.json        what was asked, the process id, when it started
    .jobs/progress.jsonl  one JSON line per finished epoch (the training record)
    .jobs/recon.png       held-out originals over their reconstructions, after each epoch
    .jobs/recon.txt       (text models instead) held-out sentences and their reconstructions
    .jobs/status.json     how it ended: done | failed | cancelled, with a message
    .jobs/log.txt         the process's own output, for the message when it dies
    .jobs/sweep.json      when the job is one member of a sweep: every member's spec
                          (vae.training.sweep_plan; each finished member starts the next)
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vae.errors import TrainingError
from vae.files import write_bytes_atomically

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
JOBS = ".jobs"
SWEEP_FILE = "sweep.json"


def job_folder(models_dir: Path) -> Path:
    return Path(models_dir) / JOBS


def checkpoint_name(name: str) -> str:
    """A safe file name for a new checkpoint: letters, digits, `_ . -`, ending in .pt."""
    name = name.strip()
    if name.endswith(".pt"):
        name = name[:-3]
    if not NAME_PATTERN.match(name) or ".." in name:
        raise TrainingError(
            "a model name may hold letters, digits, '_', '.' and '-' (up to 64), and must start with a letter or digit"
        )
    return name + ".pt"


def write_json(path: Path, value: dict) -> None:
    write_bytes_atomically(path, json.dumps(value).encode())


def _alive(pid: int, token: str) -> bool:
    """Whether our job process still runs: the pid exists and its command line carries the
    job's token (after a restart the pid may belong to something else)."""
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)  # reap our own child, or learn it is not ours
        if finished == pid:
            return False
    except ChildProcessError:
        pass
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # gone, or no /proc here
        command = b""
    if command:  # a running process that is not our job is a reused pid
        return token.encode() in command.split(b"\0")
    try:  # no command line to read (no /proc, or a process just starting or exiting): ask the kernel
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


@contextmanager
def _locked(folder: Path):
    """One caller at a time in this folder's job files (sessions and servers alike)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _signal_group(pid: int, signal_number: int) -> None:
    try:
        os.killpg(pid, signal_number)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass(frozen=True)
class JobState:
    name: str  # the checkpoint file it will write, e.g. mine.pt
    state: str  # running | done | failed | cancelled
    message: str
    epochs: int  # asked for
    history: list[dict]  # one record per finished epoch
    recon_png: bytes | None
    started: float
    recon_text: str | None = None  # a text model's held-out sentences and their reconstructions

    @property
    def running(self) -> bool:
        return self.state == "running"


def read_job(models_dir: Path) -> JobState | None:
    """The current or last job of this folder, or None when there has been none."""
    folder = job_folder(models_dir)
    try:
        job = json.loads((folder / "job.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    history = []
    try:
        for line in (folder / "progress.jsonl").read_text().splitlines():
            try:
                history.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a line being written right now
    except FileNotFoundError:
        pass
    status = _status(folder)
    if status is None and not _alive(job["pid"], job.get("token", "")):
        status = _status(folder)  # it may have written its status and exited since the first look
        if status is None:
            status = {
                "state": "failed",
                "message": _last_lines(folder / "log.txt") or "the training process ended without a word",
            }
    if status is None:
        state, message = "running", ""
    else:
        state, message = status["state"], status.get("message", "")
    try:
        recon = (folder / "recon.png").read_bytes()
    except FileNotFoundError:
        recon = None
    try:
        recon_text = (folder / "recon.txt").read_text(errors="replace")
    except FileNotFoundError:
        recon_text = None
    return JobState(job["name"], state, message, job["epochs"], history, recon, job["started"], recon_text)


def _status(folder: Path) -> dict | None:
    try:
        return json.loads((folder / "status.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _last_lines(path: Path, count: int = 3) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except FileNotFoundError:
        return ""
    return " / ".join(lines[-count:])


def start_job(
    models_dir: Path,
    name: str,
    train_config: dict,
    model_config: dict,
    overwrite: bool = False,
    sweep_record: dict | None = None,
    handoff: bool = False,
) -> JobState:
    """Start training in a background process. Refuses (TrainingError) while another job of
    this folder runs, and when the name is taken unless `overwrite`. `sweep_record` starts a
    sweep with this job as its first member; `handoff` is a finishing sweep member starting
    the next one (the running job is the caller itself), refused once the sweep was cancelled;
    any other job ends an earlier sweep."""
    models_dir = Path(models_dir)
    folder = job_folder(models_dir)
    with _locked(folder):
        check_can_start(models_dir, name, overwrite, running_is_caller=handoff)
        if handoff and not (folder / SWEEP_FILE).is_file():
            raise TrainingError("the sweep was cancelled")
        if sweep_record is not None:
            write_json(folder / SWEEP_FILE, sweep_record)
        elif not handoff:
            (folder / SWEEP_FILE).unlink(missing_ok=True)
        file_name = checkpoint_name(name)
        for stale in ("progress.jsonl", "recon.png", "recon.txt", "status.json", "partial.pt", "log.txt"):
            (folder / stale).unlink(missing_ok=True)
        for leftover in folder.glob(".partial.pt.*.tmp"):  # a save interrupted by an earlier cancel
            leftover.unlink(missing_ok=True)
        spec = {"name": file_name, "train": train_config, "model": model_config, "epochs": train_config["epochs"]}
        write_json(folder / "spec.json", spec)
        token = secrets.token_hex(8)
        # torchrun's variables (a server started inside a distributed job) must not reach the child
        environment = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
        with open(folder / "log.txt", "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "vae.training.job_child", "run", str(models_dir), token],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=Path(__file__).resolve().parents[2],  # the repository root, where `vae` is importable
                env=environment,
                start_new_session=True,  # a Ctrl-C of the app does not kill the job, and cancel reaches only it
            )
        write_json(folder / "job.json", {**spec, "pid": process.pid, "token": token, "started": time.time()})
    return read_job(models_dir)


def check_can_start(models_dir: Path, name: str, overwrite: bool = False, running_is_caller: bool = False) -> None:
    """TrainingError when a job of this folder runs, or the name is taken (unless `overwrite`)."""
    file_name = checkpoint_name(name)
    current = read_job(models_dir)
    if current is not None and current.running and not running_is_caller:
        raise TrainingError(f"a training job is running already: {current.name}, epoch {len(current.history)}")
    if (Path(models_dir) / file_name).exists() and not overwrite:
        raise TrainingError(f"{file_name} exists: confirm to replace it, or choose another name")


def _stop(pid: int, token: str) -> None:
    _signal_group(pid, signal.SIGTERM)
    for _ in range(50):  # up to 5 s for it to go
        if not _alive(pid, token):
            return
        time.sleep(0.1)
    _signal_group(pid, signal.SIGKILL)


def cancel_job(models_dir: Path) -> bool:
    """Stop the running job (its partial checkpoint is dropped); whether there was one."""
    folder = job_folder(models_dir)
    job = read_job(models_dir)
    if job is None or not job.running:
        return False
    with _locked(folder):  # a sweep member finishing now then starts no next one
        (folder / SWEEP_FILE).unlink(missing_ok=True)
    stopped = set()
    while True:  # again if a sweep's next member started just before the line above
        recorded = json.loads((folder / "job.json").read_text())
        pid, token = recorded["pid"], recorded.get("token", "")
        if pid in stopped:
            break
        stopped.add(pid)
        _stop(pid, token)
    if read_job(models_dir).state == "done":  # it finished just before the signal: keep that result
        return False
    write_json(folder / "status.json", {"state": "cancelled", "message": "cancelled from the Train page"})
    (folder / "partial.pt").unlink(missing_ok=True)
    return True
