"""A vhost-user front-end (QEMU's role) and a virtio-vsock guest driver in
Python, for testing build/toro-vsockd without QEMU.

Guest memory is a memfd given to the backend as two regions that are
adjacent in guest-physical space but far apart in "QEMU virtual" space,
so address translation and buffers crossing a region boundary are
exercised. A guest-physical address is also the offset in the memfd.
"""
import mmap
import os
import select
import socket
import struct
import subprocess
import time

from conftest import BUILD

VSOCKD = os.environ.get("TORO_VSOCKD", os.path.join(BUILD, "toro-vsockd"))

# vhost-user requests (QEMU docs/interop/vhost-user.rst)
GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE = 1, 2, 3, 4, 5
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR = 12, 13, 14
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_VRING_ENABLE = 15, 16, 17, 18
GET_CONFIG = 24
FLAG_VERSION, FLAG_REPLY, FLAG_NEED_REPLY = 1, 4, 8
F_VERSION_1, F_PROTOCOL_FEATURES = 1 << 32, 1 << 30
PROTO_REPLY_ACK, PROTO_CONFIG = 1 << 3, 1 << 9

# virtio-vsock (virtio 1.2 5.10)
HDR = struct.Struct("<QQIIIHHIII")
assert HDR.size == 44
REQUEST, RESPONSE, RST, SHUTDOWN, RW, CREDIT_UPDATE, CREDIT_REQUEST = range(1, 8)
SHUT_RCV, SHUT_SEND = 1, 2
HOST_CID = 2

DESC_F_NEXT, DESC_F_WRITE = 1, 2

MEM_SIZE = 4 << 20
REGION_SPLIT = 2 << 20                       # region 0: [0, 2M), region 1: [2M, 4M)
UVA = [0x7F0000000000, 0x7E5500000000]       # QEMU virtual address of each region
RING_AREA = [0x10000, 0x30000, 0x50000]      # per queue: desc, avail at +0x8000, used at +0xC000
RX_AREA = REGION_SPLIT - 0x8000              # rx buffers straddle the region boundary
TX_AREA, TX_AREA_END = 0x300000, 0x400000


class Timeout(Exception):
    pass


def start_backend(tmp, *args, cid=None):
    """Starts toro-vsockd with --socket tmp/vu.sock; returns (proc, socket path)."""
    sock = os.path.join(str(tmp), "vu.sock")
    cmd = [VSOCKD, "--socket", sock, *map(str, args)]
    if cid is not None:
        cmd += ["--guest-cid", str(cid)]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=str(tmp))
    deadline = time.monotonic() + 10
    while not os.path.exists(sock):
        if proc.poll() is not None or time.monotonic() > deadline:
            out, err = proc.communicate(timeout=5)
            raise RuntimeError(f"toro-vsockd did not start: rc={proc.returncode} {err.decode()}")
        time.sleep(0.005)
    return proc, sock


def stop_backend(proc, timeout=10):
    """Waits for the backend to end; returns (rc, stderr text)."""
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise
    return proc.returncode, err.decode(errors="replace")


class Master:
    """The vhost-user front-end: messages, memory, ring set-up."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.memfd = os.memfd_create("guest-ram", 0)
        os.ftruncate(self.memfd, MEM_SIZE)
        self.mem = mmap.mmap(self.memfd, MEM_SIZE)
        self.kick = {}
        self.call = {}

    def close(self):
        self.sock.close()
        for fd in list(self.kick.values()) + list(self.call.values()):
            os.close(fd)
        self.kick.clear()
        self.call.clear()

    # ---- messages ----

    def send(self, req, payload=b"", fds=(), need_reply=False, flags=None):
        if flags is None:
            flags = FLAG_VERSION | (FLAG_NEED_REPLY if need_reply else 0)
        data = struct.pack("<III", req, flags, len(payload)) + payload
        if fds:
            socket.send_fds(self.sock, [data], list(fds))
        else:
            self.sock.sendall(data)

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise EOFError("backend closed the vhost-user socket")
            buf += chunk
        return buf

    def reply(self, req):
        r, flags, size = struct.unpack("<III", self.recv_exact(12))
        assert r == req, f"reply to request {r}, expected {req}"
        assert flags & 3 == 1 and flags & FLAG_REPLY, hex(flags)
        return self.recv_exact(size)

    def get_u64(self, req):
        self.send(req)
        return struct.unpack("<Q", self.reply(req))[0]

    def ack(self, req, payload=b"", fds=()):
        """Sends with need_reply; returns the REPLY_ACK status (0: success)."""
        self.send(req, payload, fds, need_reply=True)
        return struct.unpack("<Q", self.reply(req))[0]

    # ---- set-up as QEMU does it ----

    def handshake(self):
        features = self.get_u64(GET_FEATURES)
        protocol = self.get_u64(GET_PROTOCOL_FEATURES)
        self.send(SET_PROTOCOL_FEATURES, struct.pack("<Q", protocol & (PROTO_REPLY_ACK | PROTO_CONFIG)))
        self.send(SET_OWNER)
        self.send(SET_FEATURES, struct.pack("<Q", features & (F_VERSION_1 | F_PROTOCOL_FEATURES)))
        return features, protocol

    def get_config(self, offset=0, size=8):
        self.send(GET_CONFIG, struct.pack("<III", offset, size, 0) + bytes(size))
        p = self.reply(GET_CONFIG)
        off, sz, _ = struct.unpack_from("<III", p)
        return sz, p[12:12 + sz]

    def mem_table_payload(self):
        regions = [(0, REGION_SPLIT, UVA[0], 0), (REGION_SPLIT, MEM_SIZE - REGION_SPLIT, UVA[1], REGION_SPLIT)]
        p = struct.pack("<II", len(regions), 0)
        for r in regions:
            p += struct.pack("<QQQQ", *r)
        return p, len(regions)

    def set_mem_table(self):
        p, n = self.mem_table_payload()
        assert self.ack(SET_MEM_TABLE, p, [self.memfd] * n) == 0

    @staticmethod
    def uva(gpa):
        return UVA[0] + gpa if gpa < REGION_SPLIT else UVA[1] + gpa - REGION_SPLIT

    def setup_ring(self, q, num, base=0, enable=True):
        """Sets queue q up at RING_AREA[q] and starts it (and enables it,
        unless enable is False); returns its Ring."""
        ring = Ring(self, q, num, RING_AREA[q], base)
        self.send(SET_VRING_NUM, struct.pack("<II", q, num))
        self.send(SET_VRING_BASE, struct.pack("<II", q, base))
        self.send(SET_VRING_ADDR, struct.pack("<IIQQQQ", q, 0, self.uva(ring.desc), self.uva(ring.used),
                                              self.uva(ring.avail), 0))
        for table, req in ((self.call, SET_VRING_CALL), (self.kick, SET_VRING_KICK)):
            if q in table:
                os.close(table[q])
            table[q] = os.eventfd(0, os.EFD_NONBLOCK)
            self.send(req, struct.pack("<Q", q), [table[q]])
        if enable:
            self.enable_ring(q)
        return ring

    def enable_ring(self, q):
        assert self.ack(SET_VRING_ENABLE, struct.pack("<II", q, 1)) == 0

    def stop_ring(self, q):
        self.send(GET_VRING_BASE, struct.pack("<II", q, 0))
        idx, base = struct.unpack("<II", self.reply(GET_VRING_BASE))
        assert idx == q
        return base

    def do_kick(self, q):
        os.eventfd_write(self.kick[q], 1)

    # ---- guest memory ----

    def write(self, gpa, data):
        self.mem[gpa:gpa + len(data)] = data

    def read(self, gpa, n):
        return self.mem[gpa:gpa + n]


class Ring:
    """The driver side of a split virtqueue (virtio 1.2 2.7)."""

    def __init__(self, m, q, num, area, base=0):
        self.m, self.q, self.num = m, q, num
        self.desc, self.avail, self.used = area, area + 0x8000, area + 0xC000
        assert 16 * num <= 0x8000 and 6 + 8 * num <= 0x4000
        self.free = list(range(num))
        self.avail_idx = self.last_used = base
        self.chains = {}                       # head -> [(gpa, len)]
        m.write(self.avail, struct.pack("<HH", 0, base & 0xFFFF))
        m.write(self.used, struct.pack("<HH", 0, base & 0xFFFF))

    def write_desc(self, i, addr, length, flags, nxt):
        self.m.write(self.desc + 16 * i, struct.pack("<QIHH", addr, length, flags, nxt))

    def publish(self, head):
        """Puts head in the available ring, then the index after it."""
        self.m.write(self.avail + 4 + 2 * (self.avail_idx % self.num), struct.pack("<H", head))
        self.avail_idx = (self.avail_idx + 1) & 0xFFFF
        self.m.write(self.avail + 2, struct.pack("<H", self.avail_idx))

    def post(self, pieces, writable):
        """A chain of descriptors over [(gpa, len)]; returns its head."""
        assert len(pieces) <= len(self.free), "ring full"
        ids = [self.free.pop(0) for _ in pieces]
        for k, (gpa, length) in enumerate(pieces):
            last = k == len(pieces) - 1
            flags = (DESC_F_WRITE if writable else 0) | (0 if last else DESC_F_NEXT)
            self.write_desc(ids[k], gpa, length, flags, 0 if last else ids[k + 1])
        self.chains[ids[0]] = (ids, pieces)
        self.publish(ids[0])
        return ids[0]

    def used_idx(self):
        return struct.unpack("<H", self.m.read(self.used + 2, 2))[0]

    def take_used(self):
        """New used entries [(head, len, pieces)]; their descriptors are free again."""
        out = []
        end = self.used_idx()
        while self.last_used != end:
            slot = self.used + 4 + 8 * (self.last_used % self.num)
            head, length = struct.unpack("<II", self.m.read(slot, 8))
            ids, pieces = self.chains.pop(head)
            self.free.extend(ids)
            out.append((head, length, pieces))
            self.last_used = (self.last_used + 1) & 0xFFFF
        return out


class Packet:
    def __init__(self, raw):
        (self.src_cid, self.dst_cid, self.src_port, self.dst_port, self.len, self.type, self.op,
         self.flags, self.buf_alloc, self.fwd_cnt) = HDR.unpack_from(raw)
        self.payload = bytes(raw[44:44 + self.len])
        assert len(raw) == 44 + self.len, f"used length {len(raw)} for a {self.len}-byte payload"

    def __repr__(self):
        return (f"Packet(op={self.op} {self.src_cid}:{self.src_port}->{self.dst_cid}:{self.dst_port} "
                f"len={self.len} flags={self.flags} buf_alloc={self.buf_alloc} fwd_cnt={self.fwd_cnt})")


class Guest:
    """A virtio-vsock driver on the Master's rings: posts rx buffers, sends
    packets on tx, and collects what the backend sends."""

    def __init__(self, m, cid=3, num=128, rx_buffers=None, rx_size=4096 + 44, rx_split=None, base=0,
                 enable_tx=True):
        self.m, self.cid = m, cid
        self.rx = m.setup_ring(0, num, base)
        self.tx = m.setup_ring(1, num, base, enable=enable_tx)
        self.rx_size = rx_size
        rx_buffers = rx_buffers or min(64, num)
        self.rx_split = rx_split                  # piece sizes of each rx buffer
        self.inbox = []
        self.tx_next = TX_AREA
        assert RING_AREA[-1] + 0x10000 <= RX_AREA - rx_buffers * rx_size // 2
        assert RX_AREA + rx_buffers * rx_size // 2 + rx_size <= TX_AREA
        for i in range(rx_buffers):
            self.post_rx(RX_AREA - rx_buffers * rx_size // 2 + i * rx_size)
        m.do_kick(0)

    def post_rx(self, gpa):
        sizes = self.rx_split or [self.rx_size]
        assert sum(sizes) == self.rx_size
        pieces, off = [], gpa
        for s in sizes:
            pieces.append((off, s))
            off += s
        self.rx.post(pieces, writable=True)

    # ---- receiving ----

    def poll(self):
        """Collects used rx buffers into the inbox and posts them again."""
        got = self.rx.take_used()
        for head, length, pieces in got:
            raw = b"".join(self.m.read(g, l) for g, l in pieces)[:length]
            self.inbox.append(Packet(raw))
            self.post_rx(pieces[0][0])
        if got:
            self.m.do_kick(0)
        return len(got)

    def wait(self, pred=lambda p: True, timeout=5.0):
        """The first inbox packet matching pred (removed), waiting for it."""
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            for i, p in enumerate(self.inbox):
                if pred(p):
                    return self.inbox.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout(f"no matching packet in {timeout} s; inbox {self.inbox}")
            select.select([self.m.call[0]], [], [], min(left, 0.05))
            try:
                os.eventfd_read(self.m.call[0])
            except BlockingIOError:
                pass

    def quiet(self, seconds=0.3):
        """Everything that arrives within the given time."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.poll()
            time.sleep(0.01)
        self.poll()
        out, self.inbox = self.inbox, []
        return out

    # ---- sending ----

    def header(self, op, src_port, dst_port, length=0, flags=0, buf_alloc=1 << 20, fwd_cnt=0,
               dst_cid=HOST_CID, type_=1, src_cid=None):
        return HDR.pack(self.cid if src_cid is None else src_cid, dst_cid, src_port, dst_port, length,
                        type_, op, flags, buf_alloc, fwd_cnt)

    def alloc(self, n):
        if self.tx_next + n > TX_AREA_END:
            self.tx_next = TX_AREA
        gpa = self.tx_next
        self.tx_next += (n + 63) & ~63
        return gpa

    def post_tx(self, data, split=None):
        """Posts data as one tx chain split in pieces of the given sizes."""
        gpa = self.alloc(len(data))
        self.m.write(gpa, data)
        sizes = split or [len(data)]
        if sum(sizes) < len(data):
            sizes = list(sizes) + [len(data) - sum(sizes)]
        pieces, off = [], 0
        for s in sizes:
            pieces.append((gpa + off, s))
            off += s
        return self.tx.post(pieces, writable=False)

    def complete_tx(self, timeout=5.0):
        """Waits until the backend has used every posted tx chain."""
        deadline = time.monotonic() + timeout
        while self.tx.chains:
            self.tx.take_used()
            if time.monotonic() > deadline:
                raise Timeout(f"tx chains not used: {list(self.tx.chains)}")
            if self.tx.chains:
                time.sleep(0.001)

    def send(self, op, src_port, dst_port, payload=b"", split=None, **kw):
        self.post_tx(self.header(op, src_port, dst_port, len(payload), **kw) + payload, split)
        self.m.do_kick(1)
        self.complete_tx()


class Conn:
    """The guest end of one stream, with its credit bookkeeping."""

    def __init__(self, g, host_port, guest_port, buf_alloc=256 * 1024):
        self.g, self.host_port, self.guest_port = g, host_port, guest_port
        self.buf_alloc = buf_alloc
        self.fwd_cnt = 0                 # bytes we consumed
        self.fwd_cnt_sent = 0
        self.peer_buf_alloc = self.peer_fwd_cnt = self.tx_cnt = 0
        self.data = bytearray()
        self.rx_total = 0                # RW payload bytes received

    def mine(self, p):
        return p.src_port == self.host_port and p.dst_port == self.guest_port

    def note(self, p):
        assert p.src_cid == HOST_CID and p.dst_cid == self.g.cid and p.type == 1, p
        self.peer_buf_alloc, self.peer_fwd_cnt = p.buf_alloc, p.fwd_cnt

    def send(self, op, payload=b"", split=None, flags=0):
        self.g.send(op, self.guest_port, self.host_port, payload, split, flags=flags,
                    buf_alloc=self.buf_alloc, fwd_cnt=self.fwd_cnt)
        self.fwd_cnt_sent = self.fwd_cnt

    def wait(self, timeout=5.0):
        """The next packet of this stream other than a credit update."""
        while True:
            p = self.g.wait(self.mine, timeout)
            self.note(p)
            if p.op != CREDIT_UPDATE:
                return p

    def credit(self):
        return self.peer_buf_alloc - (self.tx_cnt - self.peer_fwd_cnt)

    def write(self, data, chunk=16384, split=None, timeout=10.0):
        """Sends data in RW packets, never beyond the backend's credit."""
        off, deadline = 0, time.monotonic() + timeout
        while off < len(data):
            room = self.credit()
            if room <= 0:
                if time.monotonic() > deadline:
                    raise Timeout(f"no credit from the backend after {off} bytes")
                p = self.g.wait(self.mine, timeout)
                self.note(p)
                assert p.op in (CREDIT_UPDATE, CREDIT_REQUEST, RW), p
                if p.op == RW:
                    self.rx_total += p.len
                    self.data += p.payload
                elif p.op == CREDIT_REQUEST:
                    self.send(CREDIT_UPDATE)
                continue
            n = min(chunk, room, len(data) - off)
            self.send(RW, data[off:off + n], split)
            self.tx_cnt += n
            off += n

    def read(self, n, timeout=10.0, auto_credit=True):
        """Collects n bytes of RW payload, giving credit back as a driver would."""
        deadline = time.monotonic() + timeout
        while len(self.data) < n:
            p = self.g.wait(self.mine, max(0.01, deadline - time.monotonic()))
            self.note(p)
            if p.op == RW:
                self.rx_total += p.len
                # The backend may never have more in flight than we allowed.
                assert self.rx_total - self.fwd_cnt_sent <= self.buf_alloc, "backend exceeded our credit"
                self.data += p.payload
                if auto_credit:
                    self.fwd_cnt += p.len
                    if self.fwd_cnt - self.fwd_cnt_sent >= self.buf_alloc // 4:
                        self.send(CREDIT_UPDATE)
            elif p.op == CREDIT_REQUEST:
                self.send(CREDIT_UPDATE)
            elif p.op != CREDIT_UPDATE:
                raise AssertionError(f"unexpected {p}")
        out, self.data = bytes(self.data[:n]), self.data[n:]
        return out

