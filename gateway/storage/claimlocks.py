"""Exclusive locks by 62-bit id across the processes of one host: record locks on one byte each of some files.

Open-file-description locks (Linux ``F_OFD_SETLK``): they belong to one
open of the file, so two openers conflict even within one process, and the
kernel drops them when that open is closed, by ``close`` or by the death of
the process. Taking or releasing one is a single non-blocking ``fcntl``
call, and a killed worker leaves no claim behind. Where OFD locks are
missing, classic POSIX record locks (per process) stand in.

The kernel keeps a file's locks in a list that each call walks, so the ids
are spread over ``_SHARDS`` files: with thousands of claims held at once
(a claim outlives its request by a few write-behind intervals), each call
still walks only a few dozen.
"""

from __future__ import annotations

import fcntl
import os
import struct
from pathlib import Path

__all__ = ["ByteLocks"]

_ID_BITS = 62  # offsets are a signed 64-bit off_t; the locked byte's end must fit too
_SHARDS = 64
_OFD_SETLK: int | None = getattr(fcntl, "F_OFD_SETLK", None)
_FLOCK = "@hhqqi4x"  # struct flock: l_type, l_whence, l_start, l_len, l_pid (0 for OFD locks)


def _ofd(fd: int, kind: int, lock_id: int) -> None:
    assert _OFD_SETLK is not None
    fcntl.fcntl(fd, _OFD_SETLK, struct.pack(_FLOCK, kind, os.SEEK_SET, lock_id, 1, 0))


class ByteLocks:
    """``try_lock(id)``/``unlock(id)`` on the shared files in ``directory`` (created if missing, never written)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._fds: list[int] = []

    @staticmethod
    def id_of(digest: bytes) -> int:
        return int.from_bytes(digest[:8], "big") >> (64 - _ID_BITS)

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._fds = [os.open(self.directory / f"{shard:02d}", os.O_RDWR | os.O_CREAT, 0o600)
                     for shard in range(_SHARDS)]

    def try_lock(self, lock_id: int) -> bool:
        """True if this opener now holds the lock; False if another one does."""
        assert self._fds, "not open"
        fd, offset = self._fds[lock_id % _SHARDS], lock_id // _SHARDS
        try:
            if _OFD_SETLK is not None:
                _ofd(fd, fcntl.F_WRLCK, offset)
            else:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
        except (BlockingIOError, PermissionError):  # EAGAIN or EACCES: held elsewhere
            return False
        return True

    def unlock(self, lock_id: int) -> None:
        if not self._fds:
            return
        fd, offset = self._fds[lock_id % _SHARDS], lock_id // _SHARDS
        if _OFD_SETLK is not None:
            _ofd(fd, fcntl.F_UNLCK, offset)
        else:
            fcntl.lockf(fd, fcntl.LOCK_UN, 1, offset)

    def close(self) -> None:
        """Release every lock this opener holds."""
        fds, self._fds = self._fds, []
        for fd in fds:
            os.close(fd)
