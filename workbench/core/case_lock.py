"""Provides the case's locks, on the operating system's file locks (`flock`), which a crash or kill releases.

- The writer lock (`<case>/.lock`, exclusive): one process at a time loads or reloads a case; another waits.
  The holder's process id is written into the lock file so that a waiting process can say who it waits for.
- A state pin (`<state>/.pin`, shared): a process reading a state of the case holds it, so that a writer that
  has swapped a newer state in leaves the old one on disk until its last reader is gone.
- A build lock (on the folder itself, exclusive): a process building a folder derived from a state holds it, so
  that a folder left by a build that crashed or was killed is told from one being built (`remove_if_abandoned`).
"""

import fcntl
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

#: waiting(message): told once when the writer lock is held by another process and this one waits for it.
Waiting = Callable[[str], None]


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)


def _try(fd: int, operation: int) -> bool:
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def writer_lock(root: Path, waiting: Waiting | None = None) -> Iterator[None]:
    """Hold the case's writer lock for the block, waiting (and saying so once) while another process holds it."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / ".lock"
    fd = _open(path)
    try:
        if not _try(fd, fcntl.LOCK_EX):
            if waiting is not None:
                holder = path.read_text(errors="replace").strip() or "unknown"
                waiting(f"case {root.name} is being loaded by another workbench process (pid {holder}); waiting for it")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


class StatePin:
    """A shared lock on one state folder, held while this process may read it."""

    def __init__(self, state: Path):
        self.state = state
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Pin the state; False when it was removed meanwhile (the caller reads the newer pointer again)."""
        path = self.state / ".pin"
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        fcntl.flock(fd, fcntl.LOCK_SH)
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        """Let a writer remove the state."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    __del__ = release  # a case object dropped without `close` lets go of its state too


def remove_if_unpinned(state: Path, remove: Callable[[Path], None]) -> bool:
    """Remove a state folder unless a process holds a pin on it; True when it was removed.

    Call only under the writer lock. The exclusive lock is held while removing, so a reader that pins
    meanwhile finds the folder gone and reads the pointer again.
    """
    try:
        fd = os.open(state / ".pin", os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:  # a state left half-written by a crash: nobody can have pinned it
        remove(state)
        return True
    try:
        if not _try(fd, fcntl.LOCK_EX):
            return False
        remove(state)
        return True
    finally:
        os.close(fd)


def pinned(state: Path) -> bool:
    """Whether a process reads the state folder now (holds its pin)."""
    try:
        fd = os.open(state / ".pin", os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        return not _try(fd, fcntl.LOCK_EX)
    finally:
        os.close(fd)


@contextmanager
def building(folder: Path) -> Iterator[None]:
    """Create `folder` and hold its build lock for the block. It is made under another name and locked before it
    takes its own, so that no other process sees it unlocked."""
    making = folder.with_name(folder.name + ".new")
    making.mkdir()
    fd = os.open(making, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(making, folder)
        yield
    finally:
        os.close(fd)


def remove_if_abandoned(folder: Path) -> bool:
    """Remove a folder made by `building` whose builder is gone (it crashed or was killed); True when removed."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:  # removed meanwhile
        return False
    try:
        if not _try(fd, fcntl.LOCK_EX):
            return False
        shutil.rmtree(folder, ignore_errors=True)
        return True
    finally:
        os.close(fd)
