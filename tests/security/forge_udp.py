#!/usr/bin/env python3
"""Sends UDP datagrams with forged source addresses through a raw socket, paced.

Usage: forge_udp.py TARGET_IP PORT RATE SECONDS PAYLOADS_FILE PREFIX...

Each datagram carries the next payload of PAYLOADS_FILE (one hex string per
line, cycled) from a random address of a random PREFIX (CIDR) and a random
port. Prints "started" once sending begins, then a JSON summary
{"sent": N, "bytes": B} (UDP payload bytes) when SECONDS are over or on
SIGTERM. Needs root (CAP_NET_RAW). Standard library only.
"""
import ipaddress
import json
import random
import signal
import socket
import struct
import sys
import time

TICK = 0.01


def main() -> None:
    target, port, rate, seconds, payload_file, *prefixes = sys.argv[1:]
    port, rate, seconds = int(port), float(rate), float(seconds)
    with open(payload_file) as lines:
        payloads = [bytes.fromhex(line.strip()) for line in lines if line.strip()]
    networks = [ipaddress.ip_network(prefix) for prefix in prefixes]
    if not payloads or not networks:
        sys.exit("forge_udp.py: need payloads and at least one source prefix")
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    # IPPROTO_RAW implies IP_HDRINCL: we write the IP header; the kernel fills in
    # the header checksum, the total length and the id.
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    destination = socket.inet_aton(target)
    sent = 0
    sent_bytes = 0
    print("started", flush=True)
    started = time.monotonic()
    while not stop and time.monotonic() - started < seconds:
        due = int((time.monotonic() - started) * rate)
        while sent < due:
            network = random.choice(networks)
            source = network.network_address + random.randrange(network.num_addresses)
            payload = payloads[sent % len(payloads)]
            udp = struct.pack("!HHHH", random.randint(1024, 65535), port, 8 + len(payload), 0)
            header = struct.pack(
                "!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(payload), 0, 0, 64, socket.IPPROTO_UDP, 0,
                source.packed, destination,
            )
            raw.sendto(header + udp + payload, (target, 0))
            sent += 1
            sent_bytes += len(payload)
        time.sleep(TICK)
    print(json.dumps({"sent": sent, "bytes": sent_bytes}), flush=True)


if __name__ == "__main__":
    main()
