"""pyjion-run: run a script or module with the JIT on.

    pyjion-run [--threshold N] [--backend NAME] [--stats] [--stats-json FILE] script.py [args...]
    pyjion-run [options] -m package.module [args...]

Same output, exit code and error messages as `python3 script.py args...`.
"""

import argparse
import os
import runpy
import sys

import pyjion_clr


def _parser():
    p = argparse.ArgumentParser(
        prog="pyjion-run", description="Run a Python script or module with the pyjion_clr JIT.",
        usage="%(prog)s [options] (script.py | -m module) [args...]")
    p.add_argument("--threshold", type=int, default=None,
                   help="calls before a function is compiled (0 = first call)")
    p.add_argument("--backend", default=None, help="JIT backend name (default: coreclr)")
    p.add_argument("--stats", action="store_true",
                   help="print compile statistics to stderr at exit")
    p.add_argument("--stats-json", default=None, metavar="FILE",
                   help="write the compile statistics to FILE as JSON at exit")
    p.add_argument("-m", dest="module", default=None, help="run a library module as a script")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="script and its arguments")
    return p


def format_stats(stats):
    lines = ["pyjion_clr: %d functions compiled, %d fell back, %d waiting to be called more, "
             "%.1f ms compiling (+ %.1f ms starting .NET)"
             % (stats["compiled"], stats["fallback_total"], stats["deferred"],
                stats["compile_seconds"] * 1000.0, stats["runtime_start_seconds"] * 1000.0)]
    if stats["median_compile_ms"] is not None:
        lines.append("pyjion_clr: median compile time %.2f ms per function" % stats["median_compile_ms"])
    for reason, count in sorted(stats["fallbacks"].items(), key=lambda kv: -kv[1]):
        lines.append("pyjion_clr:   %5d  %s" % (count, reason))
    lines.append("pyjion_clr: calls run compiled %d (%d of them made directly by compiled code), "
                 "interpreted %d (+ %d by the compiler itself)"
                 % (stats["compiled_calls"], stats["direct_calls"], stats["interpreted_calls"],
                    stats["compiler_calls"]))
    return "\n".join(lines)


def _write_stats_json(path):
    import json
    with open(path, "w") as f:
        json.dump(pyjion_clr.stats(), f, indent=1, sort_keys=True)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    # options end at the script name, as for python itself
    opts, rest = [], list(argv)
    while rest and rest[0].startswith("-") and rest[0] != "-m":
        opt = rest.pop(0)
        opts.append(opt)
        if opt in ("--threshold", "--backend", "--stats-json") and rest:
            opts.append(rest.pop(0))
    if rest and rest[0] == "-m":
        if len(rest) < 2:
            _parser().error("argument -m: expected one argument")
        opts += ["-m", rest[1]]
        rest = rest[2:]
    args = _parser().parse_args(opts)
    if args.module is None and not rest:
        _parser().error("a script or -m module is required")

    try:
        if args.threshold is not None:
            pyjion_clr.config(threshold=args.threshold)
        if args.backend is not None:
            pyjion_clr.config(backend=args.backend)
    except (TypeError, ValueError) as exc:
        _parser().error(str(exc))

    if args.stats:
        import atexit
        atexit.register(lambda: sys.stderr.write(format_stats(pyjion_clr.stats()) + "\n"))
    if args.stats_json:
        import atexit
        atexit.register(_write_stats_json, os.path.abspath(args.stats_json))

    if args.module is not None:
        sys.argv = [args.module] + rest
        pyjion_clr.enable()
        runpy.run_module(args.module, run_name="__main__", alter_sys=True)
        return 0

    script = rest[0]
    sys.argv = rest
    if not os.path.exists(script):
        sys.stderr.write("%s: can't open file %r: [Errno 2] No such file or directory\n"
                         % (sys.executable, os.path.abspath(script)))
        return 2
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    pyjion_clr.enable()
    runpy.run_path(script, run_name="__main__")
    return 0


_OWN_FILES = {os.path.abspath(__file__), os.path.abspath(os.path.join(os.path.dirname(__file__), "__main__.py"))}


def _user_traceback(tb):
    """Drop the launcher's frames (this module, runpy) from the front of tb,
    so an uncaught exception prints exactly as under plain python."""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if os.path.abspath(filename) in _OWN_FILES or "runpy" in filename:
            tb = tb.tb_next
        else:
            break
    return tb


def entry():
    """Console-script entry point: exceptions print as python prints them."""
    try:
        code = main()
    except SystemExit:
        raise
    except BaseException as exc:    # report like the interpreter, then exit like it
        tb = _user_traceback(exc.__traceback__)
        sys.excepthook(type(exc), exc.with_traceback(tb), tb)
        if isinstance(exc, KeyboardInterrupt):
            import signal
            sys.stdout.flush()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        sys.exit(1)
    sys.exit(code)


if __name__ == "__main__":
    entry()
