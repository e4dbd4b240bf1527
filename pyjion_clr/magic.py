"""IPython / Jupyter integration.

    %load_ext pyjion_clr
    %pyjion on | off | status | info NAME | dis NAME | threshold N
"""

import pyjion_clr

USAGE = "usage: %pyjion on | off | status | info NAME | dis NAME | threshold N"


def pyjion_magic(line, shell):
    words = line.split()
    if not words:
        print(USAGE)
        return None
    command, args = words[0], words[1:]
    if command == "on":
        pyjion_clr.enable()
        print("pyjion_clr JIT is on (threshold %d)" % pyjion_clr.config()["threshold"])
    elif command == "off":
        pyjion_clr.disable()
        print("pyjion_clr JIT is off")
    elif command == "status":
        cfg = pyjion_clr.config()
        st = pyjion_clr.stats()
        print("pyjion_clr JIT is %s; backend %s, threshold %d; %d functions compiled, "
              "%d fell back" % ("on" if cfg["enabled"] else "off", cfg["backend"],
                                cfg["threshold"], st["compiled"], st["fallback_total"]))
    elif command in ("info", "dis") and len(args) == 1:
        try:
            obj = eval(args[0], shell.user_ns)     # a name or dotted path in the user's namespace
        except Exception as exc:
            print("pyjion: cannot evaluate %r: %s" % (args[0], exc))
            return None
        try:
            if command == "info":
                print(repr(pyjion_clr.info(obj)))
            else:
                pyjion_clr.dis(obj)
        except TypeError as exc:
            print("pyjion: %s" % exc)
    elif command == "threshold" and len(args) == 1:
        try:
            pyjion_clr.config(threshold=int(args[0]))
        except ValueError as exc:
            print("pyjion: %s" % exc)
    else:
        print(USAGE)
    return None


def load_ipython_extension(ipython):
    ipython.register_magic_function(lambda line: pyjion_magic(line, ipython),
                                    magic_kind="line", magic_name="pyjion")


def unload_ipython_extension(ipython):
    pyjion_clr.disable()
