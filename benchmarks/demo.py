"""`make demo`: run an example program with and without the JIT, check that
both print the same thing, and show both wall times and what was compiled."""

import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "benchmarks", "examples", "nbody.py")


def timed(cmd):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, proc


def main():
    steps = sys.argv[1] if len(sys.argv) > 1 else "100000"
    plain_t, plain = timed([sys.executable, EXAMPLE, steps])
    jit_t, jit = timed([sys.executable, "-m", "pyjion_clr", "--stats", EXAMPLE, steps])
    print("example: benchmarks/examples/nbody.py %s" % steps)
    print(plain.stdout, end="")
    print("interpreter: %.2f s" % plain_t)
    print("pyjion_clr:  %.2f s  (whole process, including .NET start-up)" % jit_t)
    print(jit.stderr, end="")
    if plain.stdout != jit.stdout or plain.returncode != jit.returncode:
        print("OUTPUT DIFFERS:\n" + jit.stdout + jit.stderr)
        return 1
    print("same output: yes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
