"""Real disks for tests: a small tmpfs that fills up, and a read-only view of a folder.

Mounting needs root (CAP_SYS_ADMIN); where it is refused, the fixtures skip
with the reason. Every mount is undone when its fixture ends, whatever the test
did. A test that wants them imports the fixtures into its module.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

SMALL_DISK_SIZE = "8m"


def _mount(*arguments: str) -> None:
    """Run `mount` with `arguments`; skip the test, saying why, when it cannot."""
    if os.geteuid() != 0:
        pytest.skip("mounting a test disk needs root (CAP_SYS_ADMIN); this test runs as a user")
    try:
        result = subprocess.run(
            ["mount", *arguments], check=False, capture_output=True, text=True, timeout=30
        )
    except FileNotFoundError:
        pytest.skip("there is no mount command on this machine")
    if result.returncode != 0:
        pytest.skip(f"this machine cannot mount a test disk: {result.stderr.strip() or result.returncode}")


def _unmount(target: Path) -> None:
    result = subprocess.run(["umount", str(target)], check=False, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:  # still busy (a child that outlived its test): detach it anyway
        subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True, text=True, timeout=30)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An empty tmpfs of SMALL_DISK_SIZE, unmounted after the test."""
    target = tmp_path / "small-disk"
    target.mkdir()
    _mount("-t", "tmpfs", "-o", f"size={SMALL_DISK_SIZE}", "tmpfs", str(target))
    try:
        yield target
    finally:
        _unmount(target)


@pytest.fixture
def read_only_view(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(source, view): a folder, and a read-only bind mount of it, unmounted after the test.

    Root ignores permission bits but not a read-only mount, so the view is
    read-only for everyone; whatever is written in the source shows in the view.
    """
    source = tmp_path / "source"
    view = tmp_path / "read-only"
    source.mkdir()
    view.mkdir()
    _mount("--bind", str(source), str(view))
    try:
        _mount("-o", "remount,bind,ro", str(view))
        yield source, view
    finally:
        _unmount(view)


def free_bytes(folder: Path) -> int:
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


def fill(disk: Path, leave_bytes: int) -> Path:
    """A filler file that leaves about `leave_bytes` free on `disk`; delete it to make room again."""
    filler = disk / "filler"
    size = max(0, free_bytes(disk) - leave_bytes)
    with filler.open("wb") as handle:
        handle.truncate(0)
        chunk = b"\0" * (1024 * 1024)
        while size > 0:
            written = handle.write(chunk[: min(len(chunk), size)])
            size -= written
    return filler
