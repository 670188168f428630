"""Listening sockets inside a Linux network namespace (``ip netns`` names under /run/netns).

Python 3.11 has no ``os.setns``, so this calls libc's ``setns(2)`` through ctypes. Only the calling
thread changes namespace; a socket keeps the namespace it was created in. Call this before any
other thread is started, and run as a user allowed to enter the namespace (CAP_SYS_ADMIN).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import socket

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"


class NetnsError(OSError):
    pass


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _setns(fd: int, nstype: int) -> None:
    if _libc().setns(fd, nstype) != 0:
        err = ctypes.get_errno()
        raise NetnsError(err, f"setns: {os.strerror(err)}")


def netns_path(name: str) -> str:
    if not name or "/" in name or name in (".", ".."):
        raise NetnsError(f"invalid network namespace name {name!r}")
    return os.path.join(NETNS_DIR, name)


def bound_socket_in_netns(name: str, host: str, port: int) -> socket.socket:
    """Create a TCP socket bound to ``host:port`` inside namespace ``name`` (not yet listening)."""
    target = netns_path(name)
    try:
        target_fd = os.open(target, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise NetnsError(exc.errno, f"network namespace {name!r}: {exc.strerror} ({target})") from None
    own_fd = os.open("/proc/thread-self/ns/net" if os.path.exists("/proc/thread-self/ns/net")
                     else "/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        _setns(target_fd, CLONE_NEWNET)
        try:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((host, port))
            except BaseException:
                sock.close()
                raise
        finally:
            _setns(own_fd, CLONE_NEWNET)
    finally:
        os.close(target_fd)
        os.close(own_fd)
    return sock
