"""Provides `SpillFolder`: where the SQL engine writes what does not fit in memory, inside the case.

Never the current directory. A session holds a shared `flock` on its folder while it lives (a kill
releases it) and removes the folder when it ends; a folder whose session was killed is removed by the
next session on that case, so spill files (they can be large) do not pile up in the evidence folder.
"""

import fcntl
import os
import shutil
import tempfile
from pathlib import Path

PREFIX = ".sql-spill-"
#: Held (exclusive, briefly) while a session makes its folder or removes abandoned ones.
GUARD = ".sql-spill.lock"


class SpillFolder:
    """A fresh spill folder inside `case_root` (or in the system's temporary directory without a case)."""

    def __init__(self, case_root: Path | None):
        self._fd: int | None = None
        if case_root is None:
            self.path = Path(tempfile.mkdtemp(prefix="workbench-sql-spill-"))
            return
        guard = os.open(case_root / GUARD, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(guard, fcntl.LOCK_EX)
            _remove_abandoned(case_root)
            self.path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=case_root))
            self._fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            fcntl.flock(self._fd, fcntl.LOCK_SH)
        finally:
            os.close(guard)

    def remove(self) -> None:
        """Remove the folder and what the engine left in it (safe to call twice)."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _remove_abandoned(case_root: Path) -> None:
    """Remove the spill folders in `case_root` that no living session holds (call under the guard)."""
    for folder in case_root.glob(PREFIX + "*"):
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a living session's (or a file system without locks: kept)
        else:
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            os.close(fd)
