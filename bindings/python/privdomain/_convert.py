"""Conversions between Python values and the C API's conventions."""

import array
import ctypes
import datetime
import itertools
import decimal
import numbers
import operator
import sys

from . import errors

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_INT64 = (-(1 << 63), (1 << 63) - 1)
_UINT64 = (0, (1 << 64) - 1)
_UINT32 = (0, (1 << 32) - 1)
_INT32 = (-(1 << 31), (1 << 31) - 1)
_NATIVE_DOUBLE = {"d", "@d", "=d", "<d" if sys.byteorder == "little" else ">d"}


def _int(value, what, lo, hi):
    if type(value) is not int:  # fast path for plain ints
        if isinstance(value, bool) or not isinstance(value,
                                                     numbers.Integral):
            raise TypeError(f"{what} must be an int, not "
                            f"{type(value).__name__}")
        value = int(value)
    if not lo <= value <= hi:
        raise errors.OutOfRange(f"{what} {value} does not fit the C type")
    return value


def int64(value, what="value"):
    return _int(value, what, *_INT64)


def uint64(value, what="value"):
    return _int(value, what, *_UINT64)


def uint32(value, what="value"):
    return _int(value, what, *_UINT32)


def int32(value, what="value"):
    return _int(value, what, *_INT32)


def size(value, what="value"):
    return _int(value, what, 0, (1 << (8 * ctypes.sizeof(ctypes.c_size_t))) - 1)


def seconds(value, what="time"):
    """Seconds since the Unix epoch for an int, a datetime (aware, or naive
    taken as UTC) or a date (its midnight UTC)."""
    if type(value) is int:
        return int64(value, what)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        delta = value - _EPOCH
        return delta.days * 86400 + delta.seconds
    if isinstance(value, datetime.date):
        return (value - _EPOCH.date()).days * 86400
    return int64(value, what)


def optional_time(value):
    """A time from the library, where -1 means "none", as int or None."""
    return None if value < 0 else value


def to_datetime(secs):
    """An aware UTC datetime for seconds since the epoch (None for None)."""
    if secs is None:
        return None
    return _EPOCH + datetime.timedelta(seconds=secs)


def minor_units(amount, exponent, what="amount"):
    """Money as int minor units: an int is taken as minor units already; a
    Decimal is in major units and converted with the currency exponent,
    rejecting fractions of a minor unit."""
    if isinstance(amount, decimal.Decimal):
        if not amount.is_finite():
            raise errors.OutOfRange(f"{what} {amount} is not a finite amount")
        scaled = amount.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise errors.OutOfRange(
                f"{what} {amount} has a fraction of a minor unit (the "
                f"currency has {exponent} decimals)")
        return int64(int(scaled), what)
    if isinstance(amount, float):
        raise TypeError(f"{what} must be an int (minor units) or a Decimal, "
                        "never a float")
    return int64(amount, what)


def to_decimal(minor, exponent):
    """Minor units as a Decimal in major units."""
    return decimal.Decimal(minor).scaleb(-exponent)


def text(value, what="text"):
    """(bytes, length) for a str (encoded as UTF-8) or bytes."""
    if isinstance(value, str):
        b = value.encode("utf-8", "surrogatepass")
    elif isinstance(value, (bytes, bytearray, memoryview)):
        b = bytes(value)
    else:
        raise TypeError(f"{what} must be str or bytes, not "
                        f"{type(value).__name__}")
    return b, len(b)


def decode(b, length=None):
    if b is None:
        return None
    if length is not None:
        b = ctypes.string_at(b, length) if not isinstance(b, bytes) else b
    return b.decode("utf-8", "replace")


class DoubleArray:
    """A C view of n doubles, keeping the Python object that owns them."""

    __slots__ = ("owner", "ptr", "n")

    def __init__(self, owner, ptr, n):
        self.owner = owner
        self.ptr = ptr
        self.n = n


def doubles(values, what="values"):
    """A DoubleArray over `values` without copying when it is a writable,
    C-contiguous, one-dimensional buffer of native float64
    (array.array('d'), a numpy float64 array, a ctypes double array);
    otherwise after one conversion into an array.array('d')."""
    if isinstance(values, DoubleArray):
        return values
    try:
        mv = memoryview(values)
    except TypeError:
        mv = None
    if mv is not None:
        if (mv.format in _NATIVE_DOUBLE and mv.ndim == 1 and mv.c_contiguous
                and not mv.readonly):
            n = mv.shape[0]
            if n == 0:
                return DoubleArray(values, None, 0)
            # The ctypes array is passed where C wants a double * (no
            # ctypes.cast: it makes a reference cycle that would keep the
            # buffer exported, and the array unresizable, until a gc run).
            carr = (ctypes.c_double * n).from_buffer(mv)
            return DoubleArray(values, carr, n)
        if mv.ndim != 1:
            raise errors.InvalidArgument(f"{what} must be one-dimensional")
        values = mv.tolist()
    try:   # one C loop; takes anything with __float__ (Decimal, numpy)
        arr = array.array("d", values)
    except TypeError as exc:
        raise TypeError(f"{what} must be a sequence of numbers ({exc})") \
            from None
    return doubles(arr, what) if arr else DoubleArray(arr, None, 0)


def int_buffer(values, typecode, ctype, what="values"):
    """A pointer to n C integers of `ctype` (typecode of array.array), zero
    copy for a matching writable contiguous buffer; returns (owner, ptr, n)."""
    try:
        mv = memoryview(values)
    except TypeError:
        mv = None
    if (mv is not None and mv.ndim == 1 and mv.c_contiguous
            and not mv.readonly and mv.itemsize == ctypes.sizeof(ctype)
            and mv.format.lstrip("@=<") in _int_formats(ctype)):
        n = mv.shape[0]
        if n == 0:
            return values, None, 0
        carr = (ctype * n).from_buffer(mv)
        return values, carr, n
    if mv is not None:
        values = mv.tolist()
    try:
        try:
            arr = array.array(typecode, values)   # one C loop for ints
        except TypeError:
            # Integral types other than int (numpy ints); never floats.
            arr = array.array(typecode, map(operator.index, values))
    except OverflowError as exc:
        raise errors.OutOfRange(f"{what}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be a sequence of integers ({exc})") \
            from None
    if not arr:
        return arr, None, 0
    return int_buffer(arr, typecode, ctype, what)


def _int_formats(ctype):
    size = ctypes.sizeof(ctype)
    signed = ctype(-1).value == -1
    out = set()
    for code in "bhilq":
        c = code if signed else code.upper()
        if array.array(c).itemsize == size:
            out.add(c)
    return out


#: array.array typecode of size_t.
SIZE_T_CODE = next(c for c in "ILQ"
                   if array.array(c).itemsize == ctypes.sizeof(ctypes.c_size_t))


def texts(values, what="text"):
    """(blob, pointers, lengths, n) for an iterable of str/bytes: one
    buffer holding every value's UTF-8 bytes, a C array of pointers into it
    and a C array of lengths (size_t), built with C-level loops."""
    values = values if isinstance(values, list) else list(values)
    try:
        enc = [v.encode("utf-8", "surrogatepass") for v in values]
    except (AttributeError, TypeError):
        enc = [text(v, what)[0] for v in values]
    n = len(enc)
    lens = array.array(SIZE_T_CODE, map(len, enc))
    blob = ctypes.create_string_buffer(b"".join(enc), sum(lens) + 1)
    base = ctypes.addressof(blob)
    ptrs = array.array(SIZE_T_CODE, map(base.__add__, itertools.accumulate(
        itertools.chain((0,), lens[:-1]))) if n else ())
    c_ptrs = (ctypes.c_void_p * max(n, 1))()
    if n:
        ctypes.memmove(c_ptrs, ptrs.tobytes(), n * ctypes.sizeof(
            ctypes.c_void_p))
    c_lens = (ctypes.c_size_t * max(n, 1))()
    if n:
        ctypes.memmove(c_lens, lens.tobytes(), n * ctypes.sizeof(
            ctypes.c_size_t))
    return blob, c_ptrs, c_lens, n


def new_doubles(n):
    """A zeroed array.array('d') of n values and a ctypes view of it to
    pass as double * (drop the view after the call)."""
    out = array.array("d", bytes(8 * n))
    if n == 0:  # a valid pointer, so the library reports the real problem
        return out, (ctypes.c_double * 1)()
    return out, (ctypes.c_double * n).from_buffer(out)


def copy_doubles(ptr, n):
    """An array.array('d') copy of n doubles at a C pointer."""
    out = array.array("d")
    if n:
        out.frombytes(ctypes.string_at(ptr, 8 * n))
    return out
