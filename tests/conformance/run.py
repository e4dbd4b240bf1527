"""Run CPython's own regression tests plain and under the JIT, and tabulate.

For each module in a list, `python -m test MODULE` runs twice in fresh
processes: in the plain interpreter and under `pyjion-run --threshold 0`
(every function compiled at its first call).  The table records both
results, the JIT run's compile statistics (functions compiled, fallbacks by
reason) and any crash signal.  The interpreter run is the oracle: a module
that passes plain must pass under the JIT.

    python tests/conformance/run.py [--list FILE] [--jobs 2] [--timeout S] [--out DIR]

Writes DIR/conformance.md and DIR/conformance.json, and the output of every
run that did not pass to DIR/logs/.  Exits 1 if any module passes plain but
not under the JIT, or crashes under the JIT.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Slow modules go first so two workers finish together.
SLOW_FIRST = ("test_asyncio", "test_decimal", "test_threading", "test_statistics",
              "test_inspect", "test_re", "test_random", "test_sys", "test_builtin",
              "test_descr", "test_exceptions", "test_gc", "test_weakref", "test_math")


def read_list(path):
    with open(path) as f:
        names = [line.split("#")[0].strip() for line in f]
    return [n for n in names if n]


def classify(returncode, output, timed_out):
    if timed_out:
        return "timeout"
    if returncode < 0:
        return "crash (%s)" % signal.Signals(-returncode).name
    match = re.findall(r"(?:Tests result|Result): ([A-Z ,]+)", output)
    verdict = match[-1].strip() if match else ""
    if returncode == 0:
        return "pass" if "NO TESTS RAN" not in verdict else "no tests"
    if verdict:
        return verdict.lower()
    return "exit %d" % returncode


def run_one(module, mode, python, timeout, logdir):
    stats = None
    with tempfile.TemporaryDirectory(prefix="pyjion-conf-") as tmp:
        stats_path = os.path.join(tmp, "stats.json")
        if mode == "plain":
            cmd = [python, "-m", "test", module]
        else:
            cmd = [python, "-m", "pyjion_clr", "--threshold", "0", "--stats-json", stats_path,
                   "-m", "test", module]
        env = dict(os.environ)
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
        env.pop("PYJION_CLR_DEBUG", None)
        start = time.perf_counter()
        timed_out = False
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                                  env=env, cwd=tmp, timeout=timeout)
            returncode, output = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as exc:
            timed_out, returncode = True, None
            output = (exc.stdout or b"").decode(errors="replace") + (exc.stderr or b"").decode(errors="replace")
        seconds = time.perf_counter() - start
        if os.path.exists(stats_path):
            with open(stats_path) as f:
                stats = json.load(f)
    result = classify(returncode, output, timed_out)
    if result != "pass":
        os.makedirs(logdir, exist_ok=True)
        with open(os.path.join(logdir, "%s.%s.log" % (module, mode)), "w") as f:
            f.write(" ".join(cmd) + "\n\n" + output)
    return module, mode, {"result": result, "seconds": round(seconds, 1), "stats": stats}


def summarize(modules, runs):
    rows = []
    for m in modules:
        plain, jit = runs[(m, "plain")], runs[(m, "jit")]
        stats = jit["stats"] or {}
        rows.append({
            "module": m,
            "plain": plain["result"], "plain_seconds": plain["seconds"],
            "jit": jit["result"], "jit_seconds": jit["seconds"],
            "compiled": stats.get("compiled"),
            "fallbacks": stats.get("fallback_total"),
            "deferred": stats.get("deferred"),
            "fallback_reasons": stats.get("fallbacks", {}),
            "compiled_calls": stats.get("compiled_calls"),
            "interpreted_calls": stats.get("interpreted_calls"),
            "crash": jit["result"] if jit["result"].startswith("crash") else None,
        })
    compiled = sum(r["compiled"] or 0 for r in rows)
    fallbacks = sum(r["fallbacks"] or 0 for r in rows)
    reasons = {}
    for r in rows:
        for reason, n in r["fallback_reasons"].items():
            reasons[reason] = reasons.get(reason, 0) + n
    totals = {
        "modules": len(rows),
        "pass_plain": sum(r["plain"] == "pass" for r in rows),
        "pass_jit": sum(r["jit"] == "pass" for r in rows),
        "regressions": [r["module"] for r in rows if r["plain"] == "pass" and r["jit"] != "pass"],
        "crashes": [r["module"] for r in rows if r["crash"]],
        "functions_compiled": compiled,
        "functions_fallen_back": fallbacks,
        # too large but for the last compaction level, never called often
        # enough for it (translate.LAST_LEVEL_MIN_CALLS): interpreted
        "functions_deferred": sum(r["deferred"] or 0 for r in rows),
        "compiled_share": round(compiled / (compiled + fallbacks), 4) if compiled + fallbacks else None,
        "fallback_reasons": reasons,
    }
    return rows, totals


def markdown(rows, totals, wall, python):
    out = ["# Conformance: CPython's regression tests, plain vs JIT (threshold 0)", "",
           "Interpreter: `%s` (%s). Wall time %.0f s." % (python, sys.version.split()[0], wall), "",
           "Modules passing plain: %d/%d; under the JIT: %d/%d. "
           "Functions compiled: %d, fell back: %d (%.2f%% compiled); deferred (too large "
           "unless compact, never called often enough for it), so interpreted: %d."
           % (totals["pass_plain"], totals["modules"], totals["pass_jit"], totals["modules"],
              totals["functions_compiled"], totals["functions_fallen_back"],
              100.0 * (totals["compiled_share"] or 0), totals["functions_deferred"]), ""]
    if totals["regressions"]:
        out += ["Pass plain but not under the JIT: " + ", ".join(totals["regressions"]), ""]
    if totals["fallback_reasons"]:
        out += ["Fallbacks by reason:", ""]
        for reason, n in sorted(totals["fallback_reasons"].items(), key=lambda kv: -kv[1]):
            out.append("- %d × %s" % (n, reason))
        out.append("")
    out += ["| module | plain | JIT | plain s | JIT s | compiled | fell back | fallback reasons |",
            "|---|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        reasons = "; ".join("%d× %s" % (n, k) for k, n in sorted(r["fallback_reasons"].items()))
        out.append("| %s | %s | %s | %.1f | %.1f | %s | %s | %s |" % (
            r["module"], r["plain"], r["jit"], r["plain_seconds"], r["jit_seconds"],
            r["compiled"] if r["compiled"] is not None else "-",
            r["fallbacks"] if r["fallbacks"] is not None else "-", reasons))
    return "\n".join(out) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--list", default=os.path.join(HERE, "modules.txt"))
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--timeout", type=float, default=1200.0, help="seconds per run")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    p.add_argument("--python", default=sys.executable)
    args = p.parse_args(argv)
    # Started in the background (`make conformance &`), this process and so
    # every test process would have SIGINT ignored, and the tests that send
    # themselves SIGINT (test_generators, test_threading) fail both ways: a
    # handler here makes exec reset it to the default in the children.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)

    modules = read_list(args.list)
    order = sorted(modules, key=lambda m: SLOW_FIRST.index(m) if m in SLOW_FIRST else len(SLOW_FIRST))
    logdir = os.path.join(args.out, "logs")
    shutil.rmtree(logdir, ignore_errors=True)      # logs of this run only
    runs = {}
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_one, m, mode, args.python, args.timeout, logdir)
                   for m in order for mode in ("jit", "plain")]
        for fut in concurrent.futures.as_completed(futures):
            module, mode, res = fut.result()
            runs[(module, mode)] = res
            print("%-28s %-5s %-20s %7.1f s" % (module, mode, res["result"], res["seconds"]),
                  flush=True)
    wall = time.perf_counter() - start
    rows, totals = summarize(modules, runs)
    totals["wall_seconds"] = round(wall, 1)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "conformance.json"), "w") as f:
        json.dump({"python": sys.version, "totals": totals, "modules": rows}, f, indent=1)
    with open(os.path.join(args.out, "conformance.md"), "w") as f:
        f.write(markdown(rows, totals, wall, args.python))
    print("plain %d/%d, JIT %d/%d, compiled %d, fell back %d, wall %.0f s"
          % (totals["pass_plain"], totals["modules"], totals["pass_jit"], totals["modules"],
             totals["functions_compiled"], totals["functions_fallen_back"], wall))
    if totals["regressions"] or totals["crashes"]:
        print("regressions: %s; crashes: %s" % (totals["regressions"], totals["crashes"]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
