#!/usr/bin/env python3
"""durablefs' self-test: the classic durability bugs, each of which a power cut must punish (CAUGHT: the data is
gone afterwards), and the right patterns, each of which it must spare (SPARED: the data is there).

    selftest.py --list                 the cases
    selftest.py --do CASE MOUNT        the file operations, on the mounted durablefs (then the driver cuts)
    selftest.py --check CASE MOUNT     on the durable state mounted again: exit 0 if the outcome is the expected one
    selftest.py --do live MOUNT        what mt needs of the live mount: flock(2) excludes a second process (mt's
                                       DirectoryLock), O_APPEND appends through two descriptors
    selftest.py --do trigger MOUNT     a write and fsync, then another: the driver's trigger kills it at the second

The mount's data/ folder exists at mount time, so it is durable from the start.
"""
import fcntl
import os
import subprocess
import sys


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(path, data, sync=True, flags=os.O_WRONLY | os.O_CREAT | os.O_EXCL):
    fd = os.open(path, flags, 0o600)
    try:
        os.write(fd, data)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def atomic(d, name, data, sync_dir):
    write_file(f"{d}/.{name}.tmp", data)
    os.rename(f"{d}/.{name}.tmp", f"{d}/{name}")
    if sync_dir:
        fsync_dir(d)


def do_rename(d, sync):
    atomic(d, "f", b"renamed", sync)


def do_append(d, sync):
    # a ledger's first line: O_APPEND, fsync of the file, and of the folder only when right
    write_file(f"{d}/ledger.tsv", b"line 1\n", flags=os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    write_file(f"{d}/ledger.tsv", b"line 2\n", flags=os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    if sync:
        fsync_dir(d)


def do_link(d, sync):
    write_file(f"{d}/.spool", b"archive")
    fsync_dir(d)               # the spool's own name is durable; only the link is in question
    os.link(f"{d}/.spool", f"{d}/archive.gz")
    if sync:
        fsync_dir(d)


def do_mkdir(d, sync):
    os.mkdir(f"{d}/raw_data", 0o700)
    write_file(f"{d}/raw_data/archive.gz", b"inside")
    fsync_dir(f"{d}/raw_data")  # the file is durable in its folder; the folder in its parent only if synced
    if sync:
        fsync_dir(d)


def do_data(d, sync):
    write_file(f"{d}/f", b"", sync=True)
    fsync_dir(d)               # the name is durable
    fd = os.open(f"{d}/f", os.O_WRONLY)
    os.write(fd, b"bytes")
    if sync:
        os.fsync(fd)
    os.close(fd)


def do_replace(d, sync):
    atomic(d, "state.json", b"old", True)
    atomic(d, "state.json", b"new", sync)


def do_unlink(d, sync):
    atomic(d, "f", b"kept", True)
    os.unlink(f"{d}/f")
    if sync:
        fsync_dir(d)


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


# case: (do, synced?, path checked, what a power cut must leave)
CASES = {
    "rename-without-folder-fsync-CAUGHT": (do_rename, False, "f", None),
    "rename-with-folder-fsync-SPARED": (do_rename, True, "f", b"renamed"),
    "append-create-without-folder-fsync-CAUGHT": (do_append, False, "ledger.tsv", None),
    "append-create-with-folder-fsync-SPARED": (do_append, True, "ledger.tsv", b"line 1\nline 2\n"),
    "link-without-folder-fsync-CAUGHT": (do_link, False, "archive.gz", None),
    "link-with-folder-fsync-SPARED": (do_link, True, "archive.gz", b"archive"),
    "mkdir-parent-never-fsynced-CAUGHT": (do_mkdir, False, "raw_data/archive.gz", None),
    "mkdir-parent-fsynced-SPARED": (do_mkdir, True, "raw_data/archive.gz", b"inside"),
    "data-without-fsync-CAUGHT": (do_data, False, "f", b""),
    "data-with-fsync-SPARED": (do_data, True, "f", b"bytes"),
    "replace-without-folder-fsync-CAUGHT": (do_replace, False, "state.json", b"old"),
    "replace-with-folder-fsync-SPARED": (do_replace, True, "state.json", b"new"),
    "unlink-without-folder-fsync-CAUGHT": (do_unlink, False, "f", b"kept"),
    "unlink-with-folder-fsync-SPARED": (do_unlink, True, "f", None),
}


def main(argv):
    if argv[1:] == ["--list"]:
        print("\n".join(CASES))
        return 0
    if len(argv) == 4 and argv[1] == "--do" and argv[2] == "trigger":
        # the driver mounts with --trigger fsync:data/f:2: this process dies at the second fsync
        d = argv[3] + "/data"
        fd = os.open(f"{d}/f", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        fsync_dir(d)
        os.write(fd, b"one")
        os.fsync(fd)
        os.pwrite(fd, b"two", 0)
        os.fsync(fd)
        return 0
    if len(argv) == 4 and argv[1] == "--do" and argv[2] == "live":
        d = argv[3] + "/data"
        lock = os.open(f"{d}/.mt.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        other = subprocess.run([sys.executable, "-c", "import fcntl, os, sys\n"
                                "fd = os.open(sys.argv[1], os.O_RDWR)\n"
                                "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept BlockingIOError:\n    sys.exit(75)\n",
                                f"{d}/.mt.lock"])
        if other.returncode != 75:
            print(f"a second process took the flock held by the first (exit {other.returncode})")
            return 1
        a = os.open(f"{d}/log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        b = os.open(f"{d}/log", os.O_WRONLY | os.O_APPEND)
        for i in range(3):
            os.write(a, b"a%d\n" % i)
            os.write(b, b"b%d\n" % i)
        os.close(a)
        os.close(b)
        got = read(f"{d}/log")
        if got != b"a0\nb0\na1\nb1\na2\nb2\n":
            print(f"O_APPEND through two descriptors gave {got!r}")
            return 1
        return 0
    if len(argv) != 4 or argv[1] not in ("--do", "--check") or argv[2] not in CASES:
        print(__doc__, file=sys.stderr)
        return 64
    do, sync, path, expected = CASES[argv[2]]
    d = argv[3] + "/data"
    if argv[1] == "--do":
        do(d, sync)
        # before the cut the live tree shows everything (the case's outcome is the cut's doing)
        live = read(f"{d}/{path}")
        if (live is None) != (do is do_unlink):
            print(f"{argv[2]}: before the cut data/{path} is {live!r}", file=sys.stderr)
            return 1
        return 0
    got = read(f"{d}/{path}")
    if got != expected:
        print(f"{argv[2]}: after the power cut data/{path} is {'missing' if got is None else repr(got)}, "
              f"expected {'missing' if expected is None else repr(expected)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
