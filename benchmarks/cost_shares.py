"""Where a pyperformance benchmark's time goes, plain interpreter vs JIT:
the share of the collector, of making and freeing objects, of the kernel
(the allocator's fresh pages), of C libraries, and of the rest (the
interpreter, or compiled code and its helpers), in microseconds a call.

    python benchmarks/cost_shares.py [--seconds 6] [--processes 1] [--out FILE] [float nbody ...]

(`make bench-costs`: all of `make bench`'s, into benchmarks/results/.)

Each side runs in a fresh process that warms the benchmark's function up
(compiling it, with the JIT) and then samples only its steady state: the
process starts `perf record -p` on itself, calls the function for
--seconds, and stops it.  Needs Linux `perf`.

"With only what is kept left" divides the plain time by the JIT run's
collector, allocation, kernel and C-library time ("kept"): work that stays while
compiled code makes and frees the objects the interpreter does (they are
observable: reference counts, gc.get_count(), weak references, __del__),
even if compiled code, its helpers and every C API call took no time.  No
JIT that keeps CPython's objects passes that ratio without making fewer
objects than its own run already does.  Both processes' times swing with
the VM; the kept share of the JIT's time is steadier, and a ratio of record
(`make bench`'s) divided by it gives the same bound.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import BENCHMARKS, RunnerStandIn, run_in_process  # noqa: E402

WARMUP_SECONDS = 1.5
BATCH_SECONDS = 0.1

# (bucket, shared object pattern, symbol pattern), the first match wins
BUCKETS = [
    ("kernel", r"^\[kernel", r""),
    ("collector", r"libpython", r"^(gc_|_PyGC_|visit_|update_refs|subtract_refs|move_unreachable"
                                r"|move_legacy|deduce_unreachable|validate_list|\w+_traverse$)"),
    ("allocation", r"libpython", r"(Malloc|Realloc|Free|_alloc|Alloc|dealloc|Dealloc|_New$"
                                 r"|NewReference|GC_Del|GC_Link|UnTrack|pymalloc|arena|_pool"
                                 r"|^PyFloat_FromDouble$)"),
    ("C libraries (libm, libc)", r"^(libm|libc)[.-]", r""),
    ("interpreter, C API", r"libpython", r""),
    ("JIT helpers", r"^_native\.", r""),
    (".NET runtime, stubs", r"^(libcoreclr|libclrjit|System\.|\[JIT\] tid)", r"^(?!native int \[pyjion)"),
    ("compiled code", r"^\[JIT\] tid", r""),
    ("extension modules", r"", r""),
]
KEPT = ("collector", "allocation", "kernel", "C libraries (libm, libc)")


def bucket(dso, symbol):
    for name, dso_pattern, symbol_pattern in BUCKETS:
        if re.search(dso_pattern, dso) and re.search(symbol_pattern, symbol):
            return name
    raise AssertionError("the last bucket takes everything")


def shares(report_text):
    """Percentages by bucket from `perf report --sort dso,symbol` text."""
    totals = {}
    for line in report_text.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+(?: tid \d+)?)\s+\[.\]\s+(.*?)\s*$", line)
        if m:
            name = bucket(m.group(2), m.group(3))
            totals[name] = totals.get(name, 0.0) + float(m.group(1))
    return totals


class _SteadyRunner(RunnerStandIn):
    """Warms each of the script's functions up in turn, then runs it under
    perf for the set time; prints the function's name, the perf data file
    and its seconds a call."""

    seconds = 6.0
    frequency = 1000
    perf_output = "perf.data"
    sampled = 0

    def measure(self, name, run_loops):
        start = time.perf_counter()
        while time.perf_counter() - start < WARMUP_SECONDS:
            once = run_loops(1)
        # batches of loops, as pyperf runs them: what a time function does
        # besides its loop (deepcopy_reduce defines a class a call) is then
        # a sliver of the samples, and its own clock gives the time a loop
        loops = max(1, int(BATCH_SECONDS / max(once, 1e-6)))
        output = "%s.%d" % (self.perf_output, self.sampled)
        self.sampled += 1
        perf = subprocess.Popen(["perf", "record", "-q", "-F", str(self.frequency), "-p", str(os.getpid()),
                                 "-o", output], stdout=subprocess.DEVNULL)
        time.sleep(0.5)     # perf attached
        seconds, done, start = 0.0, 0, time.perf_counter()
        while time.perf_counter() - start < self.seconds:
            seconds += run_loops(loops)
            done += loops
        perf.send_signal(signal.SIGINT)
        perf.wait()
        print(name, output, repr(seconds / done), flush=True)


def measure(script_name, jit, seconds, frequency):
    """{function name: (seconds a call, {bucket: percent})} of one side,
    for each function the script registers."""
    side = "jit" if jit else "plain"
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, DOTNET_PerfMapEnabled="3",     # names for compiled code
                   PYJION_COST_SECONDS=str(seconds), PYJION_COST_FREQUENCY=str(frequency))
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", side,
                               "--perf-output", os.path.join(tmp, "perf.data"), script_name],
                              capture_output=True, text=True, env=env)
        if proc.returncode != 0 or not proc.stdout.strip():
            sys.exit("%s (%s) failed:\n%s" % (script_name, side, proc.stderr))
        for line in proc.stdout.splitlines():
            name, data, per_call = line.split()
            report = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso,symbol",
                                     "-g", "none", "--stdio"], capture_output=True, text=True)
            if report.returncode != 0:
                sys.exit("perf report failed:\n" + report.stderr)
            results[name] = (float(per_call), shares(report.stdout))
    return results


def median_processes(runs):
    """Of several processes' `measure` results, each function's from the
    process with its median time a call (its shares with it, so that the
    buckets add up to that time)."""
    return {name: sorted((run[name] for run in runs), key=lambda r: r[0])[len(runs) // 2]
            for name in runs[0]}


def microseconds(seconds):
    us = seconds * 1e6
    return "%.0f" % us if us >= 100 else "%.1f" % us if us >= 10 else "%.2f" % us


def table(name, plain, jit):
    """Markdown lines for one benchmark function: microseconds a call by
    bucket, and the bound the kept buckets set."""
    (plain_call, plain_shares), (jit_call, jit_shares) = plain, jit
    kept = sum(jit_shares.get(b, 0.0) for b in KEPT) * jit_call / 100
    lines = ["### %s: plain %s us, JIT %s us a call (%.2fx); kept %.0f%% of the JIT's time; "
             "with only what is kept left: %.2fx"
             % (name, microseconds(plain_call), microseconds(jit_call), plain_call / jit_call,
                100 * kept / jit_call, plain_call / kept),
             "", "| us a call | plain | JIT |", "|---|---:|---:|"]
    for bucket_name, _, _ in BUCKETS:
        p, j = plain_shares.get(bucket_name, 0.0), jit_shares.get(bucket_name, 0.0)
        if p >= 0.05 or j >= 0.05:
            lines.append("| %s | %s | %s |" % (bucket_name, microseconds(p * plain_call / 100),
                                                microseconds(j * jit_call / 100)))
    lines.append("| *kept: %s* | | *%s* |" % (", ".join(KEPT), microseconds(kept)))
    return lines + [""]


def revision():
    here = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return proc.stdout.strip() or "revision unknown"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="sampled a function, each way")
    parser.add_argument("--frequency", type=int, default=1000, help="perf samples a second")
    parser.add_argument("--processes", type=int, default=1,
                        help="a side; each function's median process is shown")
    parser.add_argument("--out", metavar="FILE", help="also write the tables here (markdown)")
    parser.add_argument("--child", choices=("plain", "jit"), help=argparse.SUPPRESS)
    parser.add_argument("--perf-output", help=argparse.SUPPRESS)
    parser.add_argument("names", nargs="*", default=list(BENCHMARKS),
                        help="pyperformance benchmarks (deepcopy: its three functions); default: make bench's")
    args = parser.parse_args(argv)
    if args.child:
        _SteadyRunner.seconds = float(os.environ["PYJION_COST_SECONDS"])
        _SteadyRunner.frequency = int(os.environ["PYJION_COST_FREQUENCY"])
        _SteadyRunner.perf_output = args.perf_output
        run_in_process(args.names[0], _SteadyRunner, args.child == "jit")
        return
    try:
        subprocess.run(["perf", "--version"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        sys.exit("cost_shares needs Linux perf")
    lines = ["# Where the time goes: plain vs JIT (benchmarks/cost_shares.py)", "",
             "%s, %s; %.0f s sampled a function each way at %d Hz, after %.1f s of warm-up, in "
             "%d process(es) a side (the median shown). A ratio here is one process's mean over the "
             "sampled seconds, which on a noisy VM swings far more than `make bench`'s; the buckets "
             "are what this table is for." % (time.strftime("%Y-%m-%d %H:%M"), revision(), args.seconds,
                                               args.frequency, WARMUP_SECONDS, args.processes),
             "Buckets: " + "; ".join(name for name, _, _ in BUCKETS) + ".", ""]
    for script_name in args.names:
        runs = {False: [], True: []}
        for _ in range(args.processes):         # the sides alternate: drift hits both
            for jit in (False, True):
                runs[jit].append(measure(script_name, jit, args.seconds, args.frequency))
        plain, jit = median_processes(runs[False]), median_processes(runs[True])
        for name in plain:
            rows = table(name, plain[name], jit[name])
            print("\n".join(rows), flush=True)
            lines += rows
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(lines))


if __name__ == "__main__":
    main()
