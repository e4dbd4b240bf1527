"""The CLI, the IPython magic, the public API's argument checking, and
behaviour without a .NET runtime."""

import os
import subprocess
import sys
import textwrap

import pytest

import pyjion_clr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(args, env_extra=None, cwd=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_extra or {})
    return subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def pyjion_run(*args, **kw):
    return run([sys.executable, "-m", "pyjion_clr", *args], **kw)


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "app.py"
    path.write_text(textwrap.dedent("""
        import sys
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)
        print(sys.argv[1:], fib(15))
        if sys.argv[1:] == ["boom"]:
            raise ValueError("boom")
        sys.exit(int(sys.argv[1]) if sys.argv[1:] and sys.argv[1].isdigit() else 0)
    """))
    return path


def test_cli_same_output_and_exit_code(script):
    for argv in (["a", "b"], ["7"]):
        plain = run([sys.executable, str(script), *argv])
        jit = pyjion_run("--threshold", "0", str(script), *argv)
        assert (jit.stdout, jit.returncode) == (plain.stdout, plain.returncode)


def test_cli_uncaught_exception_matches_python(script):
    plain = run([sys.executable, str(script), "boom"])
    jit = pyjion_run(str(script), "boom")
    assert jit.returncode == plain.returncode == 1
    assert jit.stderr == plain.stderr


def test_cli_missing_script_matches_python(tmp_path):
    missing = str(tmp_path / "nope.py")
    plain = run([sys.executable, missing])
    jit = pyjion_run(missing)
    assert (jit.returncode, jit.stderr) == (plain.returncode, plain.stderr)


def test_cli_stats_report_compiled_functions(script):
    jit = pyjion_run("--threshold", "0", "--stats", str(script), "x")
    assert jit.returncode == 0
    line = [l for l in jit.stderr.splitlines() if "functions compiled" in l][0]
    compiled = int(line.split("pyjion_clr: ")[1].split()[0])
    assert compiled >= 2          # the module body and fib at least
    assert "median compile time" in jit.stderr


def test_cli_stats_json(script, tmp_path):
    import json
    out = tmp_path / "stats.json"
    jit = pyjion_run("--threshold", "0", "--stats-json", str(out), str(script), "x")
    assert jit.returncode == 0
    stats = json.loads(out.read_text())
    assert stats["compiled"] >= 2
    # what falls back at threshold 0 is only code too large to optimize
    # (a big function of the standard library the launcher imports)
    assert all(reason.startswith("unsupported: too large") for reason in stats["fallbacks"])
    assert stats["compiled_calls"] > 0


def test_cli_module_mode(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text("import sys\nprint('mod', __name__, sys.argv[1:])\n")
    plain = run([sys.executable, "-m", "pkg.mod", "x"], cwd=tmp_path)
    jit = pyjion_run("--threshold", "0", "-m", "pkg.mod", "x", cwd=tmp_path)
    assert jit.returncode == plain.returncode == 0
    assert jit.stdout == plain.stdout == "mod __main__ ['x']\n"


def test_cli_bad_threshold(script):
    jit = pyjion_run("--threshold", "-3", str(script))
    assert jit.returncode == 2
    assert "threshold" in jit.stderr


def test_no_dotnet_runtime_falls_back_with_one_message(tmp_path, script):
    empty = tmp_path / "empty"
    empty.mkdir()
    jit = pyjion_run("--threshold", "0", "--stats", str(script), "a",
                     env_extra={"PYJION_CLR_DOTNET_ROOT": str(empty)})
    plain = run([sys.executable, str(script), "a"])
    assert (jit.stdout, jit.returncode) == (plain.stdout, plain.returncode)
    assert jit.stderr.count("cannot start a .NET runtime") == 1
    assert "0 functions compiled" in jit.stderr
    assert "backend unavailable" in jit.stderr


def test_config_rejects_bad_input():
    with pytest.raises(TypeError, match="nope"):
        pyjion_clr.config(nope=1)
    with pytest.raises(ValueError, match="threshold"):
        pyjion_clr.config(threshold=-1)
    with pytest.raises(TypeError, match="threshold"):
        pyjion_clr.config(threshold="3")
    with pytest.raises(ValueError, match="unknown backend"):
        pyjion_clr.config(backend="nope")


def test_info_and_dis_reject_non_functions():
    for bad in (1, "f", None, len):
        with pytest.raises(TypeError):
            pyjion_clr.info(bad)
        with pytest.raises(TypeError):
            pyjion_clr.dis(bad)


def test_info_and_dis_of_compiled_function(capsys):
    def square(x):
        return x * x
    pyjion_clr.config(threshold=0)
    pyjion_clr.enable()
    assert square(7) == 49
    pyjion_clr.disable()
    info = pyjion_clr.info(square)
    assert info.compiled and info.compiled_calls == 1
    assert info.il_bytes > 0 and info.compile_ms > 0
    pyjion_clr.dis(square)
    listing = capsys.readouterr().out
    assert "BINARY_OP" in listing and "calli" in listing and "&binary_op" in listing


def test_enable_disable_idempotent_and_threshold_counts_calls():
    def add(a, b):
        return a + b
    pyjion_clr.config(threshold=3)
    pyjion_clr.enable()
    pyjion_clr.enable()
    for _ in range(3):
        add(1, 2)
    assert pyjion_clr.info(add).status == "cold"
    add(1, 2)
    assert pyjion_clr.info(add).compiled
    pyjion_clr.disable()
    pyjion_clr.disable()
    assert not pyjion_clr.is_enabled()


def test_ipython_magic():
    IPython = pytest.importorskip("IPython", reason="IPython is part of the test extra")
    from IPython.testing.globalipapp import start_ipython
    shell = start_ipython()
    from io import StringIO
    from contextlib import redirect_stdout
    shell.run_line_magic("load_ext", "pyjion_clr")
    out = StringIO()
    with redirect_stdout(out):
        shell.run_line_magic("pyjion", "threshold 0")
        shell.run_line_magic("pyjion", "on")
        shell.run_cell("def cube(x):\n    return x * x * x\nresult = cube(3)\n")
        shell.run_line_magic("pyjion", "off")
        shell.run_line_magic("pyjion", "status")
        shell.run_line_magic("pyjion", "info cube")
    text = out.getvalue()
    assert shell.user_ns["result"] == 27
    assert "JIT is on" in text and "JIT is off" in text
    assert "<JitInfo cube: compiled" in text
