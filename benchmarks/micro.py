"""Micro-benchmarks: interpreter vs JIT, side by side in one run.

Each workload runs in a fresh subprocess (so the JIT's frame hook cannot
affect the interpreter's figures), plain and with pyjion_clr at threshold 0.
Timings are the best of several repetitions after a warm-up call that
compiles everything; the JIT process also reports that the workload's
functions ran compiled, so a figure from a fallback cannot pass unnoticed.

    python benchmarks/micro.py [--repeat N] [--json PATH]
"""

import argparse
import json
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORKLOADS = {
    "int_loop": textwrap.dedent("""
        def work(n=1_000_000):
            total = 0
            i = 0
            while i < n:
                total += i * 3 % 7
                i += 1
            return total
        FUNCS = [work]
    """),
    "float_loop": textwrap.dedent("""
        def work(n=500_000):
            x = 0.0
            y = 1.5
            for i in range(n):
                x = x * 0.5 + y * 1.25 - 0.1
                y = y + x / 3.0
            return x + y
        FUNCS = [work]
    """),
    "recursive_calls": textwrap.dedent("""
        def fib(n):
            if n < 2:
                return n
            return fib(n - 1) + fib(n - 2)
        def work():
            return fib(24)
        FUNCS = [work, fib]
    """),
}

RUNNER = textwrap.dedent("""
    import json, sys, time
    mode, repeat = sys.argv[1], int(sys.argv[2])
    ns = {}
    exec(compile(sys.stdin.read(), "<workload>", "exec"), ns)
    if mode == "jit":
        import pyjion_clr
        pyjion_clr.config(threshold=0)
        pyjion_clr.enable()
    ns["work"]()                      # warm-up (and compile)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        ns["work"]()
        times.append(time.perf_counter() - t0)
    out = {"best": min(times), "mean": sum(times) / len(times)}
    if mode == "jit":
        pyjion_clr.disable()
        infos = [pyjion_clr.info(f) for f in ns["FUNCS"]]
        out["compiled"] = all(i.compiled for i in infos)
        out["compile_ms"] = {i.name: i.compile_ms for i in infos}
        out["stats"] = {k: v for k, v in pyjion_clr.stats().items() if k != "fallbacks"}
    print(json.dumps(out))
""")


def run(source, mode, repeat):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", RUNNER, mode, str(repeat)], input=source,
                          capture_output=True, text=True, env=env, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    results = {}
    print("%-16s %12s %12s %9s  %s" % ("benchmark", "interp (ms)", "jit (ms)", "speedup", "compile ms"))
    for name, source in WORKLOADS.items():
        plain = run(source, "plain", args.repeat)
        jit = run(source, "jit", args.repeat)
        if not jit["compiled"]:
            raise SystemExit("%s: workload did not run compiled: %r" % (name, jit))
        ratio = plain["best"] / jit["best"]
        results[name] = {"interpreter_s": plain["best"], "jit_s": jit["best"], "speedup": ratio,
                         "compile_ms": jit["compile_ms"]}
        print("%-16s %12.2f %12.2f %8.2fx  %s" % (
            name, plain["best"] * 1e3, jit["best"] * 1e3, ratio,
            ", ".join("%s %.2f" % kv for kv in jit["compile_ms"].items())))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"python": sys.version, "results": results}, fh, indent=2)
    return results


if __name__ == "__main__":
    main()
