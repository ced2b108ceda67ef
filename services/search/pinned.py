"""Reading an index generation while writers change it: every file of one state of the index
held open from the moment it is read.

Whoosh opens a segment's column files (stored fields, lengths, the vectors) lazily, the first
time they are asked for, and a writer's commit deletes the files of the segments it merged
away. A searcher opened before such a commit then finds files missing under it ("stored_fields
of None", an empty column, a missing postings file) — in another thread or another process.

So a reader here pins a state: it opens every file of the generation's folder at once, checks
that no commit happened meanwhile (else it pins again), and Whoosh reads only through those
descriptors (positioned reads, so every thread of the process can share them). A deleted file
stays readable through an open descriptor on POSIX, so once pinned, nothing a writer or a
rebuild does can change what a searcher sees. The descriptors are closed when the last
searcher of that state is gone.
"""

from __future__ import annotations

import io
import os
import re
import threading
import weakref
from pathlib import Path

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.index import FileIndex

INDEX_NAME = "MAIN"
_TOC = re.compile(rf"^_{INDEX_NAME}_(\d+)\.toc$")
_LOCK = f"{INDEX_NAME}_WRITELOCK"
ATTEMPTS = 100


def latest_toc(names) -> int:
    """The newest table of contents among file names (-1 when there is none)."""
    found = [int(m.group(1)) for m in map(_TOC.match, names) if m]
    return max(found, default=-1)


def state(path: Path) -> int:
    """The generation's current state: the number of its newest table of contents."""
    try:
        return latest_toc(os.listdir(path))
    except FileNotFoundError:
        return -1


class Pins:
    """Open descriptors of every file of one state of a generation's folder."""

    def __init__(self, path: Path, toc: int, files: dict[str, int]):
        self.path = path
        self.toc = toc
        self.files = files
        self._finalizer = weakref.finalize(self, _close_all, list(files.values()))
        # Not at the interpreter's exit: a background thread may still be reading them then
        # (the server's start-up check), and would take the closed descriptors for a damaged
        # index. The system closes them with the process.
        self._finalizer.atexit = False

    def close(self) -> None:
        self._finalizer()


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


def _open_all(path: Path, names: list[str]) -> dict[str, int]:
    files: dict[str, int] = {}
    try:
        for name in names:
            if name == _LOCK or name.startswith(".") or ".toc." in name:
                continue  # the lock and tables of contents being written are no part of it
            try:
                files[name] = os.open(path / name, os.O_RDONLY)
            except FileNotFoundError:
                continue  # deleted meanwhile: the state check below decides
    except BaseException:
        _close_all(list(files.values()))
        raise
    return files


def pin(path: Path) -> Pins:
    """Open every file of the newest state of the generation in `path`. Raises
    FileNotFoundError when it holds no index, TimeoutError when commits kept coming."""
    for _ in range(ATTEMPTS):
        names = os.listdir(path)
        toc = latest_toc(names)
        if toc < 0:
            raise FileNotFoundError(f"no search index in {path}")
        files = _open_all(path, names)
        # A commit deletes the files it replaced only after its own table of contents is in
        # place: while the newest one is still `toc`, every file of that state was opened.
        if state(path) == toc and f"_{INDEX_NAME}_{toc}.toc" in files:
            return Pins(path, toc, files)
        _close_all(list(files.values()))
    raise TimeoutError(f"the search index in {path} kept changing while it was opened")


class _PinnedFile(io.RawIOBase):
    """A read-only file over a pinned descriptor, with a position of its own."""

    def __init__(self, pins: Pins, fd: int):
        super().__init__()
        self._pins = pins  # kept alive while the file is
        self._fd = fd
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = os.pread(self._fd, len(buffer), self._position)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._position
        elif whence == io.SEEK_END:
            offset += os.fstat(self._fd).st_size
        self._position = max(0, offset)
        return self._position

    def tell(self) -> int:
        return self._position


class PinnedStorage(FileStorage):
    """A Whoosh storage that reads only the files of one pinned state."""

    supports_mmap = False

    def __init__(self, pins: Pins):
        super().__init__(str(pins.path), supports_mmap=False, readonly=True)
        self.pins = pins

    def _fd(self, name: str) -> int:
        try:
            return self.pins.files[name]
        except KeyError:
            raise FileNotFoundError(f"{name} is not part of this index state") from None

    def open_file(self, name, **kwargs):
        raw = _PinnedFile(self.pins, self._fd(name))
        return StructFile(io.BufferedReader(raw), name=name, **kwargs)

    def file_exists(self, name) -> bool:
        return name in self.pins.files

    def file_length(self, name) -> int:
        return os.fstat(self._fd(name)).st_size

    def file_modified(self, name) -> float:
        return os.fstat(self._fd(name)).st_mtime

    def list(self) -> list[str]:
        return list(self.pins.files)


_shared: dict[tuple[int, str], weakref.ref] = {}
_shared_lock = threading.Lock()


def open_index(path: Path) -> FileIndex:
    """The newest state of the generation in `path`, pinned; the pins of a state are shared by
    every thread of the process that opens it."""
    key = (os.getpid(), str(path))
    with _shared_lock:
        found = _shared.get(key)
        pins = found() if found is not None else None
        if pins is None or pins.toc != state(path):
            pins = pin(path)
            _shared[key] = weakref.ref(pins)
    return FileIndex(PinnedStorage(pins), indexname=INDEX_NAME)
