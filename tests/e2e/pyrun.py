# The long-lived python behind lib.sh's pyrun: a test's many small
# checks (python3 - ARGS <<'EOF' ... EOF) run here one after the other,
# each as a fresh script in fresh globals, so that python starts once per
# test rather than once per check (each start cost about half a second of
# CPU on the 2-core CI machine).
#
# Request on stdin: the number of arguments, the working directory, the
# arguments and the script, each ended by a NUL. Answer on stdout: the exit
# status and what the script printed, each ended by a NUL. What it writes
# to stderr (a traceback) goes to the test's stderr as before.
import io
import os
import select
import sys
import traceback

out = sys.stdout.buffer
parent = os.getppid()
pending = bytearray()


def field():
    """The next NUL-ended field; None at the end of the input or when the
    test is gone (a process it left running may hold our stdin open)"""
    global pending
    while b"\0" not in pending:
        r, _, _ = select.select([0], [], [], 1.0)
        if not r:
            if os.getppid() != parent:
                return None
            continue
        b = os.read(0, 65536)
        if not b:
            return None
        pending += b
    i = pending.index(b"\0")
    f = pending[:i].decode()
    del pending[:i + 1]
    return f


while True:
    n = field()
    if n is None:
        break
    cwd = field()
    args = [field() for _ in range(int(n))]
    code = field()
    if code is None or any(a is None for a in args):
        break
    rc = 0
    buf = io.StringIO()
    real = sys.stdout
    sys.stdout = buf
    sys.argv = ["-"] + args
    try:
        os.chdir(cwd)
        exec(compile(code, "<pyrun>", "exec"), {"__name__": "__main__"})
    except SystemExit as e:
        if e.code is None:
            rc = 0
        elif isinstance(e.code, int):
            rc = e.code
        else:
            print(e.code, file=sys.stderr)
            rc = 1
    except BaseException:
        traceback.print_exc()
        rc = 1
    finally:
        sys.stdout = real
        sys.stderr.flush()
    out.write(b"%d\0" % rc + buf.getvalue().encode() + b"\0")
    out.flush()
