"""pyperformance's benchmarks, plain interpreter vs JIT, in one run.

Each benchmark's own `run_benchmark.py` (from the pyperformance package's
data files) runs under pyperf with plain worker processes and with workers
started through a wrapper that runs them under `pyjion-run` (the JIT on at
its default threshold), each worker writing its compile statistics to a
file.  The workers of each side are split into rounds, plain and JIT
alternating, appended to one pyperf file per side: this VM's speed drifts
by up to 2x over minutes, and a side run in one block can land in a slow
phase the other missed.  Each side's loop count is calibrated in its first
round and reused by the later ones (see `fixed_loops`), so rounds can be
small without paying pyperf's calibration worker each time.  Those
statistics prove the JIT was on: a JIT figure whose workers compiled
nothing is reported as invalid, not as a speed-up.

    python benchmarks/bench.py [--quick] [--only nbody,float] [--out DIR]

Writes DIR/bench.json, DIR/bench.md and DIR/bench.png (speed-up per
benchmark).  The raw pyperf files go to DIR/raw/.
"""

import argparse
import glob
import importlib.util
import json
import math
import os
import runpy
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

BENCHMARKS = ("nbody", "spectral_norm", "float", "fannkuch", "richards", "chaos", "nqueens",
              "raytrace", "go", "deltablue", "hexiom", "unpack_sequence", "json_dumps",
              "generators", "coroutines", "comprehensions", "deepcopy", "pyflate")

# Worker processes per side, the rounds they are split into, other pyperf
# options: the full run has pyperf's default worker count and values (20
# processes of 3 values each); the quick one a few workers.
FULL_RUN = {"processes": 20, "rounds": 10, "options": []}
QUICK_RUN = {"processes": 4, "rounds": 2, "options": ["--values", "3", "--warmups", "1"]}

WRAPPER = """#!/bin/sh
# pyperf worker under the JIT; each worker leaves its statistics in a file
exec {python} -m pyjion_clr --stats-json "{stats_dir}/$$.json" "$@"
"""


def benchmark_script(name):
    spec = importlib.util.find_spec("pyperformance")
    if spec is None:
        sys.exit("pyperformance is not installed (make bench installs it)")
    base = os.path.join(os.path.dirname(spec.origin), "data-files", "benchmarks")
    return os.path.join(base, "bm_" + name, "run_benchmark.py")


class RunnerStandIn:
    """Stands in for pyperf.Runner where a process runs a benchmark script
    itself (run_in_process): each function the script registers goes to
    self.measure(name, run_loops), run_loops(n) running it n times and
    returning the seconds that took."""

    def __init__(self, *args, **kwargs):
        self.metadata = {}
        self.argparser = argparse.ArgumentParser()

    def parse_args(self, args=None):
        return self.argparser.parse_args([])

    def bench_func(self, name, func, *args, inner_loops=None, metadata=None):
        self.measure(name, lambda loops: _timed_loops(loops, func, args))

    def bench_time_func(self, name, func, *args, inner_loops=None, metadata=None):
        self.measure(name, lambda loops: func(loops, *args))

    def bench_async_func(self, name, func, *args, inner_loops=None, metadata=None):
        import asyncio
        self.measure(name, lambda loops: _timed_loops(loops, lambda: asyncio.run(func(*args)), ()))

    def measure(self, name, run_loops):
        raise NotImplementedError


def _timed_loops(loops, func, args):
    start = time.perf_counter()
    for _ in range(loops):
        func(*args)
    return time.perf_counter() - start


def run_in_process(name, runner_class, jit):
    """Run benchmark `name`'s script in this process, with runner_class (a
    RunnerStandIn) standing in for pyperf.Runner, the JIT enabled first
    if `jit`."""
    import pyperf
    pyperf.Runner = runner_class
    if jit:
        import pyjion_clr
        pyjion_clr.enable()
    script = benchmark_script(name)
    os.chdir(os.path.dirname(script))
    sys.path.insert(0, os.path.dirname(script))
    runpy.run_path(script, run_name="__main__")


def run_pyperf(script, output, extra, env, append):
    cmd = [sys.executable, script, "--quiet", "--append" if append else "-o", output] + extra
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=os.path.dirname(script))
    if proc.returncode != 0:
        return proc.stdout + proc.stderr
    return None


def fixed_loops(path):
    """pyperf options making later rounds reuse the loop count the first
    round calibrated: ["--loops", N], or [] where the file's benchmarks were
    calibrated differently (one --loops would apply to all of them)."""
    import pyperf
    loops = {bench.get_loops() for bench in pyperf.BenchmarkSuite.load(path).get_benchmarks()}
    return ["--loops", str(loops.pop())] if len(loops) == 1 else []


def load_values(path):
    """{benchmark name: figures}: one pyperf file may hold several
    benchmarks (deepcopy has three)."""
    import pyperf
    out = {}
    for bench in pyperf.BenchmarkSuite.load(path).get_benchmarks():
        values = bench.get_values()
        rss = [run.get_metadata().get("mem_max_rss") for run in bench.get_runs()]
        rss = [r for r in rss if r]
        out[bench.get_name()] = {
            "mean": statistics.mean(values),
            "stdev": statistics.stdev(values) if len(values) > 1 else 0.0,
            "values": len(values), "peak_rss": max(rss) if rss else None}
    return out


def jit_worker_stats(stats_dir):
    """Per-worker JIT statistics, summarised: what every worker compiled."""
    workers = []
    for path in glob.glob(os.path.join(stats_dir, "*.json")):
        with open(path) as f:
            workers.append(json.load(f))
    if not workers:
        return None
    def mean(key):
        vals = [w[key] for w in workers if w.get(key) is not None]
        return statistics.mean(vals) if vals else None
    reasons = {}
    for w in workers:
        for reason, n in w["fallbacks"].items():
            reasons[reason] = max(reasons.get(reason, 0), n)
    compiled_calls = sum(w["compiled_calls"] for w in workers)
    interpreted_calls = sum(w["interpreted_calls"] for w in workers)
    return {
        "workers": len(workers),
        "workers_that_compiled": sum(w["compiled"] > 0 for w in workers),
        "functions_compiled": max(w["compiled"] for w in workers),
        "functions_fallen_back": max(w["fallback_total"] for w in workers),
        # left to the interpreter until called often enough, and never were
        "functions_deferred": max(w.get("deferred", 0) for w in workers),
        "fallback_reasons": reasons,
        "compile_seconds_per_worker": mean("compile_seconds"),
        "median_compile_ms": mean("median_compile_ms"),
        "runtime_start_seconds": mean("runtime_start_seconds"),
        "first_compiled_seconds": mean("first_compiled_seconds"),
        "compiled_call_share": compiled_calls / (compiled_calls + interpreted_calls)
        if compiled_calls + interpreted_calls else 0.0,
    }


def run_benchmark(name, run, rawdir):
    """Results for the benchmarks of one pyperformance script (most have
    one; each becomes a row)."""
    script = benchmark_script(name)
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    result = {"name": name}
    plain_out = os.path.join(rawdir, name + ".plain.json")
    jit_out = os.path.join(rawdir, name + ".jit.json")
    for path in (plain_out, jit_out):
        if os.path.exists(path):
            os.remove(path)
    with tempfile.TemporaryDirectory(prefix="pyjion-bench-") as tmp:
        stats_dir = os.path.join(tmp, "stats")
        os.mkdir(stats_dir)
        wrapper = os.path.join(tmp, "python-jit")
        with open(wrapper, "w") as f:
            f.write(WRAPPER.format(python=sys.executable, stats_dir=stats_dir))
        os.chmod(wrapper, 0o755)
        options = run["options"] + ["--processes", str(run["processes"] // run["rounds"])]
        error = None
        plain_loops, jit_loops = [], []
        for round_ in range(run["rounds"]):
            error = run_pyperf(script, plain_out, options + plain_loops, env, append=round_ > 0)
            if error is None:
                error = run_pyperf(script, jit_out, options + jit_loops + ["--python", wrapper],
                                   env, append=round_ > 0)
            if error is not None:
                break
            if round_ == 0:
                plain_loops, jit_loops = fixed_loops(plain_out), fixed_loops(jit_out)
        if error is not None:
            result["error"] = error[-3000:]
            return [result]
        stats = jit_worker_stats(stats_dir)
    plain, jit = load_values(plain_out), load_values(jit_out)
    # a JIT figure only counts if every worker compiled the benchmark's code
    was_on = bool(stats and stats["workers_that_compiled"] == stats["workers"]
                  and stats["functions_compiled"] > 0)
    rows = []
    for bench_name in plain:
        rows.append({"name": bench_name, "script": name, "plain": plain[bench_name],
                     "jit": jit[bench_name], "jit_stats": stats, "jit_was_on": was_on,
                     "speedup": plain[bench_name]["mean"] / jit[bench_name]["mean"]})
    return rows


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def fmt_time(seconds):
    if seconds >= 1:
        return "%.2f s" % seconds
    if seconds >= 1e-3:
        return "%.1f ms" % (seconds * 1e3)
    if seconds >= 1e-6:
        return "%.1f us" % (seconds * 1e6)
    return "%.1f ns" % (seconds * 1e9)


def markdown(results, summary):
    out = ["# pyperformance: plain interpreter vs pyjion_clr", "",
           "%s; pyperf options: %s; %s." % (summary["python"], summary["options"] or "defaults",
                                             summary["date"]), "",
           "Geometric mean of speed-ups (valid JIT runs): **%s**"
           % ("%.2fx" % summary["geomean"] if summary["geomean"] else "n/a"), "",
           "| benchmark | plain | JIT | speed-up | compiled / fell back / deferred "
           "| compile ms (median/fn) "
           "| first compiled call | compiled calls | peak RSS plain / JIT |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        if "error" in r:
            out.append("| %s | error | | | | | | | |" % r["name"])
            continue
        p, j, s = r["plain"], r["jit"], r["jit_stats"] or {}
        out.append("| %s | %s ± %s | %s ± %s | %.2fx%s | %s / %s / %s | %.0f (%.2f) | %s | %.0f%% "
                   "| %.0f / %.0f MB |" % (
            r["name"], fmt_time(p["mean"]), fmt_time(p["stdev"]), fmt_time(j["mean"]), fmt_time(j["stdev"]),
            r["speedup"], "" if r["jit_was_on"] else " (JIT not on: invalid)",
            s.get("functions_compiled", 0), s.get("functions_fallen_back", 0),
            s.get("functions_deferred", 0),
            1000.0 * (s.get("compile_seconds_per_worker") or 0), s.get("median_compile_ms") or 0,
            fmt_time(s["first_compiled_seconds"]) if s.get("first_compiled_seconds") else "-",
            100.0 * s.get("compiled_call_share", 0),
            (p["peak_rss"] or 0) / 2**20, (j["peak_rss"] or 0) / 2**20))
    out += ["", "Speed-up = plain mean / JIT mean (higher is better). Compile ms is per "
            "worker process, total and median per function; the first compiled call waits "
            "for the .NET runtime to start plus its own compile; compiled calls is the share "
            "of Python calls (frames) in the JIT workers that ran compiled code."]
    errors = [r for r in results if "error" in r]
    for r in errors:
        out += ["", "## %s failed" % r["name"], "", "```", r["error"], "```"]
    return "\n".join(out) + "\n"


def chart(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    ok = [r for r in results if "speedup" in r]
    names = [r["name"] for r in ok]
    ratios = [r["speedup"] for r in ok]
    fig, ax = plt.subplots(figsize=(10, 5))
    colors = ["tab:green" if x >= 1 else "tab:red" for x in ratios]
    ax.bar(names, ratios, color=colors)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_ylabel("speed-up vs plain CPython (x)")
    ax.set_title("pyjion_clr on pyperformance (higher is better)")
    ax.tick_params(axis="x", rotation=60)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer pyperf workers (a few minutes)")
    p.add_argument("--only", default=None, help="comma-separated benchmark names")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    args = p.parse_args(argv)

    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        p.error("unknown benchmark(s): %s" % ", ".join(unknown))
    run = QUICK_RUN if args.quick else FULL_RUN
    args.out = os.path.abspath(args.out)     # pyperf runs in the benchmark's folder
    rawdir = os.path.join(args.out, "raw")
    os.makedirs(rawdir, exist_ok=True)
    results = []
    for name in names:
        start = time.perf_counter()
        for r in run_benchmark(name, run, rawdir):
            results.append(r)
            if "error" in r:
                print("%-16s error (see bench.md)" % name, flush=True)
                continue
            print("%-16s plain %-10s JIT %-10s %.2fx  %s compiled%s  (%.0f s)" % (
                r["name"], fmt_time(r["plain"]["mean"]), fmt_time(r["jit"]["mean"]), r["speedup"],
                r["jit_stats"]["functions_compiled"] if r["jit_stats"] else 0,
                "" if r["jit_was_on"] else "  JIT NOT ON", time.perf_counter() - start), flush=True)
    valid = [r["speedup"] for r in results if r.get("jit_was_on")]
    options = "; ".join(filter(None, [" ".join(run["options"]), "%d worker processes per side in "
                                      "%d rounds, plain and JIT alternating, loops calibrated in the "
                                      "first" % (run["processes"], run["rounds"])]))
    summary = {"python": "CPython " + sys.version.split()[0], "options": options,
               "date": time.strftime("%Y-%m-%d"), "geomean": geomean(valid),
               "valid_runs": len(valid), "benchmarks": len(results)}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "bench.json"), "w") as f:
        json.dump({"summary": summary, "results": results}, f, indent=1)
    with open(os.path.join(args.out, "bench.md"), "w") as f:
        f.write(markdown(results, summary))
    chart(results, os.path.join(args.out, "bench.png"))
    print("geometric mean speed-up: %s over %d valid runs"
          % ("%.2fx" % summary["geomean"] if summary["geomean"] else "n/a", len(valid)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
