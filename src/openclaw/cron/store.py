"""Jobs in `<state>/cron/jobs.json` (upstream's job shape) and their runs in `<state>/cron/runs.jsonl`
(bounded). Each write is atomic; a job's claimed slot is written before it runs, so a restart never
runs the same slot twice."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from openclaw.fsutil import atomic_write, ensure_private_dir

MAX_RUNS_KEPT = 2000  # lines in runs.jsonl; the oldest go when it doubles


class CronStore:
    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir / "cron"
        self.jobs_path = self.dir / "jobs.json"
        self.runs_path = self.dir / "runs.jsonl"
        self._lock = threading.Lock()

    def load(self) -> list[dict[str, Any]]:
        try:
            data = json.loads(self.jobs_path.read_text())
        except (OSError, ValueError):
            return []
        jobs = data.get("jobs") if isinstance(data, dict) else None
        return [j for j in jobs or [] if isinstance(j, dict) and j.get("id")]

    def save(self, jobs: list[dict[str, Any]]) -> None:
        with self._lock:
            ensure_private_dir(self.dir)
            atomic_write(self.jobs_path, json.dumps({"version": 1, "jobs": jobs}, indent=2) + "\n")

    def add_run(self, run: dict[str, Any]) -> None:
        with self._lock:
            ensure_private_dir(self.dir)
            with open(self.runs_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(run, ensure_ascii=False) + "\n")
            try:
                lines = self.runs_path.read_text(encoding="utf-8").splitlines()
            except OSError:
                return
            if len(lines) > 2 * MAX_RUNS_KEPT:
                atomic_write(self.runs_path, "\n".join(lines[-MAX_RUNS_KEPT:]) + "\n")

    def runs(self, job_id: str | None, limit: int) -> list[dict[str, Any]]:
        try:
            lines = self.runs_path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        out = []
        for line in reversed(lines):
            try:
                run = json.loads(line)
            except ValueError:
                continue
            if job_id is None or run.get("jobId") == job_id:
                out.append(run)
                if len(out) >= limit:
                    break
        return out
