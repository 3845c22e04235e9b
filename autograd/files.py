"""Writing files so that nothing is lost: every file chainrule writes goes through here.

    >>> write_atomic("out.txt", "hello\\n")
    'out.txt'

`write_atomic` writes a temporary file in the target's folder, fsyncs it and renames it over
the target, so a full disk, a crash or Ctrl-C mid-write leaves the old file whole. A symlink
is followed (its target is replaced, the link kept); a device, FIFO, socket or directory is
refused before anything is written. `check_writable(path)` proves a path can be written (it
creates and removes the very temporary file a save will use) so a long job can fail before
it starts rather than after. `open_regular(path)` opens a file for reading only if it is a
regular file, without ever waiting on a FIFO.
"""
import os
import stat
import tempfile


class UnwritablePath(OSError):
    """A path chainrule refuses to write, or cannot: the message names the path and why."""

    def __init__(self, path, why):
        super().__init__(f"cannot write {path}: {why}")
        self.path, self.reason = path, why

    def __str__(self):
        return self.args[0]


class NotRegularFile(OSError):
    """`open_regular` refused `path`: `.kind` says what it is instead ("a FIFO", ...)."""

    def __init__(self, path, kind):
        super().__init__(f"{path}: {kind}, not a regular file")
        self.path, self.kind = path, kind

    def __str__(self):
        return self.args[0]


def file_kind(mode):
    """What a file of this `st_mode` is, in words, when it is not a regular file."""
    return ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")


def open_regular(path):
    """(binary file object, its os.stat_result) for reading `path`, a regular file; else
    `NotRegularFile`. O_NONBLOCK: opening a FIFO must not wait for a writer (for a regular
    file it changes nothing); the type is checked on the open descriptor, so the file cannot
    be swapped in between."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(os.fsdecode(path), file_kind(st.st_mode))
        return os.fdopen(fd, "rb"), st
    except BaseException:
        os.close(fd)
        raise


def _resolve(path):
    """The real file a write to `path` should replace, after checking what is there now."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not path:
        raise UnwritablePath("''", "the path is empty")
    real = os.path.realpath(path)  # follows symlinks, dangling ones included
    try:
        st = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise UnwritablePath(path, e.strerror or str(e)) from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise UnwritablePath(path, f"it is {file_kind(st.st_mode)}; only regular files are written")
    folder = os.path.dirname(real) or "."
    if not os.path.isdir(folder):
        raise UnwritablePath(path, f"the folder {folder} does not exist")
    return path, real, folder, st


def _temp(shown, real, folder):
    # The temporary name must fit the filesystem's name limit even when the target's does.
    base = os.path.basename(real)
    prefix = "." + base[: max(1, 200 - len(base) // 4)][:180] + "."
    try:
        return tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=folder)
    except OSError as e:
        raise UnwritablePath(shown, e.strerror or str(e)) from None


def check_writable(path):
    """Raise UnwritablePath unless `path` could be written by `write_atomic` now; returns
    `path`."""
    shown, real, folder, _ = _resolve(path)
    fd, tmp = _temp(shown, real, folder)
    os.close(fd)
    os.unlink(tmp)
    return path


def write_atomic(path, data, *, encoding="utf-8"):
    """Replace the file at `path` with `data` (str or bytes), all or nothing; returns `path`.

    The new file keeps the mode of the file it replaces, or gets the mode `open()` would give
    (mkstemp's 0600 would make a saved model private). Errors name `path`, never the
    temporary file.
    """
    shown, real, folder, st = _resolve(path)
    if isinstance(data, str):
        data = data.encode(encoding)
    elif not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"write_atomic: data must be str or bytes, got {type(data).__name__}")
    fd, tmp = _temp(shown, real, folder)
    try:
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, st.st_mode & 0o7777 if st is not None else _default_mode())
            os.replace(tmp, real)
        except OSError as e:
            raise UnwritablePath(shown, e.strerror or str(e)) from None
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable; not every filesystem can fsync a directory
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return path


def _default_mode():
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
