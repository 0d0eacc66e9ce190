"""Host unit test of the virtio-fs client's FUSE messages (virtio/fuse_msg.c),
built with AddressSanitizer and UBSan by `make unit-fuse`: requests through
a fake transport, read back at their byte offsets in Linux's fuse.h, and
malformed replies that must be refused. The mutants check the test itself:
each copy of fuse_msg.c with one check or one field taken out must fail it."""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = ("init", "lookup", "open_release", "read_write", "getattr", "errors", "short_reply",
         "len_beyond_buffer", "len_below_written", "positive_error", "unknown_unique")
# (what is replaced, by what): each must be in fuse_msg.c exactly once
MUTANTS = {
    "no_short_check": ("written < sizeof *oh ||", "0 ||"),
    "no_unique_check": ("oh->unique != ih->unique ||", "0 ||"),
    "no_len_check": ("oh->len != written ||", "0 ||"),
    "no_error_sign_check": ("|| oh->error > 0;", "|| 0;"),
    "no_argument_len": ("ih->len += in[i].len;", "(void)0;"),
    "unique_dropped": (".unique = unique,", ".unique = 0,"),
    "errno_range": ("oh->error > -4096 ? oh->error : -EIO", "oh->error"),
    "no_init_flags": (".flags = FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES | FUSE_MAX_PAGES", ".flags = 0"),
    "init_short_accepted": ("r < 0 || r < 24 ||", "r < 0 ||"),
    "max_pages_ignored": ("max = MIN(max, (uint32_t)out->max_pages * PAGE_SIZE);", "(void)0;"),
}


FSOPS_CASES = ("open_read_write_close", "missing", "chunked_read", "deep_path")
# mutants of virtio/fsops.c: a request field filled wrong, a reference kept
FSOPS_MUTANTS = {
    "read_offset": ("struct fuse_read_in in = {.fh = ff->fh, .offset = pos + done,",
                    "struct fuse_read_in in = {.fh = ff->fh, .offset = pos,"),
    "write_offset": ("struct fuse_write_in in = {.fh = ff->fh, .offset = pos + done,",
                     "struct fuse_write_in in = {.fh = ff->fh, .offset = pos,"),
    "release_fh": ("struct fuse_release_in in = {.fh = ff->fh,", "struct fuse_release_in in = {.fh = 0,"),
    "open_flags": ("struct fuse_open_in in = {.flags = dir ? 0 : flags & HOST_OPEN_FLAGS};",
                   "struct fuse_open_in in = {.flags = 0};"),
    "name_without_nul": ("*seg = (struct fuse_seg){buf, len + 1};", "*seg = (struct fuse_seg){buf, len};"),
    "getattr_no_fh": (".getattr_flags = fh ? FUSE_GETATTR_FH : 0", ".getattr_flags = 0"),
    "dir_kept": ("\t\tput_node(w->dir);\n\t\tw->dir = e.nodeid;", "\t\tw->dir = e.nodeid;"),
}


def build_and_run(target):
    build = subprocess.run(["make", "-s", target], cwd=ROOT, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    r = subprocess.run([os.path.join(ROOT, target)], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    return r.returncode, r.stdout + r.stderr


def test_fuse_unit():
    rc, out = build_and_run("build/unit/fuse_test")
    assert rc == 0, out
    assert f"fuse_test: {len(CASES)} passed, 0 failed" in out, out
    assert "runtime error" not in out and "AddressSanitizer" not in out, out
    for case in CASES:
        assert f"ok {case}\n" in out, out


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_fuse_mutant_fails(name):
    with open(os.path.join(ROOT, "virtio/fuse_msg.c")) as f:
        src = f.read()
    old, new = MUTANTS[name]
    assert src.count(old) == 1, f"fuse_msg.c no longer has {old!r} once"
    mutant = src.replace(old, new)
    os.makedirs(os.path.join(ROOT, "build/unit/mutfuse"), exist_ok=True)
    path = os.path.join(ROOT, f"build/unit/mutfuse/{name}.c")
    prev = open(path).read() if os.path.exists(path) else None
    if prev != mutant:
        with open(path, "w") as f:
            f.write(mutant)
    rc, out = build_and_run(f"build/unit/mutfuse/{name}")
    assert rc != 0, f"the test passed with {old!r} replaced by {new!r}:\n{out}"
    assert "FAIL " in out or "AddressSanitizer" in out or "runtime error" in out, out


def test_fsops_unit():
    rc, out = build_and_run("build/unit/fsops_test")
    assert rc == 0, out
    assert f"fsops_test: {len(FSOPS_CASES)} passed, 0 failed" in out, out
    assert "runtime error" not in out and "AddressSanitizer" not in out, out
    for case in FSOPS_CASES:
        assert f"ok {case}\n" in out, out


@pytest.mark.parametrize("name", sorted(FSOPS_MUTANTS))
def test_fsops_mutant_fails(name):
    with open(os.path.join(ROOT, "virtio/fsops.c")) as f:
        src = f.read()
    old, new = FSOPS_MUTANTS[name]
    assert src.count(old) == 1, f"fsops.c no longer has {old!r} once"
    mutant = src.replace(old, new)
    os.makedirs(os.path.join(ROOT, "build/unit/mutfsops"), exist_ok=True)
    path = os.path.join(ROOT, f"build/unit/mutfsops/{name}.c")
    prev = open(path).read() if os.path.exists(path) else None
    if prev != mutant:
        with open(path, "w") as f:
            f.write(mutant)
    rc, out = build_and_run(f"build/unit/mutfsops/{name}")
    assert rc != 0, f"the test passed with {old!r} replaced by {new!r}:\n{out}"
    assert "FAIL " in out or "AddressSanitizer" in out or "runtime error" in out, out
