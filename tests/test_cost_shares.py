"""benchmarks/cost_shares.py's sorting of perf samples into buckets."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks"))
import cost_shares  # noqa: E402

REPORT = """\
# Overhead  Shared Object                  Symbol
# ........  .............................  ......
#
    20.00%  [JIT] tid 17182                [.] native int [pyjion_clr.emitted] dynamicClass::pyjion$f$1(native int)[Optimized]
    10.00%  libpython3.11.so.1.0           [.] subtype_traverse
     5.00%  libpython3.11.so.1.0           [.] gc_collect_main
     5.00%  libpython3.11.so.1.0           [.] visit_decref
     8.00%  libpython3.11.so.1.0           [.] float_dealloc
     4.00%  libpython3.11.so.1.0           [.] _PyObject_Malloc
     2.00%  libpython3.11.so.1.0           [.] PyFloat_FromDouble
     9.00%  [kernel.kallsyms]              [k] clear_page_erms
     6.00%  libm.so.6                      [.] __sin_fma
    12.00%  libpython3.11.so.1.0           [.] _PyEval_EvalFrameDefault
     7.00%  _native.cpython-311-x86_64-linux-gnu.so  [.] pyj_call_return_leaf.lto_priv.0
     3.00%  [JIT] tid 17182                [.] 0x00007f2e99523d26
     4.00%  libcoreclr.so                  [.] ThePreStub
     5.00%  math.cpython-311-x86_64-linux-gnu.so  [.] math_sqrt
"""


def test_each_sample_in_its_bucket():
    assert cost_shares.shares(REPORT) == {
        "compiled code": 20.0,
        "collector": 20.0,
        "allocation": 14.0,
        "kernel": 9.0,
        "C libraries (libm, libc)": 6.0,
        "interpreter, C API": 12.0,
        "JIT helpers": 7.0,
        ".NET runtime, stubs": 7.0,
        "extension modules": 5.0,
    }


def test_table_bounds_by_the_kept_buckets():
    plain = (0.100, {"interpreter, C API": 80.0, "collector": 20.0})
    jit = (0.050, {"compiled code": 60.0, "collector": 40.0})
    lines = cost_shares.table("float", plain, jit)
    # kept: 40% of 50 ms = 20 ms; 100 ms / 20 ms
    assert lines[0] == ("### float: plain 100000 us, JIT 50000 us a call (2.00x); kept 40% of the "
                        "JIT's time; with only what is kept left: 5.00x")
    assert "| collector | 20000 | 20000 |" in lines


def test_median_process_keeps_its_own_shares():
    runs = [{"f": (0.3, {"collector": 10.0})}, {"f": (0.1, {"collector": 50.0})},
            {"f": (0.2, {"collector": 30.0})}]
    assert cost_shares.median_processes(runs) == {"f": (0.2, {"collector": 30.0})}
