#!/usr/bin/env python3
"""A caller's line for sipp's play_pcap_audio: a mono 16-bit 8 kHz WAV
(sox makes one) as PCMU RTP packets of 20 ms (payload type 0) in a pcap
file (Ethernet, IPv4, UDP; sipp rewrites the addresses and ports), with
silence_ms of silence after it so that banter hears the turn end.
Usage: wav2pcap.py IN.wav OUT.pcap [silence_ms]"""
import struct
import sys
import wave


def ulaw(s):
    """G.711 mu-law of one 16-bit sample."""
    sign = 0x80 if s < 0 else 0
    s = min(abs(s), 32635) + 0x84
    exp, mask = 7, 0x4000
    while exp and not s & mask:
        exp, mask = exp - 1, mask >> 1
    mant = (s >> (exp + 3)) & 0x0F
    return ~(sign | exp << 4 | mant) & 0xFF


def main():
    src, dst = sys.argv[1], sys.argv[2]
    silence_ms = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    w = wave.open(src)
    if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getframerate() != 8000:
        sys.exit(f"{src}: need mono 16-bit PCM at 8 kHz (sox IN -r 8000 OUT)")
    raw = w.readframes(w.getnframes())
    pcm = list(struct.unpack(f"<{len(raw) // 2}h", raw))
    pcm += [0] * (8 * silence_ms)
    pcm += [0] * (-len(pcm) % 160)
    out = open(dst, "wb")
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for k in range(len(pcm) // 160):
        payload = bytes(ulaw(s) for s in pcm[k * 160:(k + 1) * 160])
        rtp = struct.pack("!BBHII", 0x80, 0x80 if k == 0 else 0, k,
                          k * 160, 0x5EED) + payload
        udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), k, 0, 64,
                         17, 0, bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
        csum = sum(struct.unpack("!10H", ip))
        csum = (csum & 0xFFFF) + (csum >> 16)
        csum = ~((csum & 0xFFFF) + (csum >> 16)) & 0xFFFF
        ip = ip[:10] + struct.pack("!H", csum) + ip[12:]
        frame = b"\0" * 12 + b"\x08\x00" + ip + udp
        t = k * 20000
        out.write(struct.pack("<IIII", t // 1000000, t % 1000000,
                              len(frame), len(frame)) + frame)
    out.close()


main()
