"""Persistence (persist.h): snapshots, the journal and checkpoints.
The only part of the bindings besides privdomain.io that touches files."""

import ctypes
import dataclasses
import os
from ctypes import POINTER, Structure, byref, c_char, c_char_p, c_int32, \
    c_size_t, c_uint8, c_uint32, c_uint64, c_void_p

from . import _structs as S
from . import constants as K
from . import errors
from ._convert import int32, uint32
from ._lib import fn
from .store import Store

SYNC_EVERY_EVENT = 1
SYNC_EVERY_N = 2
SYNC_INTERVAL = 3
SYNC_NEVER = 4
SYNC = {"every_event": 1, "every_n": 2, "interval": 3, "never": 4}
FILE_KINDS = {0: "unknown", 1: "snapshot", 2: "journal"}


@S.register("persist.h")
class pd_persist_options(Structure):
    _fields_ = [("size", c_size_t), ("allocator", POINTER(S.pd_allocator)),
                ("currency_exponent", c_int32), ("sync", c_int32),
                ("sync_every_events", c_uint32),
                ("sync_every_ms", c_uint32),
                ("identity_key", POINTER(c_uint8)),
                ("identity_key_len", c_size_t), ("errmsg", POINTER(c_char)),
                ("errmsg_cap", c_size_t), ("threads", c_int32)]


@S.register("persist.h")
class pd_open_report(Structure):
    _fields_ = [("size", c_size_t), ("created", c_int32),
                ("checkpoint_completed", c_int32), ("generation", c_uint64),
                ("snapshot_position", c_uint64), ("replayed", c_uint64),
                ("cut_bytes", c_uint64), ("cut_records", c_uint64)]


@S.register("persist.h")
class pd_check_report(Structure):
    _fields_ = [("size", c_size_t), ("file_kind", c_int32),
                ("status", c_int32), ("generation", c_uint64),
                ("position", c_uint64), ("records", c_uint64),
                ("good_bytes", c_uint64), ("bad_bytes", c_uint64),
                ("message", c_char * 256)]


WRITE_FN = ctypes.CFUNCTYPE(c_int32, c_void_p, c_void_p, c_size_t)
READ_FN = ctypes.CFUNCTYPE(c_int32, c_void_p, c_void_p, c_size_t,
                           POINTER(c_size_t))
_P = c_void_p
_O = POINTER(pd_persist_options)
_save = fn("pd_snapshot_save", c_int32, _P, c_char_p)
_write = fn("pd_snapshot_write", c_int32, _P, WRITE_FN, c_void_p)
_load = fn("pd_snapshot_load", c_int32, c_char_p, _O, POINTER(_P))
_read = fn("pd_snapshot_read", c_int32, READ_FN, c_void_p, _O, POINTER(_P))
_open = fn("pd_store_open", c_int32, c_char_p, c_char_p, _O,
           POINTER(pd_open_report), POINTER(_P))
_checkpoint = fn("pd_store_checkpoint", c_int32, _P)
_sync = fn("pd_store_sync", c_int32, _P)
_check = fn("pd_persist_check", c_int32, c_char_p, _O,
            POINTER(pd_check_report))


@dataclasses.dataclass(frozen=True)
class OpenReport:
    """What open() found and did (pd_open_report)."""
    created: bool
    checkpoint_completed: bool
    generation: int
    snapshot_position: int
    replayed: int
    cut_bytes: int
    cut_records: int


@dataclasses.dataclass(frozen=True)
class CheckReport:
    """What check() found: kind "snapshot", "journal" or "unknown"; ok and
    error (the exception loading would raise, or None)."""
    file_kind: str
    ok: bool
    error: object
    generation: int
    position: int
    records: int
    good_bytes: int
    bad_bytes: int
    message: str


class _Options:
    """pd_persist_options with an error-message buffer, keeping the key's
    memory alive for the call."""

    def __init__(self, currency_exponent=2, sync="every_event",
                 sync_every_events=0, sync_every_ms=0, identity_key=None,
                 threads=1):
        self.msg = ctypes.create_string_buffer(512)
        self.s = S.new(pd_persist_options,
                       currency_exponent=int32(currency_exponent,
                                               "currency_exponent"),
                       sync=K.lookup(sync, SYNC, "sync policy"),
                       sync_every_events=uint32(sync_every_events,
                                                "sync_every_events"),
                       sync_every_ms=uint32(sync_every_ms, "sync_every_ms"),
                       errmsg=self.msg,
                       errmsg_cap=len(self.msg),
                       threads=int32(threads, "threads"))
        if identity_key is not None:
            key = bytes(identity_key)
            self.key = (c_uint8 * max(len(key), 1)).from_buffer_copy(
                key.ljust(1, b"\0"))
            self.s.identity_key = self.key
            self.s.identity_key_len = len(key)

    def ref(self):
        return byref(self.s)

    def check(self, status):
        return errors.check(status, lambda: self.msg.value.decode(
            "utf-8", "replace"))


def save(store, path):
    """Save the whole store to `path` atomically (a snapshot)."""
    store._check(_save(store._handle(), os.fsencode(path)))


def to_bytes(store):
    """The snapshot as bytes (exactly what save() writes to a file)."""
    chunks = []

    def write(_u, buf, n):
        chunks.append(ctypes.string_at(buf, n))
        return 0
    cb = WRITE_FN(write)
    store._check(_write(store._handle(), cb, None))
    return b"".join(chunks)


def load(path, identity_key=None):
    """A new Store loaded from a snapshot file (no journal attached)."""
    o = _Options(identity_key=identity_key)
    h = _P()
    o.check(_load(os.fsencode(path), o.ref(), byref(h)))
    return Store._adopt(h)


def from_bytes(data, identity_key=None):
    """A new Store loaded from snapshot bytes."""
    mv = memoryview(bytes(data))
    pos = [0]

    def read(_u, buf, n, got):
        k = min(n, len(mv) - pos[0])
        ctypes.memmove(buf, bytes(mv[pos[0]:pos[0] + k]), k)
        pos[0] += k
        got[0] = k
        return 0
    cb = READ_FN(read)
    o = _Options(identity_key=identity_key)
    h = _P()
    o.check(_read(cb, None, o.ref(), byref(h)))
    return Store._adopt(h)


def open_store(snapshot_path, journal_path, currency_exponent=2,
               sync="every_event", sync_every_events=0, sync_every_ms=0,
               identity_key=None):
    """Open (or create) a store kept in a snapshot and a journal, and keep
    journaling every change. Returns (Store, OpenReport). sync:
    "every_event" (default), "every_n", "interval" or "never"."""
    o = _Options(currency_exponent, sync, sync_every_events, sync_every_ms,
                 identity_key)
    rep = S.new(pd_open_report)
    h = _P()
    o.check(_open(os.fsencode(snapshot_path), os.fsencode(journal_path),
                  o.ref(), byref(rep), byref(h)))
    return Store._adopt(h), OpenReport(
        bool(rep.created), bool(rep.checkpoint_completed), rep.generation,
        rep.snapshot_position, rep.replayed, rep.cut_bytes, rep.cut_records)


def checkpoint(store):
    """Write a new snapshot of a store from open_store() and start a new
    journal."""
    store._check(_checkpoint(store._handle()))


def sync(store):
    """Make every journaled change durable now."""
    store._check(_sync(store._handle()))


def check(path, identity_key=None):
    """Examine a snapshot or journal file without changing it."""
    o = _Options(identity_key=identity_key)
    out = S.new(pd_check_report)
    o.check(_check(os.fsencode(path), o.ref(), byref(out)))
    msg = out.message.decode("utf-8", "replace")
    return CheckReport(FILE_KINDS.get(out.file_kind, str(out.file_kind)),
                       out.status == errors.OK,
                       None if out.status >= 0 else
                       errors.error_for(out.status, msg),
                       out.generation, out.position, out.records,
                       out.good_bytes, out.bad_bytes, msg)
