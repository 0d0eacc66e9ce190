"""virtio-vsock end to end (issue 5): guest AF_VSOCK sockets, Toro's
vhost-user backend (build/toro-vsockd) and toro-run's --vsock-* options.
Guest programs: apps/vsock_echo.c, apps/webserver.c, tests/progs/vsock_*.c."""
import hashlib
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import BUILD, ROOT, TORO_RUN, build_image, toro_mpicc, toro_run, OUT


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def images():
    os.makedirs(OUT, exist_ok=True)
    out = {}
    for name in ["vsock_echo", "webserver"]:
        out[name] = os.path.join(OUT, name + ".elf")
        r = toro_mpicc("-O2", "-Wall", os.path.join(ROOT, "apps", name + ".c"), "-o", out[name])
        assert r.rc == 0, r
    out["api"] = build_image("vsock_api.c")
    out["client"] = build_image("vsock_client.c")
    out["epoll_echo"] = build_image("vsock_epoll_echo.c")
    return out


class Job:
    """toro-run in the background; its output is collected by a thread."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([TORO_RUN, *map(str, args)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.out = b""
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for chunk in iter(lambda: self.proc.stdout.read1(65536), b""):
            with self.lock:
                self.out += chunk

    def text(self):
        with self.lock:
            return self.out.decode(errors="replace")

    def wait_for(self, pattern, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.text()):
                return
            if self.proc.poll() is not None:
                self.reader.join(5)
                break
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} from the job:\n{self.text()}")

    def wait(self, timeout=120):
        rc = self.proc.wait(timeout)
        self.reader.join(5)
        return rc

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.wait(30)


@pytest.fixture
def jobs():
    started = []
    yield lambda *args: started.append(Job(*args)) or started[-1]
    for j in started:
        j.stop()


def echo_job(jobs, images, *extra, guest_args=()):
    port = free_port()
    job = jobs("--vsock-forward", f"{port}:7", *extra, images["vsock_echo"], "--", *guest_args)
    job.wait_for(r"listening on port 7")
    return job, port


def connect(port, timeout=60):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exactly(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(1 << 20, n - len(buf)))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def vsockd_processes(sock_dir_part):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"toro-vsockd") and any(sock_dir_part.encode() in a for a in args):
            found.append(int(pid))
    return found


# --- the socket calls in the guest ---

def test_no_device_means_eafnosupport(images):
    r = toro_run(images["api"], "--", "nodevice", timeout=120)
    assert r.rc == 0 and "PASS socket(AF_VSOCK) without a device" in r.out, r


def test_socket_call_errors(images, tmp_path):
    r = toro_run("--vsock-unix", tmp_path / "v.sock", images["api"], timeout=180)
    assert "FAIL" not in r.out and r.rc == 0, r
    assert r.out.count("PASS") >= 18, r


# --- echo ---

def test_echo_one_connection(jobs, images):
    job, port = echo_job(jobs, images)
    data = os.urandom(300_000)
    with connect(port) as s:
        s.sendall(b"hello\n")
        assert recv_exactly(s, 6) == b"hello\n"
        sender = threading.Thread(target=s.sendall, args=(data,))
        sender.start()
        got = recv_exactly(s, len(data))
        sender.join()
    assert got == data
    assert job.stop() == 128 + signal.SIGTERM


def test_echo_64_connections_at_once(jobs, images):
    job, port = echo_job(jobs, images)
    conns = [connect(port) for _ in range(64)]
    msgs = [f"connection {i} says {os.urandom(8).hex()}\n".encode() * (i + 1) for i in range(64)]
    for s, m in zip(conns, msgs):
        s.sendall(m)
    for s, m in zip(conns, msgs):
        assert recv_exactly(s, len(m)) == m
    for s in conns:
        s.close()
    job.stop()


def test_epoll_echo_server_with_64_connections(jobs, images):
    """A server written with epoll (edge-triggered listener, level-triggered
    clients) serves 64 clients at once and exits after they are done."""
    port = free_port()
    job = jobs("--vsock-forward", f"{port}:7", images["epoll_echo"], "--", "64")
    job.wait_for(r"listening on port 7")
    conns = [connect(port) for _ in range(64)]
    for i, s in enumerate(conns):
        s.sendall(f"client {i}\n".encode())
    for i, s in enumerate(conns):
        want = f"client {i}\n".encode()
        assert recv_exactly(s, len(want)) == want
    for s in conns:
        s.close()
    assert job.wait(120) == 0, job.text()
    assert "64 connections, 0 failures" in job.text() and "FAIL" not in job.text(), job.text()


def test_256_mib_each_way_with_checksum(jobs, images):
    job, port = echo_job(jobs, images)
    total, block = 256 << 20, os.urandom(1 << 20)
    sent, got = hashlib.sha256(), hashlib.sha256()
    with connect(port, timeout=300) as s:
        def send():
            for i in range(total // len(block)):
                chunk = i.to_bytes(8, "little") + block[8:]
                sent.update(chunk)
                s.sendall(chunk)
        sender = threading.Thread(target=send)
        t0 = time.monotonic()
        sender.start()
        n = 0
        while n < total:
            chunk = s.recv(1 << 20)
            assert chunk, f"connection closed after {n} bytes"
            got.update(chunk)
            n += len(chunk)
        sender.join()
        seconds = time.monotonic() - t0
    assert got.hexdigest() == sent.hexdigest()
    print(f"vsock echo: 256 MiB each way in {seconds:.1f} s ({256 / seconds:.0f} MiB/s each way)")
    job.stop()


def test_host_closes_mid_transfer_and_the_server_goes_on(jobs, images):
    """The first client sends 8 MiB and resets the connection without
    reading; the echo server sees EOF or an error and serves the next
    client. With -n 2 it exits by itself after two connections."""
    job, port = echo_job(jobs, images, guest_args=["-n", "2"])
    s = connect(port)
    s.settimeout(5)  # nobody reads the echo: the send stalls once the buffers are full
    try:
        s.sendall(os.urandom(8 << 20))
    except OSError:
        pass  # the guest may already push back
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")  # close with RST
    s.close()
    with connect(port) as s2:
        s2.sendall(b"still there?\n")
        assert recv_exactly(s2, 13) == b"still there?\n"
    assert job.wait(120) == 0, job.text()
    assert "vsock_echo: 2 connections" in job.text(), job.text()


def test_unbound_guest_port_is_refused(jobs, images, tmp_path):
    """Forwarded to a guest port nobody listens on: the host side sees the
    connection closed or reset, and the CONNECT handshake gets no OK."""
    closed_port = free_port()
    path = tmp_path / "v.sock"
    job, port = echo_job(jobs, images, "--vsock-forward", f"{closed_port}:8", "--vsock-unix", path, "--vsock-wait", "0")
    with connect(closed_port, timeout=30) as s:
        try:
            data = s.recv(100)
        except ConnectionResetError:
            data = b""
    assert data == b""
    with socket.socket(socket.AF_UNIX) as u:
        u.settimeout(30)
        u.connect(str(path))
        u.sendall(b"CONNECT 8\n")
        try:
            reply = u.recv(100)
        except ConnectionResetError:
            reply = b""
    assert not reply.startswith(b"OK"), reply
    with socket.socket(socket.AF_UNIX) as u:  # and port 7 through the same path works
        u.settimeout(30)
        u.connect(str(path))
        u.sendall(b"CONNECT 7\n")
        line = b""
        while not line.endswith(b"\n"):
            c = u.recv(1)
            assert c, line
            line += c
        assert line.startswith(b"OK "), line
        u.sendall(b"via unix\n")
        assert recv_exactly(u, 9) == b"via unix\n"
    job.stop()


def serve_once(listener, replies):
    conn, _ = listener.accept()
    with conn:
        data = b""
        while not data.endswith(b"\n"):
            c = conn.recv(100)
            if not c:
                break
            data += c
        replies.append(data)
        conn.sendall(data)


def test_guest_connects_to_a_host_unix_listener(images, tmp_path):
    path = tmp_path / "v.sock"
    replies = []
    with socket.socket(socket.AF_UNIX) as l:
        l.bind(f"{path}_5000")
        l.listen(1)
        t = threading.Thread(target=serve_once, args=(l, replies), daemon=True)
        t.start()
        r = toro_run("--vsock-unix", path, images["client"], "--", "5000", "hello host", timeout=180)
        t.join(10)
    assert r.rc == 0 and "host said: hello host" in r.out, r
    assert replies == [b"hello host\n"]


def test_guest_connects_to_a_host_tcp_address(images, tmp_path):
    replies = []
    with socket.socket() as l:
        l.bind(("127.0.0.1", 0))
        l.listen(1)
        tcp = l.getsockname()[1]
        t = threading.Thread(target=serve_once, args=(l, replies), daemon=True)
        t.start()
        r = toro_run("--vsock-connect", f"6000:127.0.0.1:{tcp}", images["client"], "--", "6000", "over tcp",
                     timeout=180)
        t.join(10)
    assert r.rc == 0 and "host said: over tcp" in r.out, r


# --- toro-run ---

@pytest.mark.parametrize("opt, value, message", [
    ("--vsock-forward", "80", "expected HOSTPORT:GUESTPORT"),
    ("--vsock-forward", "http:80", "ports are numbers"),
    ("--vsock-forward", "70000:80", "port out of range"),
    ("--vsock-connect", "5:localhost", "expected PORT:HOST:HOSTPORT"),
    ("--vsock-unix", "/no/such/dir/v.sock", "is not a directory"),
])
def test_toro_run_rejects_bad_vsock_options(images, opt, value, message):
    r = toro_run(opt, value, images["vsock_echo"], timeout=60)
    assert r.rc == 2 and message in r.err, r


def test_forward_port_in_use_is_a_clear_error(images):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = toro_run("--vsock-forward", f"{port}:7", images["vsock_echo"], timeout=60)
    assert r.rc == 125 and str(port) in r.err, r


def test_backend_stopped_after_the_job(images, tmp_path):
    path = tmp_path / "v.sock"
    r = toro_run("--vsock-unix", path, images["api"], "--", "nodevice", timeout=120)
    assert r.rc == 1, r  # with a device, socket(AF_VSOCK) works: the "nodevice" check fails
    time.sleep(0.5)
    assert vsockd_processes(str(path)) == []


# --- the web server (needs --fs, so root) ---

FILES = {"empty.bin": 0, "small.bin": 10 * 1024, "big.bin": 16 << 20}


@pytest.fixture(scope="module")
def web(images, tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the web server serves an --fs share; QEMU 7.2's virtiofsd needs root")
    www = tmp_path_factory.mktemp("www")
    for name, size in FILES.items():
        (www / name).write_bytes(os.urandom(size))
    (www / "index.html").write_text("<h1>Toro</h1>\n")
    port = free_port()
    job = Job("--fs", www, "--vsock-forward", f"{port}:80", images["webserver"])
    try:
        job.wait_for(r"webserver: serving")
        yield www, f"http://127.0.0.1:{port}"
    finally:
        job.stop()


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "120", *map(str, args)], capture_output=True, timeout=300)


@pytest.mark.parametrize("name", sorted(FILES) + ["index.html"])
def test_web_get_is_identical_to_the_host_file(web, name, tmp_path):
    www, url = web
    out = tmp_path / "got"
    r = curl("-o", out, "-w", "%{http_code} %{size_download}", f"{url}/{name}")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == f"200 {(www / name).stat().st_size}"
    assert out.read_bytes() == (www / name).read_bytes()


def test_web_missing_file_is_404(web):
    _, url = web
    r = curl("-o", "/dev/null", "-w", "%{http_code}", f"{url}/no-such-file.html")
    assert r.stdout == b"404", r


def test_web_head_gives_the_length_and_no_body(web):
    _, url = web
    r = curl("-I", f"{url}/small.bin")
    assert r.returncode == 0 and b"HTTP/1.1 200 OK" in r.stdout, r
    assert b"Content-Length: 10240" in r.stdout
    assert r.stdout.endswith(b"\r\n\r\n")  # headers only


def test_web_keep_alive_reuses_the_connection(web):
    _, url = web
    r = curl("-v", "-o", "/dev/null", "-o", "/dev/null", f"{url}/index.html", f"{url}/small.bin")
    assert r.returncode == 0, r
    assert b"Re-using existing connection" in r.stderr, r.stderr.decode()


def test_web_5000_requests_without_error(web):
    """Ten curl processes of 500 requests each (keep-alive), two at a time."""
    _, url = web
    names = ["index.html", "small.bin", "empty.bin", "missing"]
    t0 = time.monotonic()
    codes = []
    for batch in range(5):
        procs = [subprocess.Popen(["curl", "-sS", "--max-time", "300", "-w", "%{http_code}\\n"] +
                                  sum((["-o", "/dev/null", f"{url}/{names[i % 4]}"] for i in range(500)), []),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
        for p in procs:
            out, err = p.communicate(timeout=600)
            assert p.returncode == 0, err
            codes += out.decode().split()
    seconds = time.monotonic() - t0
    expected = ["200", "200", "200", "404"] * 1250
    assert len(codes) == 5000 and sorted(codes) == sorted(expected)
    print(f"web server: 5000 requests in {seconds:.1f} s, {5000 / seconds:.0f} requests/s")


def test_qemu_and_backend_go_when_toro_run_is_killed(jobs, images):
    """SIGKILL gives toro-run no chance to clean up: QEMU and the backend
    must still go (they are started with PR_SET_PDEATHSIG)."""
    job, port = echo_job(jobs, images)
    children = subprocess.run(["pgrep", "-P", str(job.proc.pid)], capture_output=True, text=True).stdout.split()
    assert len(children) >= 2, children  # QEMU and toro-vsockd
    job.proc.kill()
    job.wait(30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{c}") for c in children):
        time.sleep(0.1)
    assert not any(os.path.exists(f"/proc/{c}") for c in children)


def test_backend_dying_mid_job_is_reported(jobs, images):
    job, port = echo_job(jobs, images)
    backend = [int(p) for p in subprocess.run(["pgrep", "-P", str(job.proc.pid), "toro-vsockd"],
                                              capture_output=True, text=True).stdout.split()]
    assert len(backend) == 1, backend
    os.kill(backend[0], signal.SIGKILL)
    job.wait_for(r"vsock backend \(toro-vsockd\) exited during the job, killed by signal 9")
    assert "no vsock connection reaches the host" in job.text()
    job.stop()


# --- connections that come before the guest listens (issue 11) ---

def connect_when_open(port, timeout=60):
    """Connects as soon as toro-vsockd listens on the forwarded port (the
    guest may not have reached listen() yet: that is the point)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return connect(port)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def echo_mib(port, results, i):
    try:
        data = os.urandom(1 << 20)
        with connect_when_open(port) as s:
            sender = threading.Thread(target=s.sendall, args=(data,))
            sender.start()
            got = recv_exactly(s, len(data))
            sender.join()
        results[i] = got == data or f"connection {i}: {len(got)} of {len(data)} bytes came back intact"
    except OSError as e:
        results[i] = f"connection {i}: {e!r}"


def test_16_early_connections_wait_for_the_listener_20_runs(images):
    """16 clients connect the moment the forwarded port opens, before the
    guest program listens; each must be held until it does and then echo
    1 MiB. 20 jobs in a row, so a race shows."""
    for run in range(20):
        port = free_port()
        job = Job("--vsock-forward", f"{port}:7", images["vsock_echo"], "--", "-n", "16")
        results = [None] * 16
        threads = [threading.Thread(target=echo_mib, args=(port, results, i)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        rc = job.wait(120) if all(r is True for r in results) else job.stop()
        assert results == [True] * 16, f"run {run}: {[r for r in results if r is not True]}\n{job.text()}"
        assert rc == 0, f"run {run}:\n{job.text()}"


def test_a_client_gives_up_after_vsock_wait(images):
    """Nobody ever listens on guest port 9: the held client is refused
    after --vsock-wait, not before and not never."""
    port = free_port()
    job = Job("--vsock-forward", f"{port}:9", "--vsock-wait", "2", images["vsock_echo"])
    try:
        job.wait_for(r"listening on port 7")
        t0 = time.monotonic()
        with connect(port, timeout=30) as s:
            try:
                data = s.recv(100)
            except ConnectionResetError:
                data = b""
        waited = time.monotonic() - t0
    finally:
        job.stop()
    assert data == b""
    assert waited >= 1.5, waited
