"""A quick A/B of pyperformance benchmarks, plain interpreter vs JIT, for
checking one change in a minute or two (`make bench` is the measurement of
record: pyperf, 20 worker processes each way).

    python benchmarks/ab.py [--rounds 3] [--against TREE] go raytrace

Each round runs every benchmark once in a fresh plain process and once in
a fresh JIT process (default threshold), alternating, each round starting
with another side, so that drift in the machine's speed hits all sides
alike.  A process times the benchmark's
own function in-process: two warm-up calls, then the best of five timed
batches of about 0.15 s.  Printed: the best time over the rounds, each
way, and their ratio.  In-process timing leaves out start-up and compile
time, which `make bench` reports separately.

--against TREE adds a third side to each round: the JIT of another
checkout (its extensions built in place, e.g. a `git worktree` of the
commit before a change, built with `setup.py build_ext --inplace`), so a
change is compared with its base in the same rounds.
"""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import RunnerStandIn, run_in_process  # noqa: E402

BATCH_SECONDS = 0.15
BATCHES = 5


class _TimingRunner(RunnerStandIn):
    """Records the best per-call time of each benchmark function the
    script registers."""

    results = {}

    def measure(self, name, run_loops):
        run_loops(1)
        once = max(run_loops(1), 1e-6)
        loops = max(1, int(BATCH_SECONDS / once))
        self.results[name] = min(run_loops(loops) / loops for _ in range(BATCHES))


def child(name, jit):
    run_in_process(name, _TimingRunner, jit)
    for key, seconds in _TimingRunner.results.items():
        print(key, repr(seconds))


def run_child(name, jit, tree=None):
    """Per-call seconds of benchmark `name` in a fresh process; `tree`: the
    checkout whose pyjion_clr it imports (default: the installed one)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "jit" if jit else "plain", name]
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.path.abspath(tree) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit("%s (%s) failed:\n%s" % (name, "jit" if jit else "plain", proc.stderr))
    return {key: float(value) for key, value in (line.split() for line in proc.stdout.splitlines())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", metavar="TREE", help="also time the JIT of this checkout")
    parser.add_argument("--child", choices=("plain", "jit"), help=argparse.SUPPRESS)
    parser.add_argument("names", nargs="+")
    args = parser.parse_args(argv)
    if args.child:
        child(args.names[0], args.child == "jit")
        return
    sides = [("plain", False, None), ("jit", True, None)]
    if args.against:
        sides.append(("against", True, args.against))
    for name in args.names:
        best = {side: {} for side, _, _ in sides}
        for round_number in range(args.rounds):
            # each round starts with another side: a side always run in the
            # same place was seen favoured (float's JIT 1.27x vs 1.38x, one
            # build on both JIT sides)
            shift = round_number % len(sides)
            for side, jit, tree in sides[shift:] + sides[:shift]:
                for key, seconds in run_child(name, jit, tree).items():
                    best[side][key] = min(seconds, best[side].get(key, seconds))
        for key in best["plain"]:
            plain, jit = best["plain"][key], best["jit"][key]
            line = "%-18s plain %10.3f us   jit %10.3f us   %.2fx" % (key, plain * 1e6, jit * 1e6, plain / jit)
            if args.against:
                line += "   against %.2fx" % (plain / best["against"][key])
            print(line)


if __name__ == "__main__":
    main()
