"""Build of the native part (see native/): the frame hook and runtime helpers
(C, wrapped by Cython), and the translator stages (Cython)."""
import os
from glob import glob

from setuptools import Extension, setup
from Cython.Build import cythonize

COMMON = dict(include_dirs=["native"],
              extra_compile_args=["-O2", "-Wno-unused-function", "-Wno-unused-parameter"])

# The runtime helpers call each other on every Python call made by compiled
# code: hidden visibility and link-time optimization let them be inlined
# across files instead of going through the PLT.  Each function starts on a
# 64-byte line, so that an edit of one helper does not move the loops of
# another across instruction-fetch lines (unpack_sequence's helper ran 40%
# slower after an unrelated edit shifted it by 32 bytes).
ALIGN = ["-falign-functions=64"]
# libm linked by name, so that its functions are bound at their current
# versions, as CPython's math module binds them (compiled code calls them
# for math's functions: _native.pyx), not the oldest ones
NATIVE = dict(include_dirs=["native"],
              extra_compile_args=COMMON["extra_compile_args"] + ["-fvisibility=hidden", "-flto"] + ALIGN,
              extra_link_args=["-O2", "-flto"] + ALIGN, libraries=["m"])

extensions = [
    Extension("pyjion_clr._native", define_macros=[("Py_BUILD_CORE_MODULE", "1")],
              sources=["native/_native.pyx", "native/hook.c", "native/ops.c", "native/gen_ops.c", "native/site_cache.c",
                       "native/host_signals.c", "native/direct_call.c", "native/generator_new.c",
                       "native/native_stack.c", "native/startup_objects.c"],
              depends=glob("native/*.h"), **NATIVE),      # a header edit rebuilds it
    Extension("pyjion_clr._cil", sources=["native/cil.pyx"], **COMMON),
    Extension("pyjion_clr._bytecode", sources=["native/bytecode.pyx"], **COMMON),
    Extension("pyjion_clr._specialize", sources=["native/specialize.pyx"], **COMMON),
    Extension("pyjion_clr._translate", sources=["native/translate.pyx"], **COMMON),
]

# Cython's C output goes under build/, so native/ holds only sources.
BUILD_DIR = "build/cython"

# The IL builder's declarations (pyjion_clr/_cil.pxd) belong to native/cil.pyx
# and are cimported by the translator stages; cythonize does not connect a
# package's pxd with sources outside the package, so an edit of it
# regenerates their C here (a stale vtable layout crashes the translator).
PXD = "pyjion_clr/_cil.pxd"
for source in ("cil", "specialize", "translate"):
    c_file = os.path.join(BUILD_DIR, "native", source + ".c")
    if os.path.exists(c_file) and os.path.getmtime(c_file) < os.path.getmtime(PXD):
        os.remove(c_file)

setup(ext_modules=cythonize(extensions, language_level=3, quiet=True, build_dir=BUILD_DIR))
