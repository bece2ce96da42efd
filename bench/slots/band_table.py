#!/usr/bin/env python3
"""Per-voice figures of a confirmation band from one bench_slots --dump.

    bench/slots/band_table.py DUMP [BAND]

The dump holds every item's confidence, so a single run (with or without
--confirm-below) gives both columns: a value taken as sure without a band
(right / WRONG-SURE) is asked back with one when its confidence is below
BAND (default 0.6). Prints a Markdown table per voice (wrong-sure without
and with the band, rejected right answers, right answers asked back),
totals per provider, and wrong-sure for a range of bands.
"""
import collections
import sys

TAKEN_RIGHT = ("right", "confirmed-right")
TAKEN_WRONG = ("WRONG-SURE", "confirmed-wrong")


def outcome(row, band):
    """right, asked (a right value asked back), wsure, cwrong, or the
    dump's own outcome (rejected, wrong-low, none)."""
    o, conf = row[11], float(row[10])
    if o in TAKEN_RIGHT:
        return "asked" if band and conf < band else "right"
    if o in TAKEN_WRONG:
        return "cwrong" if band and conf < band else "wsure"
    return o


def tally(rows, band):
    c = collections.Counter(outcome(r, band) for r in rows)
    answers = sum(1 for r in rows if r[6] == "1")
    return c, answers


def pct(a, b):
    return 100.0 * a / b if b else 0.0


def main(argv):
    args = argv[1:]
    if not args:
        sys.exit(__doc__)
    rows = [l.rstrip("\n").split("\t") for l in open(args[0]) if l.strip()]
    band = float(args[1]) if len(args) > 1 else 0.6
    by_voice = collections.OrderedDict()
    for r in rows:
        by_voice.setdefault(r[0], []).append(r)

    print("| voice | items | wrong-sure, no band | wrong-sure, band %.2f "
          "| rejected right | right answers asked back |" % band)
    print("|---|---|---|---|---|---|")

    def line(name, rs):
        c0, answers = tally(rs, 0.0)
        c1, _ = tally(rs, band)
        n = len(rs)
        print("| %s | %d | %.1f %% (%d) | %.1f %% (%d) | %.1f %% (%d of %d) "
              "| %d of %d |" % (name, n, pct(c0["wsure"], n), c0["wsure"],
                                pct(c1["wsure"], n), c1["wsure"],
                                pct(c0["rejected"], answers), c0["rejected"],
                                answers, c1["asked"],
                                c1["right"] + c1["asked"]))

    for v, rs in by_voice.items():
        line(v, rs)
    for prov in ("flite", "espeak"):
        rs = [r for r in rows if r[0].startswith(prov + ":")]
        if rs:
            line("%s (%d voices)" % (prov, len({r[0] for r in rs})), rs)
    line("all", rows)

    print()
    print("| band | wrong-sure | voices with any | right answers asked back "
          "| wrong values asked back |")
    print("|---|---|---|---|---|")
    for b in (0.0, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8):
        c, _ = tally(rows, b)
        voices = sum(1 for rs in by_voice.values() if tally(rs, b)[0]["wsure"])
        print("| %s | %.1f %% (%d) | %d of %d | %d of %d | %d |" % (
            "%.2f" % b if b else "none", pct(c["wsure"], len(rows)),
            c["wsure"], voices, len(by_voice), c["asked"],
            c["right"] + c["asked"], c["cwrong"]))


if __name__ == "__main__":
    main(sys.argv)
