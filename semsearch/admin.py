"""Optional admin API: start an index rebuild and follow it. Mounted only when an admin token is set."""

from __future__ import annotations

import hmac
import logging
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import BaseModel, Field

from .config import Settings

log = logging.getLogger(__name__)


class RebuildIn(BaseModel):
    """What to rebuild from: given sources, or (none given) the sources recorded in the index."""

    sources: list[str] = Field(default_factory=list, max_length=100, examples=[["/srv/news"]])


class JobOut(BaseModel):
    """A rebuild job and, once finished, its build report or error."""

    id: str
    status: Literal["running", "done", "failed"]
    started_at: float
    finished_at: float | None = None
    report: dict | None = None
    error: str | None = None


@dataclass(slots=True)
class Job:
    """A rebuild running (or run) in a background thread."""

    id: str
    status: str = "running"
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    report: dict | None = None
    error: str | None = None


class Jobs:
    """Runs at most one build at a time and remembers recent jobs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, sources: list[str]) -> Job:
        """Start a rebuild, or raise 409 when one is already running."""
        with self._lock:
            if any(job.status == "running" for job in self.jobs.values()):
                raise HTTPException(409, "a rebuild is already running")
            job = Job(id=uuid.uuid4().hex[:12])
            self.jobs[job.id] = job
        threading.Thread(target=self._run, args=(job, sources), daemon=True, name=f"rebuild-{job.id}").start()
        return job

    def _run(self, job: Job, sources: list[str]) -> None:
        from .build import build, update

        try:
            report = (build if sources else update)(sources, self.settings)
            job.report, job.status = report.to_dict(), "done"
        except Exception as exc:  # reported through the job, never lost in a thread
            log.exception("rebuild %s failed", job.id)
            job.error, job.status = f"{type(exc).__name__}: {exc}", "failed"
        job.finished_at = time.time()


def require_token(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """Only a request bearing the configured admin token passes (compared in constant time)."""
    token = request.app.state.settings.admin_token
    scheme, _, given = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer":  # auth schemes are case-insensitive (RFC 9110); anything else is no token
        given = ""
    if token is None or not hmac.compare_digest(given.strip().encode(), token.get_secret_value().encode()):
        raise HTTPException(401, "a valid admin token is required (Authorization: Bearer <token>)")


router = APIRouter(prefix="/api/index", tags=["admin"], dependencies=[Depends(require_token)])


@router.post("/rebuild", response_model=JobOut, status_code=202)
def rebuild(request: Request, body: RebuildIn | None = None) -> dict:
    """Start rebuilding the index in the background; one build runs at a time."""
    return asdict(request.app.state.jobs.start((body or RebuildIn()).sources))


@router.get("/jobs/{job_id}", response_model=JobOut)
def job(request: Request, job_id: str) -> dict:
    """The state of a rebuild job."""
    found = request.app.state.jobs.jobs.get(job_id)
    if found is None:
        raise HTTPException(404, "no such job")
    return asdict(found)
