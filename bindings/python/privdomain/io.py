"""Reading transaction logs and CSV tables (io.h): the only part of the
library that touches files. Malformed input raises Corrupt with the
library's "line N: …" message; nothing is half imported."""

import ctypes
import os
from ctypes import (POINTER, byref, c_char_p, c_double, c_int32, c_int64,
                    c_size_t, c_void_p)

from . import _structs as S
from . import constants as K
from . import errors
from ._convert import copy_doubles, size, text
from ._lib import fn
from ._handle import _Handle
from .models import Summary

_P = c_void_p
_st = c_int32

_format_from_name = fn("pd_import_format_from_name", c_int32, c_char_p)
_import = fn("pd_import_transactions", _st, _P, c_int32, c_char_p, c_size_t)
_import_file = fn("pd_import_transactions_file", _st, _P, c_int32, c_char_p)
_date_parse = fn("pd_date_parse", _st, c_char_p, c_size_t, POINTER(c_int64))
_table_new = fn("pd_csv_table_new", _st, POINTER(S.pd_csv_table_options),
                POINTER(_P))
_table_free = fn("pd_csv_table_free", None, _P)
_table_errmsg = fn("pd_csv_table_errmsg", c_char_p, _P)
_table_load = fn("pd_csv_table_load", _st, _P, c_char_p, c_size_t)
_table_load_file = fn("pd_csv_table_load_file", _st, _P, c_char_p)
_table_rows = fn("pd_csv_table_rows", c_size_t, _P)
_table_columns = fn("pd_csv_table_columns", c_size_t, _P)
_table_find = fn("pd_csv_table_find", _st, _P, c_char_p, POINTER(c_size_t))
_table_cell = fn("pd_csv_table_cell", _st, _P, c_size_t, c_size_t,
                 POINTER(c_char_p), POINTER(c_size_t))
_table_numbers = fn("pd_csv_table_numbers", _st, _P, c_size_t,
                    POINTER(POINTER(c_double)))

#: The row index of the header in CsvTable.cell().
HEADER = (1 << (8 * ctypes.sizeof(c_size_t))) - 1


def import_format(fmt):
    """The format int for "csv", "cdnow-sample", "cdnow-master" or an
    IMPORT_* int."""
    if isinstance(fmt, str):
        kind = _format_from_name(fmt.encode())
        if kind == 0:
            raise errors.InvalidArgument(
                f"unknown import format {fmt!r} (one of "
                f"{', '.join(K.IMPORT_FORMATS)})")
        return kind
    return K.lookup(fmt, K.IMPORT_FORMATS, "import format")


def _summary(s):
    if not isinstance(s, Summary):
        raise TypeError("expected a Summary")
    return s


def import_transactions(summary, data, format="csv"):
    """Add the transactions in `data` (bytes, or str encoded as UTF-8) to a
    Summary, all or nothing."""
    s = _summary(summary)
    b, n = text(data, "data")
    s._check(_import(s._handle(), import_format(format), b, n))


def import_transactions_file(summary, path, format="csv"):
    """Add the transactions of the file at `path` to a Summary. IOFailure
    when the file cannot be read."""
    s = _summary(summary)
    s._check(_import_file(s._handle(), import_format(format),
                          os.fsencode(path)))


def parse_date(value):
    """Seconds since the epoch at midnight UTC of a "YYYY-MM-DD" or
    "YYYYMMDD" date."""
    b, n = text(value, "date")
    out = c_int64()
    errors.check(_date_parse(b, n, byref(out)))
    return out.value


class CsvTable(_Handle):
    """A CSV table with a header row, read whole into memory (pd_csv_table).
    Not thread-safe."""

    _free = _table_free
    _errmsg = _table_errmsg
    _what = "CSV table"

    def __init__(self, data=None, path=None):
        h = _P()
        errors.check(_table_new(None, byref(h)))
        self._h = h
        if data is not None:
            self.load(data)
        elif path is not None:
            self.load_file(path)

    def load(self, data):
        """Replace the content by the CSV in `data` (bytes or str)."""
        b, n = text(data, "data")
        self._check(_table_load(self._handle(), b, n))
        return self

    def load_file(self, path):
        """Replace the content by the CSV file at `path`."""
        self._check(_table_load_file(self._handle(), os.fsencode(path)))
        return self

    @property
    def rows(self):
        return _table_rows(self._handle())

    def __len__(self):
        return self.rows

    @property
    def columns(self):
        return _table_columns(self._handle())

    def header(self):
        """The column names."""
        return [self.cell(HEADER, c) for c in range(self.columns)]

    def find(self, name):
        """The index of the column named `name`."""
        b, _ = text(name, "column name")
        out = c_size_t()
        self._check(_table_find(self._handle(), b, byref(out)))
        return out.value

    def _column(self, column):
        return self.find(column) if isinstance(column, str) \
            else size(column, "column")

    def cell(self, row, column):
        """The text of a cell (row HEADER for the header); column by index
        or name."""
        col = self._column(column)
        p = c_char_p()
        n = c_size_t()
        self._check(_table_cell(self._handle(), size(row, "row"), col,
                                byref(p), byref(n)))
        return ctypes.string_at(p, n.value).decode("utf-8", "replace")

    def numbers(self, column):
        """A column as array.array('d') (copied); Corrupt when a cell is not
        a number."""
        col = self._column(column)
        p = POINTER(c_double)()
        self._check(_table_numbers(self._handle(), col, byref(p)))
        return copy_doubles(p, self.rows)
