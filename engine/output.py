"""Output files that are never half-written: a report goes to a temporary file beside its
target and is renamed over it only when complete, so an interrupted or failed run leaves the
earlier result as it was, and two runs writing the same file leave one whole result, never
interleaved lines.

Streamed formats (JSON Lines, CSV) go through the same temporary file; when a run is
interrupted, the whole lines written so far are kept beside the target as `<name>.partial`
(the target itself is untouched) and the caller says how many cases they hold."""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import TextIO

from .errors import InputError, Problem

__all__ = ["AtomicOutput", "write_atomic", "PARTIAL_SUFFIX"]

PARTIAL_SUFFIX = ".partial"


class AtomicOutput:
    """`with AtomicOutput(path) as f: f.write(...)`: renamed into place on a clean exit,
    removed on an exception, kept as `<path>.partial` on KeyboardInterrupt when `keep_partial`.

    A target that exists and is not a regular file (a device such as /dev/null or
    /dev/full, a FIFO) is written directly: replacing it would be wrong. A symlink is
    followed, so the file it points to is the one replaced."""

    def __init__(self, path: str | os.PathLike, keep_partial: bool = False):
        self.name = str(path)
        self.target = Path(os.path.realpath(path))
        self.keep_partial = keep_partial
        self.partial: str | None = None     # where an interrupted run's lines were kept
        self._tmp: str | None = None
        self._file: TextIO | None = None

    def _fail(self, e: OSError) -> InputError:
        return InputError(Problem("", None, None, f"{self.name}: cannot write: {e.strerror or e}"))

    def __enter__(self) -> TextIO:
        try:
            mode = self.target.stat().st_mode
        except FileNotFoundError:
            mode = None
        except OSError as e:
            raise self._fail(e) from None
        try:
            if mode is not None and not stat.S_ISREG(mode):
                self._file = open(self.target, "w", encoding="utf-8")
            else:
                fd, self._tmp = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".tmp",
                                                 dir=self.target.parent)
                self._file = os.fdopen(fd, "w", encoding="utf-8")
        except OSError as e:
            raise self._fail(e) from None
        return _Guarded(self._file, self._fail)

    def __exit__(self, kind, error, tb) -> None:
        f, tmp = self._file, self._tmp
        if kind is not None:
            try:
                f.close()   # whole lines: writers write a line at a time
            except OSError:
                pass
            if tmp and kind is KeyboardInterrupt and self.keep_partial:
                _copy_mode(self.target, tmp)
                os.replace(tmp, str(self.target) + PARTIAL_SUFFIX)
                self.partial = self.name + PARTIAL_SUFFIX
            else:
                self._discard(tmp)
            return
        try:
            f.flush()
            if tmp:
                os.fsync(f.fileno())
            f.close()
            if tmp:
                _copy_mode(self.target, tmp)
                os.replace(tmp, self.target)
        except OSError as e:
            self._discard(tmp)
            raise self._fail(e) from None

    @staticmethod
    def _discard(tmp: str | None) -> None:
        if tmp:
            try:
                os.unlink(tmp)
            except OSError:
                pass


class _Guarded:
    """The file as writers see it: a failed write (a full disk) is an InputError naming the
    output, not a traceback."""

    def __init__(self, f: TextIO, fail):
        self._f, self._fail = f, fail

    def write(self, text: str) -> int:
        try:
            return self._f.write(text)
        except OSError as e:
            raise self._fail(e) from None

    def write_bytes(self, data: bytes) -> None:
        """Text already encoded as UTF-8 (rows a worker encoded), after what was written as text."""
        try:
            self._f.flush()
            self._f.buffer.write(data)
        except OSError as e:
            raise self._fail(e) from None

    def flush(self) -> None:
        try:
            self._f.flush()
        except OSError as e:
            raise self._fail(e) from None


def _copy_mode(target: Path, tmp: str) -> None:
    """The new file keeps the old one's permissions; a new file gets the umask's."""
    try:
        os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)


def write_atomic(path: str | os.PathLike, text: str) -> None:
    with AtomicOutput(path) as f:
        f.write(text)
