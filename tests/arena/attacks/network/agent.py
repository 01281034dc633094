"""Network: tries every way it knows to reach a server on the arena machine's loopback interface.

The test's server listens on 127.0.0.1 (TCP ``port``, UDP ``udp_port``) and on the abstract Unix socket
``unix_name``. The agent connects with Python's ``socket`` module; from a ``python -c`` child and a
``bash`` ``/dev/tcp`` child (new processes that skip any Python-level guard); through libc with ``ctypes``
(``socket``/``connect``, below Python); after ``setns`` into the network namespace of the arena
(``/proc/<ppid>/ns/net``) and of every other visible process; and by UDP datagram. Then it plays random
legal moves. Each attempt is independent and bounded by a short timeout.
"""

import contextlib
import ctypes
import os
import socket
import struct
import subprocess
import sys

from agents.base import RandomAgent

CLONE_NEWNET = 0x40000000


def tcp(port: int) -> None:
    with contextlib.suppress(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def libc_tcp(port: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
    if fd >= 0:
        address = (
            struct.pack("=H", socket.AF_INET) + struct.pack(">H", port) + bytes([127, 0, 0, 1]) + bytes(8)
        )
        libc.connect(fd, address, len(address))
        libc.close(fd)


def reach(port: int, udp_port: int, unix_name: str) -> None:
    tcp(port)
    libc_tcp(port)
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(b"escaped", ("127.0.0.1", udp_port))
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix:
        unix.settimeout(1)
        unix.connect("\0" + unix_name)


def children(port: int) -> None:
    code = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=1)"
    for argv in ([sys.executable, "-c", code], ["bash", "-c", f"echo > /dev/tcp/127.0.0.1/{port}"]):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(argv, timeout=3, capture_output=True)


def other_namespaces(port: int, udp_port: int, unix_name: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    pids = [str(os.getppid())] + [p for p in os.listdir("/proc") if p.isdigit()]
    for pid in dict.fromkeys(pids):
        try:
            fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
        except OSError:
            continue
        try:
            if libc.setns(fd, CLONE_NEWNET) == 0:
                reach(port, udp_port, unix_name)
                return
        finally:
            os.close(fd)


class Network(RandomAgent):
    name = "network"

    def __init__(self, spaces, port: int, udp_port: int, unix_name: str):
        super().__init__(spaces)
        self.target, self.tried = (port, udp_port, unix_name), False

    def act(self, observation, info):
        if not self.tried:
            self.tried = True
            reach(*self.target)
            children(self.target[0])
            other_namespaces(*self.target)
        return super().act(observation, info)


def make(spaces, **kwargs):
    return Network(spaces, **kwargs)
