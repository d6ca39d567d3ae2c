"""The ingest allow-list: a path must lie under one of the configured roots (REVO_INGEST_ROOTS)."""

from __future__ import annotations

from pathlib import Path

from services.errors import InvalidInput


def allowed(raw: str, *, roots: list[Path], want_dir: bool) -> Path:
    """The resolved path if it lies under an ingest root, else InvalidInput saying why."""
    text = raw.strip()
    if not text:
        raise InvalidInput("Give a path to ingest.")
    if "\x00" in text:
        raise InvalidInput("The path contains a NUL character.")
    path = Path(text).expanduser()
    if ".." in path.parts:
        raise InvalidInput(f"The path {text!r} contains '..'; give a path inside an ingest root.")
    if not roots:
        raise InvalidInput("No ingest roots are configured; set REVO_INGEST_ROOTS.")
    listed = ", ".join(str(r) for r in roots)
    candidates = [path] if path.is_absolute() else [root / path for root in roots]
    for candidate in candidates:
        lexical_inside = any(candidate.is_relative_to(r) for r in roots) or any(
            candidate.absolute().is_relative_to(r) for r in roots
        )
        resolved = candidate.resolve()
        if not any(resolved.is_relative_to(r) for r in roots):
            if lexical_inside:
                raise InvalidInput(
                    f"The path {text!r} is a symbolic link that leads outside the ingest roots "
                    f"({listed}); it is refused."
                )
            raise InvalidInput(
                f"The path {text!r} lies outside the ingest roots ({listed}); it is refused."
            )
        if not resolved.exists():
            continue
        if want_dir and not resolved.is_dir():
            raise InvalidInput(f"The path {text!r} is not a directory.")
        if not want_dir and not resolved.is_file():
            raise InvalidInput(f"The path {text!r} is not a file.")
        return resolved
    raise InvalidInput(f"The path {text!r} does not exist under the ingest roots ({listed}).")
