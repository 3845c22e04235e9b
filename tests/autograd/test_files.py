"""write_atomic: all or nothing, through symlinks, never onto a device, FIFO or directory."""
import errno
import os
import stat

import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

from autograd import files
from autograd.files import UnwritablePath, check_writable, write_atomic


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=3000), st.text(max_size=500)))
def test_writes_exactly_the_data_and_leaves_nothing_else(tmp_path, data):
    target = tmp_path / "out.bin"
    assert write_atomic(target, data) == target
    want = data.encode("utf-8") if isinstance(data, str) else data
    assert target.read_bytes() == want
    assert listing(tmp_path) == ["out.bin"]


def test_a_symlink_is_followed_and_kept(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"
    assert listing(tmp_path) == ["link.txt", "real.txt"]


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "made.txt")
    write_atomic(link, "hello")
    assert link.is_symlink() and (tmp_path / "made.txt").read_text() == "hello"


def special(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    link_to_dir = tmp_path / "link"
    link_to_dir.symlink_to(folder)
    return [(fifo, "a FIFO"), (folder, "a directory"), (link_to_dir, "a directory")]


@pytest.mark.parametrize("call", [check_writable, lambda p: write_atomic(p, b"x")])
def test_fifos_and_directories_are_refused_before_writing(tmp_path, call):
    for path, kind in special(tmp_path):
        before = listing(tmp_path)
        with pytest.raises(UnwritablePath) as info:
            call(path)   # a FIFO would block an ordinary open() forever: this returns at once
        assert str(info.value) == f"cannot write {path}: it is {kind}; only regular files are written"
        assert info.value.path == str(path)
        assert listing(tmp_path) == before


def test_a_device_is_refused_and_left_alone():
    # /dev/null is a character device that root could open: it must still be refused
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    for call in (check_writable, lambda p: write_atomic(p, "x")):
        with pytest.raises(UnwritablePath, match="cannot write /dev/null: it is a device"):
            call("/dev/null")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


class FullDisk:
    """A file object that writes a little and then runs out of space."""

    def __init__(self, f):
        self.f = f

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()

    def write(self, data):
        self.f.write(data[:5])
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_leaves_the_old_file_whole_and_names_the_path(tmp_path, monkeypatch):
    target = tmp_path / "model.json"
    target.write_text("the old model, whole")
    real_fdopen = os.fdopen
    monkeypatch.setattr(files.os, "fdopen", lambda fd, mode: FullDisk(real_fdopen(fd, mode)))
    with pytest.raises(UnwritablePath) as info:
        write_atomic(target, "the new model " * 1000)
    assert str(info.value) == f"cannot write {target}: No space left on device"
    assert ".tmp" not in str(info.value)
    assert target.read_text() == "the old model, whole"
    assert listing(tmp_path) == ["model.json"]


@pytest.mark.parametrize("failure", [OSError(errno.EXDEV, "Invalid cross-device link"),
                                     KeyboardInterrupt()])
def test_a_failed_rename_or_an_interrupt_leaves_the_old_file(tmp_path, monkeypatch, failure):
    target = tmp_path / "out.txt"
    target.write_text("old")

    def fail(*args):
        raise failure
    monkeypatch.setattr(files.os, "replace", fail)
    with pytest.raises(type(failure)) as info:
        write_atomic(target, "new")
    if isinstance(failure, OSError):
        assert str(info.value) == f"cannot write {target}: Invalid cross-device link"
    assert target.read_text() == "old" and listing(tmp_path) == ["out.txt"]


@pytest.mark.parametrize("length", [245, 255])
def test_long_legal_names_are_written(tmp_path, length):
    target = tmp_path / ("n" * (length - 5) + ".json")
    assert len(target.name) == length
    check_writable(target)
    write_atomic(target, "{}")
    assert target.read_text() == "{}" and listing(tmp_path) == [target.name]


def test_a_name_too_long_names_the_path(tmp_path):
    target = tmp_path / ("n" * 300)
    with pytest.raises(UnwritablePath) as info:
        write_atomic(target, "x")
    assert str(target) in str(info.value) and ".tmp" not in str(info.value)


def test_the_mode_of_the_replaced_file_is_kept(tmp_path):
    target = tmp_path / "script.sh"
    target.write_text("old")
    os.chmod(target, 0o751)
    write_atomic(target, "new")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o751


def test_a_new_file_gets_the_mode_open_would_give(tmp_path):
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "new.txt", "x")
        with open(tmp_path / "plain.txt", "w") as f:
            f.write("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.txt").st_mode) == \
        stat.S_IMODE(os.stat(tmp_path / "plain.txt").st_mode) == 0o640


def test_a_missing_folder_and_bad_arguments(tmp_path):
    with pytest.raises(UnwritablePath, match="the folder .* does not exist"):
        write_atomic(tmp_path / "nope" / "x.txt", "x")
    with pytest.raises(UnwritablePath, match="the path is empty"):
        write_atomic("", "x")
    with pytest.raises(TypeError, match="path must be a str or os.PathLike, got int"):
        write_atomic(3, "x")
    with pytest.raises(TypeError, match="data must be str or bytes, got list"):
        write_atomic(tmp_path / "x.txt", [1])
    assert listing(tmp_path) == []


def test_check_writable_leaves_no_trace(tmp_path):
    assert check_writable(tmp_path / "later.json") == tmp_path / "later.json"
    assert listing(tmp_path) == []


def test_open_regular_reads_a_file_and_refuses_the_rest_without_waiting(tmp_path):
    from autograd.files import NotRegularFile, open_regular
    path = tmp_path / "a.txt"
    path.write_bytes(b"abc")
    f, st = open_regular(path)
    with f:
        assert f.read() == b"abc" and st.st_size == 3
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for where, kind in ((fifo, "a FIFO"), (tmp_path, "a directory"), ("/dev/null", "a device")):
        with pytest.raises(NotRegularFile) as caught:   # a FIFO with no writer: no wait
            open_regular(where)
        assert caught.value.kind == kind and str(where) in str(caught.value)
