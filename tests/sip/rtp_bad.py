#!/usr/bin/env python3
"""Bad RTP at a call's port (argv[1]): good PCMU packets from one source
(banter answers there from now on), then a wrong payload type, the same
stream from another source, and datagrams that are not RTP, empty or
oversized. banter must drop each kind with a log line and keep the call."""
import socket
import struct
import sys
import time

port = int(sys.argv[1])
dst = ("127.0.0.1", port)


def rtp(pt, seq, payload=b"\xff" * 160, ssrc=0x1234):
    return struct.pack("!BBHII", 0x80, pt, seq, seq * 160, ssrc) + payload


a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
a.bind(("127.0.0.1", 0))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
b.bind(("127.0.0.1", 0))
for seq in range(5):
    a.sendto(rtp(0, seq), dst)
    time.sleep(0.02)
a.sendto(rtp(99, 5), dst)              # a payload type not negotiated
b.sendto(rtp(0, 6), dst)               # the stream from elsewhere
a.sendto(b"\x00garbage", dst)          # not RTP
a.sendto(b"\x80", dst)                 # a header cut short
a.sendto(rtp(0, 7, b""), dst)          # no payload
a.sendto(rtp(0, 8, b"\x00" * 1400), dst)  # more than a packet holds
for seq in range(9, 20):
    a.sendto(rtp(0, seq), dst)
    time.sleep(0.02)
