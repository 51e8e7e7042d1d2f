"""Optional admin API: start an index rebuild, follow it, read the manifest. Mounted only when an admin token is set."""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from ..config import Settings
from ..index import build_running
from ..ingest import url_scheme
from ..ingest.fetch import redacted
from ..records import Refusal
from .api import ServiceDep

log = logging.getLogger(__name__)
MAX_JOBS = 50  # finished jobs remembered; older ones are forgotten so the history cannot grow without bound


class AdminError(Refusal):
    """An admin request refused, answered in the one error shape."""


class AdminRoute(APIRoute):
    """A route whose AdminError (raised by it or by the token check) becomes the one error shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except AdminError as exc:
                headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
                return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

        return guarded


class RebuildIn(BaseModel):
    """What to rebuild from: given sources, or (none given) the sources recorded in the index."""

    sources: list[str] = Field(
        default_factory=list,
        max_length=100,
        examples=[["/srv/news"]],
        description="Absolute paths inside SEMSEARCH_ADMIN_SOURCE_ROOTS, or feed URLs when "
        "SEMSEARCH_ADMIN_FEEDS allows them",
    )
    add: bool = Field(
        False,
        description="Keep the archive and read the given sources besides the recorded ones (as `semsearch "
        "update SOURCES`); false: build from exactly the given sources, replacing the archive (as `semsearch "
        "build SOURCES`)",
    )


class JobOut(BaseModel):
    """A rebuild job and, once finished, its build report (a failed one: why each source was skipped) or error."""

    id: str
    status: Literal["running", "done", "failed"]
    started_at: float
    finished_at: float | None = None
    report: dict | None = None
    error: str | None = None


class ManifestOut(BaseModel):
    """The served index's status and manifest, its sources with any credentials removed."""

    status: str
    detail: str | None = None
    version: str | None = None
    manifest: dict | None = None


@dataclass(slots=True)
class Job:
    """A rebuild running (or run) in a child process."""

    id: str
    status: str = "running"
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    report: dict | None = None
    error: str | None = None


def check_sources(sources: list[str], settings: Settings) -> None:
    """Refuse (422, field "sources") any source the operator has not allowed the admin API to read."""
    roots = [root.resolve() for root in settings.admin_source_roots]
    if sources and not roots and not settings.admin_feeds:
        raise AdminError(
            422,
            "source_not_allowed",
            "this server only re-runs the recorded sources: send no sources, or set SEMSEARCH_ADMIN_SOURCE_ROOTS",
            "sources",
        )
    for n, source in enumerate(sources):
        problem = _source_problem(source, roots, settings.admin_feeds)
        if problem:
            raise AdminError(422, "source_not_allowed", f"sources[{n}] {problem}", "sources")


def _source_problem(source: str, roots: list[Path], feeds: bool) -> str | None:
    """Why one admin source is refused, or None."""
    if not source.strip():
        return "is empty"
    scheme = url_scheme(source)
    if scheme in ("http", "https"):
        return None if feeds else "is a feed URL, and SEMSEARCH_ADMIN_FEEDS is off"
    if scheme:
        return f"has an unsupported scheme '{scheme}'"
    path = Path(source)
    if not path.is_absolute():
        return "must be an absolute path"
    resolved = path.resolve()  # symlinks followed: a link inside a root must not lead outside it
    if not any(resolved.is_relative_to(root) for root in roots):
        return "is outside SEMSEARCH_ADMIN_SOURCE_ROOTS"
    return None


def child_env(settings: Settings) -> dict[str, str]:
    """The environment of a build process: this server's settings as SEMSEARCH_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEMSEARCH_")}
    for name, value in settings.model_dump(exclude={"admin_token"}).items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"SEMSEARCH_{name.upper()}"] = (
            json.dumps(value, default=str) if isinstance(value, (list, dict)) else str(value)
        )
    return env


class Jobs:
    """Runs at most one build at a time, each in its own process, and remembers the recent jobs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, sources: list[str], add: bool = False) -> Job:
        """Start a rebuild, or refuse (409) when one is already running."""
        with self._lock:
            if any(job.status == "running" for job in self.jobs.values()):
                raise AdminError(409, "rebuild_running", "a rebuild is already running")
            if build_running(Path(self.settings.index_dir)):  # `semsearch build` or `update` from a shell or cron
                raise AdminError(409, "rebuild_running", "another build is running on this index")
            job = Job(id=uuid.uuid4().hex[:12])
            self.jobs[job.id] = job
            self._forget_old()
        threading.Thread(target=self._run, args=(job, sources, add), daemon=True, name=f"rebuild-{job.id}").start()
        return job

    def _forget_old(self) -> None:
        """Drop the oldest finished jobs beyond MAX_JOBS (dicts keep insertion order)."""
        finished = [job_id for job_id, job in self.jobs.items() if job.status != "running"]
        for job_id in finished[: max(len(self.jobs) - MAX_JOBS, 0)]:
            del self.jobs[job_id]

    def _run(self, job: Job, sources: list[str], add: bool) -> None:
        """Run the build in a child process, so running out of memory there cannot take the server down."""
        command = [
            sys.executable,
            "-m",
            "semsearch",
            "build" if sources and not add else "update",
            "--json",
            "--index",
            str(self.settings.index_dir),
            *sources,
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=child_env(self.settings), check=False)
            self._finish(job, done.returncode, done.stdout, done.stderr)
        except OSError:  # reported through the job, never lost in a thread
            log.exception("rebuild %s could not start", job.id)
            job.error, job.status = "the build process could not start; see the server log", "failed"
        job.finished_at = time.time()

    def _finish(self, job: Job, returncode: int, stdout: str, stderr: str) -> None:
        """Read the child's JSON report (or failure with its skip reasons) back into the job, without the paths
        of this server's own files (a token holder learns of the build, not of the server's file system)."""
        try:
            body = json.loads(stdout)
        except ValueError:
            body = {}
        if returncode == 0 and "error" not in body:
            job.report, job.status = _redacted_report(body), "done"
            return
        log.error("rebuild %s failed (exit code %s): %s", job.id, returncode, stderr.strip()[-2000:])
        job.report = _redacted_report({"skipped": body.get("skipped", [])})
        error = body.get("error") or f"the build process ended with exit code {returncode}; see the server log"
        job.error = self._without_own_paths(str(error))
        job.status = "failed"

    def _without_own_paths(self, message: str) -> str:
        """The message with the index home and the embedding cache named, not located."""
        home = Path(self.settings.index_dir)
        named = [(self.settings.cache_dir, "the embedding cache"), (home / "cache", "the embedding cache")]
        for place, name in [*named, (home, "the index home")]:
            for form in {str(Path(place).resolve()), str(place)} if place is not None else ():
                if Path(form).is_absolute():  # a relative name ("index") is a word of many messages
                    message = re.sub(re.escape(form) + r"(?![\w.-])", name, message)
        return message


def _redacted_report(report: dict) -> dict:
    """A build report with credentials removed from the sources it names and without the index home's path."""
    skipped = [{**s, "source": redacted(s["source"])} for s in report.get("skipped", [])]
    return {key: value for key, value in report.items() if key != "index_dir"} | {"skipped": skipped}


def require_token(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """Only a request bearing the configured admin token passes (compared in constant time)."""
    token = request.app.state.settings.admin_token
    scheme, _, given = (authorization or "").strip().partition(" ")
    given = given.strip() if scheme.lower() == "bearer" else ""  # schemes are case-insensitive (RFC 9110)
    # An empty token never matches, whatever the settings say: no header must never mean logged in.
    if token is None or not given or not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise AdminError(401, "unauthorized", "a valid admin token is required (Authorization: Bearer <token>)")


router = APIRouter(
    prefix="/api/index",
    tags=["admin"],
    dependencies=[Depends(require_token)],
    route_class=AdminRoute,
    responses={401: {"description": "No valid admin token"}},
)


@router.post("/rebuild", response_model=JobOut, status_code=202)
def rebuild(request: Request, body: RebuildIn | None = None) -> dict:
    """Start rebuilding the index in a child process; one build runs at a time."""
    wanted = body or RebuildIn()
    check_sources(wanted.sources, request.app.state.settings)
    return asdict(request.app.state.jobs.start(wanted.sources, wanted.add))


@router.get("/jobs/{job_id}", response_model=JobOut)
def job(request: Request, job_id: str) -> dict:
    """The state of a rebuild job."""
    found = request.app.state.jobs.jobs.get(job_id)
    if found is None:
        raise AdminError(404, "not_found", "no such job")
    return asdict(found)


@router.get("/manifest", response_model=ManifestOut)
def manifest(service: ServiceDep) -> dict:
    """The served index's status, detail and manifest (sources with credentials removed)."""
    health = service.health()
    manifest = None
    if health.manifest:
        manifest = replace(health.manifest, sources=[redacted(s) for s in health.manifest.sources]).to_dict()
    return {"status": health.status, "detail": health.detail, "version": health.version, "manifest": manifest}
