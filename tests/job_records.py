"""What tests read of a job's work records (core/jobs.py `work_kind`): every one of a job, whatever its parent."""
from __future__ import annotations

from core.jobs import work_kinds


def work_records(records, job_id: str) -> list[tuple[str, str]]:
    """(kind, key) of every work record of this job (window records written before their parent was the job too)."""
    return [(kind, r.key) for kind in sorted(work_kinds()) for r in records.query(kind)
            if r.key.startswith(f"{job_id}/")]
