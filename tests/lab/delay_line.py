#!/usr/bin/env python3
"""Transparent layer-2 delay line for the p2pft network lab.

Usage: delay_line.py IFACE_A IFACE_B DELAY_MS

Runs inside a namespace that holds two veth ends with no addresses. Every frame
received on one interface is sent out of the other DELAY_MS milliseconds later,
so it delays IPv4, ARP, UDP and TCP alike (the kernel here has no netem). Frames
keep their virtio-net header (PACKET_VNET_HDR), so GSO super-frames and partial
checksums pass through unchanged. Stops on SIGTERM or SIGINT. At most
MAX_QUEUED_BYTES wait on the line; frames beyond that are dropped.
"""
import collections
import os
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_VNET_HDR = 15
PACKET_IGNORE_OUTGOING = 23
BUFFER_BYTES = 32 * 1024 * 1024
MAX_FRAME = 256 * 1024
MAX_QUEUED_BYTES = 64 * 1024 * 1024
queued = 0


def open_socket(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    for opt in (33, 32):  # SO_RCVBUFFORCE, SO_SNDBUFFORCE (root)
        try:
            s.setsockopt(socket.SOL_SOCKET, opt, BUFFER_BYTES)
        except OSError:
            pass
    s.bind((ifname, ETH_P_ALL))
    s.setblocking(False)
    return s


def main():
    global queued
    if len(sys.argv) != 4:
        sys.stderr.write("usage: delay_line.py IFACE_A IFACE_B DELAY_MS\n")
        return 2
    delay = float(sys.argv[3]) / 1000.0
    a = open_socket(sys.argv[1])
    b = open_socket(sys.argv[2])
    # (socket to read, socket to write, queue of (due, frame))
    lanes = [(a, b, collections.deque()), (b, a, collections.deque())]
    # SIGTERM keeps its default action (exit at once); SIGINT exits quietly.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    poller = select.poll()
    by_fd = {}
    for src, dst, q in lanes:
        poller.register(src.fileno(), select.POLLIN)
        by_fd[src.fileno()] = (src, dst, q)
    while True:
        now = time.monotonic()
        timeout = None
        for _, dst, q in lanes:
            while q and q[0][0] <= now:
                frame = q.popleft()[1]
                queued -= len(frame)
                try:
                    dst.send(frame)
                except OSError:
                    pass  # a full device queue drops the frame, as a link would
            if q:
                wait = q[0][0] - now
                timeout = wait if timeout is None else min(timeout, wait)
        try:
            events = poller.poll(None if timeout is None else max(0, timeout * 1000))
        except InterruptedError:
            continue
        now = time.monotonic()
        for fd, _ in events:
            src, dst, q = by_fd[fd]
            for _ in range(256):
                try:
                    frame = src.recv(MAX_FRAME)
                except (BlockingIOError, InterruptedError):
                    break
                if queued + len(frame) > MAX_QUEUED_BYTES:
                    continue  # beyond the line's capacity: drop, as a full buffer would
                queued += len(frame)
                q.append((now + delay, frame))
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
