"""Git connector: commits of a local repository, read with a real ``git log``.

Each commit becomes one event with its author, sha, parents, files touched, message and the
refs pointing at it; merges and pull-request numbers (``Merge pull request #12``, ``(#12)``) are
recognised. The event's service is the one given, else the top-level folder most of its files
live in. Only commits not reachable from the last ingested sha are read (incremental).
"""

from __future__ import annotations

import codecs
import re
import secrets
import subprocess
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from domain.enums import EventSeverity, EventSource
from services.ingest import values
from services.ingest.schema import EventIn, Sink, TimestampError, parse_ts, payload_hash, unexpected

FIELDS = ["%H", "%P", "%an", "%ae", "%aI", "%cI", "%D", "%B"]
PR_RE = re.compile(r"(?:Merge pull request #|\(#|See-PR: #|!)(\d+)")
TIMEOUT_S = 120
LOG_TIMEOUT_S = 1_800  # the whole history of a large repository, streamed
READ_BYTES = 1 << 16


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


@dataclass(frozen=True)
class _Separators:
    """Record and field marks no commit can contain: a commit message or author name may hold
    any fixed separator (\\x1e, \\x1f …), but not a random token drawn for this one read."""

    record: str
    field: str

    @classmethod
    def new(cls) -> _Separators:
        token = secrets.token_hex(12)
        return cls(record=f"\x1e{token}\x1e", field=f"\x1f{token}\x1f")

    def log_format(self) -> str:
        return self.record + self.field.join(FIELDS) + self.field


def _stream_git(repo: Path, *args: str, record: str) -> Iterator[str]:
    """The records of a ``git log`` (split at ``record``) as git writes them, never all at once.

    git's complaints go to a temporary file (a full stderr pipe could stall it); a log that
    takes longer than LOG_TIMEOUT_S is killed and reported as a GitError.
    """
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(
                ["git", "-C", str(repo), *args], stdout=subprocess.PIPE, stderr=errors
            )
        except OSError as exc:
            raise GitError(f"git could not run: {exc}") from exc
        expired = threading.Event()

        def _expire() -> None:
            expired.set()
            proc.kill()

        timer = threading.Timer(LOG_TIMEOUT_S, _expire)
        timer.start()
        try:
            assert proc.stdout is not None
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            pending = ""
            started = False
            while block := proc.stdout.read(READ_BYTES):
                pending += decoder.decode(block)
                *done, pending = pending.split(record)
                for record in done:
                    if started:
                        yield record
                    started = True
            pending += decoder.decode(b"", final=True)
            if started:
                yield pending
            code = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if expired.is_set():
            raise GitError(f"git log on {repo} took longer than {LOG_TIMEOUT_S} s")
        if code != 0:
            errors.seek(0)
            complaint = errors.read().decode("utf-8", "replace").strip().splitlines()
            raise GitError(f"git failed on {repo}: {complaint[-1] if complaint else code}")


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
    marks = _Separators.new()
    log = _stream_git(
        repo,
        "log",
        "--name-only",
        "--diff-merges=first-parent",
        "--no-color",
        "--decorate=full",
        f"--format={marks.log_format()}",
        revs,
        record=marks.record,
    )
    for chunk in log:
        out.records += 1
        try:
            _commit(out, repo, chunk.split(marks.field), now=now, skew=skew, service=service)
        except Exception as exc:
            out.reject(f"commit {chunk[:12]}", unexpected(exc), _readable(chunk, marks))
    return tip


def _readable(chunk: str, marks: _Separators) -> str:
    """A commit's raw record for the quarantine, its fields on lines of their own."""
    return chunk.replace(marks.field, "\n")


def _commit(
    out: Sink,
    repo: Path,
    fields: list[str],
    *,
    now: datetime,
    skew: timedelta,
    service: str | None,
) -> None:
    chunk = "\n".join(fields)
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
