"""Git connector: commits of a local repository, read with a real ``git log``.

Each commit becomes one event with its author, sha, parents, files touched, message and the
refs pointing at it; merges and pull-request numbers (``Merge pull request #12``, ``(#12)``) are
recognised. The event's service is the one given, else the top-level folder most of its files
live in. Only commits not reachable from the last ingested sha are read (incremental).
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from domain.enums import EventSeverity, EventSource
from services.ingest import values
from services.ingest.schema import EventIn, Sink, TimestampError, parse_ts, payload_hash, unexpected

FIELD, RECORD = "\x1f", "\x1e"
FORMAT = RECORD + FIELD.join(["%H", "%P", "%an", "%ae", "%aI", "%cI", "%D", "%B"]) + FIELD
PR_RE = re.compile(r"(?:Merge pull request #|\(#|See-PR: #|!)(\d+)")
TIMEOUT_S = 120


class GitError(Exception):
    """git could not read the repository (a source failure: retried, counted by the breaker)."""


def run_git(repo: Path, *args: str) -> str:
    """The output of one git command, or GitError with git's own complaint."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git could not run: {exc}") from exc
    if proc.returncode != 0:
        complaint = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git failed on {repo}: {complaint[-1] if complaint else proc.returncode}")
    return proc.stdout.decode("utf-8", "replace")


def head(repo: Path) -> str | None:
    """The sha HEAD points at, or None in an empty repository."""
    run_git(repo, "rev-parse", "--is-inside-work-tree")
    try:
        return run_git(repo, "rev-parse", "--verify", "-q", "HEAD").strip() or None
    except GitError:
        return None


def read(
    repo: Path,
    out: Sink,
    *,
    since_sha: str | None,
    now: datetime,
    skew: timedelta,
    service: str | None,
) -> str | None:
    """Events for the commits after ``since_sha`` (all when None); returns the new head sha."""
    tip = head(repo)
    if tip is None or tip == since_sha:
        return tip
    known = since_sha and _is_ancestor(repo, since_sha, tip)
    revs = f"{since_sha}..{tip}" if known else tip
    # A merge lists the files it brought onto its first parent (the branch merged into), so a
    # merged pull request touches what it changed and counts as a change of those services.
    out_text = run_git(
        repo,
        "log",
        "--name-only",
        "--diff-merges=first-parent",
        "--no-color",
        "--decorate=full",
        f"--format={FORMAT}",
        revs,
    )
    for chunk in out_text.split(RECORD)[1:]:
        out.records += 1
        try:
            _commit(out, repo, chunk, now=now, skew=skew, service=service)
        except Exception as exc:
            out.reject(f"commit {chunk[:12]}", unexpected(exc), chunk)
    return tip


def _commit(
    out: Sink, repo: Path, chunk: str, *, now: datetime, skew: timedelta, service: str | None
) -> None:
    fields = chunk.split(FIELD)
    sha, parents, author, email, authored, committed, refs, body = fields[:8]
    files = [f for f in fields[8].splitlines() if f.strip()] if len(fields) > 8 else []
    try:
        at = parse_ts(committed, now=now, skew=skew, name="commit time")
    except TimestampError as exc:
        out.reject(f"commit {sha[:12]}", str(exc), chunk)
        return
    problems = values.problems(
        {"author": author, "author_email": email, "message": body, "refs": refs, "files": files}
    )
    if problems:
        out.reject(f"commit {sha[:12]}", "; ".join(problems), chunk)
        return
    subject = body.strip().splitlines()[0] if body.strip() else "(no message)"
    parent_list = parents.split()
    pr = PR_RE.search(body)
    top = Counter(f.split("/", 1)[0] for f in files if "/" in f)
    event = EventIn(
        source=EventSource.GIT,
        type="merge" if len(parent_list) > 1 else "commit",
        occurred_at=at,
        severity=EventSeverity.INFO,
        service=service or (top.most_common(1)[0][0][:100] if top else None),
        title=f"{sha[:10]} {subject}",
        data={
            "sha": sha,
            "parents": parent_list,
            "author": author,
            "author_email": email,
            "authored_at": authored,
            "refs": [r.strip() for r in refs.split(",") if r.strip()],
            "pr": int(pr.group(1)) if pr else None,
            "message": body.strip(),
            "files": files[:500],
            "files_count": len(files),
            "repo": str(repo),
        },
        external_id=f"commit:{sha}",
        payload_hash=payload_hash(chunk),
    )
    out.event(event, position=f"commit {sha[:12]}", raw=chunk)


def _is_ancestor(repo: Path, old: str, new: str) -> bool:
    try:
        run_git(repo, "merge-base", "--is-ancestor", old, new)
    except GitError:
        return False
    return True
