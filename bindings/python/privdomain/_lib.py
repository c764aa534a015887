"""Loading libprivdomain and declaring the C prototypes.

The shared object is found by its SONAME (libprivdomain.so.1) through the
system's loader, or at the path in the environment variable
PRIVDOMAIN_LIBRARY. Importing fails with ImportError when the library
cannot be loaded or its major.minor version differs from the one these
bindings were written for.
"""

import ctypes
import os

#: The C library version these bindings mirror (major, minor).
WRITTEN_FOR = (0, 1)
SONAME = "libprivdomain.so.1"


def _load(path=None, written_for=WRITTEN_FOR):
    path = path or os.environ.get("PRIVDOMAIN_LIBRARY") or SONAME
    try:
        lib = ctypes.CDLL(path)
    except OSError as exc:
        raise ImportError(
            f"privdomain: cannot load the C library {path!r} ({exc}); "
            "install libprivdomain or set PRIVDOMAIN_LIBRARY to the path of "
            "libprivdomain.so") from exc
    lib.pd_version.restype = ctypes.c_uint32
    lib.pd_version.argtypes = []
    lib.pd_version_string.restype = ctypes.c_char_p
    lib.pd_version_string.argtypes = []
    number = lib.pd_version()
    loaded = (number // 10000, number // 100 % 100)
    if loaded != tuple(written_for):
        raise ImportError(
            "privdomain: the C library at %r is version %s but these "
            "bindings were written for %d.%d.x"
            % (path, lib.pd_version_string().decode(), *written_for))
    return lib


lib = _load()


def fn(name, restype, *argtypes):
    """Declare and return the C function `name`; ImportError when the
    loaded library lacks it (a module binding a newer part of the API)."""
    try:
        f = getattr(lib, name)
    except AttributeError:
        raise ImportError(f"privdomain: the loaded libprivdomain has no "
                          f"{name}; this module needs a newer build") \
            from None
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


def has(name):
    """Whether the loaded library exports `name`."""
    try:
        getattr(lib, name)
    except AttributeError:
        return False
    return True
