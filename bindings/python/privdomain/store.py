"""The store: users, identities, channels, labels, events and guides
(store.h, users.h, channels.h, events.h, guides.h).

Conventions of this module:
- Times are accepted as int seconds since the Unix epoch, as aware
  datetimes, as naive datetimes (taken as UTC) or as dates (midnight UTC).
  Times come back as int seconds; a C value of -1 ("none") comes back as
  None. privdomain.to_datetime() turns seconds into an aware datetime.
- Money is accepted as int minor units (fen, cents) or as a Decimal in
  major units, converted with the store's currency exponent; a Decimal
  with a fraction of a minor unit raises OutOfRange. Floats are refused.
  Money comes back as int minor units (Store.to_decimal converts).
- Event ids are non-zero ints or text (converted with event_id()).
- Recording functions return True when the event was new and False when
  it was a replay of an already recorded event (PD_REPLAYED).
- Channels may be given by id or by name ("wecom"); labels, guides and
  users by id.
"""

import ctypes
import dataclasses
from ctypes import (POINTER, byref, c_char_p, c_int, c_int32, c_int64,
                    c_size_t, c_uint32, c_uint64, c_void_p)
from typing import NamedTuple, Optional

from . import _structs as S
from . import constants as K
from . import errors
from ._convert import (int32, minor_units, optional_time, seconds,
                       text, texts, to_decimal, uint32, uint64)
from ._handle import _Handle
from ._lib import fn

_P = c_void_p
_st = c_int32

_store_new = fn("pd_store_new", _st, POINTER(S.pd_store_options), POINTER(_P))
_store_free = fn("pd_store_free", None, _P)
_store_errmsg_copy = fn("pd_store_errmsg_copy", _st, _P, c_char_p, c_size_t)
_event_id_from_string = fn("pd_event_id_from_string", c_uint64, c_char_p,
                           c_size_t)
_store_get_stats = fn("pd_store_get_stats", _st, _P,
                      POINTER(S.pd_store_stats))
_store_currency_exponent = fn("pd_store_currency_exponent", c_int32, _P)
_store_set_threads = fn("pd_store_set_threads", _st, _P, c_int32)
_store_set_spare_limit = fn("pd_store_set_spare_limit", _st, _P, c_int64)
_store_threads = fn("pd_store_threads", c_int32, _P)
_store_reserve = fn("pd_store_reserve", _st, _P, c_int32, c_uint64)
_store_cluster = fn("pd_store_cluster", _st, _P)

_user_find = fn("pd_user_find", _st, _P, c_char_p, c_size_t, c_char_p,
                c_size_t, POINTER(c_uint64))
_user_ensure = fn("pd_user_ensure", _st, _P, c_char_p, c_size_t, c_char_p,
                  c_size_t, POINTER(c_uint64))
_users_ensure = fn("pd_users_ensure", _st, _P, c_char_p, c_size_t, c_size_t,
                   c_void_p, c_void_p, c_void_p, c_void_p)
_user_attach = fn("pd_user_attach", _st, _P, c_uint64, c_char_p, c_size_t,
                  c_char_p, c_size_t, POINTER(c_uint64))
_user_merge = fn("pd_user_merge", _st, _P, c_uint64, c_uint64,
                 POINTER(c_uint64))
_user_canonical = fn("pd_user_canonical", _st, _P, c_uint64,
                     POINTER(c_uint64))
_user_erase = fn("pd_user_erase", _st, _P, c_uint64)
IDENTITY_FN = ctypes.CFUNCTYPE(c_int, c_void_p, POINTER(ctypes.c_char),
                               c_size_t, POINTER(ctypes.c_char), c_size_t)
_user_identities = fn("pd_user_identities", _st, _P, c_uint64, IDENTITY_FN,
                      c_void_p)
_user_get = fn("pd_user_get", _st, _P, c_uint64, c_int64,
               POINTER(S.pd_user_info))
USER_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_uint64)
_store_foreach_user = fn("pd_store_foreach_user", _st, _P, USER_FN, c_void_p)

_channel_register = fn("pd_channel_register", _st, _P, c_char_p, c_size_t,
                       c_int32, POINTER(c_int32))
_channel_find = fn("pd_channel_find", _st, _P, c_char_p, c_size_t,
                   POINTER(c_int32))
_channel_info = fn("pd_channel_info", _st, _P, c_int32, POINTER(c_char_p),
                   POINTER(c_int32))
_label_ensure = fn("pd_label_ensure", _st, _P, c_int32, c_char_p, c_size_t,
                   POINTER(c_uint32))
_label_find = fn("pd_label_find", _st, _P, c_int32, c_char_p, c_size_t,
                 POINTER(c_uint32))
_label_name = fn("pd_label_name", _st, _P, c_int32, c_uint32,
                 POINTER(c_char_p), POINTER(c_size_t))

_record = {}
for _name, _cls in (("link", S.pd_link_event), ("unlink", S.pd_unlink_event),
                    ("touchpoint", S.pd_touchpoint), ("order", S.pd_order),
                    ("refund", S.pd_refund), ("referral", S.pd_referral),
                    ("reach", S.pd_reach), ("cost", S.pd_acquisition_cost),
                    ("guide_bind", S.pd_guide_bind),
                    ("guide_handover", S.pd_guide_handover),
                    ("guide_deactivate", S.pd_guide_deactivate)):
    _record[_name] = fn("pd_record_" + _name, _st, _P, POINTER(_cls))
_record_events = fn("pd_record_events", _st, _P, c_size_t, POINTER(c_int32),
                    POINTER(c_void_p), POINTER(c_int32))
_EVENT_KINDS = {"link": 1, "unlink": 2, "touchpoint": 3, "order": 4,
                "refund": 5, "referral": 6, "guide_bind": 7,
                "guide_handover": 8, "guide_deactivate": 9, "reach": 10,
                "cost": 11}
_user_link_state = fn("pd_user_link_state", _st, _P, c_uint64, c_int32,
                      c_int64, POINTER(S.pd_link_state))
LINK_STATE_FN = ctypes.CFUNCTYPE(c_int, c_void_p, POINTER(S.pd_link_state))
_user_links = fn("pd_user_links", _st, _P, c_uint64, c_int64, LINK_STATE_FN,
                 c_void_p)

_guide_ensure = fn("pd_guide_ensure", _st, _P, c_char_p, c_size_t, c_uint32,
                   POINTER(c_uint32))
_guide_find = fn("pd_guide_find", _st, _P, c_char_p, c_size_t,
                 POINTER(c_uint32))
_guide_get = fn("pd_guide_get", _st, _P, c_uint32, c_int64,
                POINTER(S.pd_guide_info))


def event_id(value):
    """A non-zero 64-bit event id: an int is returned as is; text (str or
    bytes) gives pd_event_id_from_string() of its UTF-8 bytes, the same on
    every platform and version."""
    if type(value) is not int and isinstance(value, (str, bytes,
                                                      bytearray)):
        b, n = text(value, "event id")
        return _event_id_from_string(b, n)
    return uint64(value, "event id")


class Ensured(NamedTuple):
    """What an *_ensure / register call returns: the id, and whether the
    call created it (False: it existed already, PD_REPLAYED)."""
    id: int
    created: bool


@dataclasses.dataclass(frozen=True)
class StoreStats:
    """Store-wide counts (pd_store_stats)."""
    users: int
    merged_users: int
    erased_users: int
    identities: int
    channels: int
    guides: int
    links: int
    unlinks: int
    touchpoints: int
    orders: int
    refunds: int
    referrals: int
    guide_events: int
    reach_records: int
    cost_records: int
    events: int
    memory_bytes: int
    spare_bytes: int


@dataclasses.dataclass(frozen=True)
class UserInfo:
    """What is known of a user as of a time (pd_user_info). Money in minor
    units; times in seconds, None when the C struct says -1."""
    user: int
    identities: int
    channels_linked: int
    orders: int
    revenue: int
    refunded: int
    first_purchase: Optional[int]
    last_purchase: Optional[int]
    guide: int
    referrals_made: int
    referrer: int
    first_seen: Optional[int]


@dataclasses.dataclass(frozen=True)
class LinkState:
    """A user's link on a channel as of a time (pd_link_state)."""
    channel: int
    linked: bool
    links: int
    unlinks: int
    first_linked: Optional[int]
    linked_since: Optional[int]
    last_unlinked: Optional[int]
    last_initiator: int
    source: int
    guide: int


@dataclasses.dataclass(frozen=True)
class GuideInfo:
    """What is known of a guide as of a time (pd_guide_info)."""
    guide: int
    shop: int
    code: str
    active: bool
    deactivated: Optional[int]
    users_bound: int


@dataclasses.dataclass(frozen=True)
class ChannelInfo:
    id: int
    name: str
    private: bool


_TIMES = {"first_purchase", "last_purchase", "first_seen", "first_linked",
          "linked_since", "last_unlinked", "deactivated"}


def _record_of(cls, s, **override):
    kw = {}
    for f in dataclasses.fields(cls):
        if f.name in override:
            kw[f.name] = override[f.name]
            continue
        v = getattr(s, f.name)
        if f.name in _TIMES:
            v = optional_time(v)
        kw[f.name] = v
    return cls(**kw)


def _link_state(s):
    return _record_of(LinkState, s, linked=bool(s.linked))


class _Collector:
    """Runs a C iteration with a Python callback; an exception raised in the
    callback stops the iteration and is re-raised after the call (ctypes
    would otherwise print and swallow it)."""

    def __init__(self):
        self.items = []
        self.error = None

    def wrap(self, body):
        def cb(*args):
            try:
                self.items.append(body(*args))
                return 0
            except BaseException as exc:  # re-raised by finish()
                self.error = exc
                return 1
        return cb

    def finish(self):
        if self.error is not None:
            raise self.error
        return self.items


class Store(_Handle):
    """A private domain in memory (pd_store). Use as a context manager or
    call close(); a closed store raises Misuse. Safe to share between
    threads (the C library serialises calls; error messages are copied
    under its lock)."""

    _free = _store_free
    _what = "store"

    def __init__(self, currency_exponent=2, identity_key=None):
        """A new empty store. `currency_exponent`: decimals of the minor
        unit (2 = fen/cents). `identity_key` (bytes, 16–1024 long): keep
        identity keys only as HMAC-SHA-256 pseudonyms (PIPL, see store.h);
        None keeps them as given."""
        opts = S.new(S.pd_store_options,
                     currency_exponent=int32(currency_exponent,
                                             "currency_exponent"))
        if identity_key is not None:
            key = bytes(identity_key)
            keybuf = (ctypes.c_uint8 * max(len(key), 1)).from_buffer_copy(
                key.ljust(1, b"\0"))
            opts.identity_key = keybuf
            opts.identity_key_len = len(key)
        handle = _P()
        errors.check(_store_new(byref(opts), byref(handle)))
        self._h = handle
        self._exponent = _store_currency_exponent(handle)

    @classmethod
    def _adopt(cls, handle):
        """A Store owning an existing pd_store handle (from a loader)."""
        self = cls.__new__(cls)
        self._h = handle
        self._exponent = _store_currency_exponent(handle)
        return self

    # ---- handle (close, context manager, Misuse once closed: _Handle) ---

    def errmsg(self):
        """The message of the store's last failed call ("" after a
        success)."""
        buf = ctypes.create_string_buffer(1024)
        if _store_errmsg_copy(self._h, buf, len(buf)) != errors.OK:
            return ""
        return buf.value.decode("utf-8", "replace")

    @property
    def currency_exponent(self):
        """Decimal exponent of the currency's minor unit (2 = cents)."""
        return self._exponent

    def to_minor(self, amount):
        """Money (int minor units or Decimal major units) as minor units."""
        return minor_units(amount, self._exponent)

    def to_decimal(self, minor):
        """Minor units as a Decimal in the currency's major unit."""
        return to_decimal(minor, self._exponent)

    def stats(self):
        """Store-wide counts (StoreStats)."""
        out = S.new(S.pd_store_stats)
        self._check(_store_get_stats(self._handle(), byref(out)))
        return _record_of(StoreStats, out)

    @property
    def threads(self):
        """Threads the store's metric computations use (1 = the calling
        thread only, 0 = one per online processor)."""
        return _store_threads(self._handle())

    @threads.setter
    def threads(self, n):
        self._check(_store_set_threads(self._handle(), n))

    def set_spare_limit(self, nbytes):
        """How much freed working memory (blocks of 1 MiB and more) the
        store keeps for its next computations, so that they take no page
        faults for it: SPARE_AUTO (the default: a quarter of
        stats().memory_bytes), 0 (keep none, and give back what is kept)
        or a number of bytes. stats().spare_bytes is what is kept."""
        self._check(_store_set_spare_limit(self._handle(), nbytes))

    def reserve(self, kind, count):
        """Make room for `count` more events of `kind` (an EVENT_*
        constant; 0 sizes the event-id index only), or for `count` more
        users with one identity each (RESERVE_USERS), before a bulk
        load. With Store.threads above 1, large reservations are made
        resident at once on those threads, so recording takes no page
        faults (the memory is committed: reserve only what is coming)."""
        self._check(_store_reserve(self._handle(), kind, count))

    def cluster(self):
        """Lay each user's links, unlinks, touchpoints, binds and consent
        records side by side in memory, after a bulk load: per-user
        metrics (trust, pressure, guide figures …) then read memory in
        sequence. Every answer stays the same; a snapshot keeps the
        layout (pd_store_cluster)."""
        self._check(_store_cluster(self._handle()))

    # ---- users ----------------------------------------------------------

    def find_user(self, ns, key):
        """The user id with identity (ns, key); NotFound if none."""
        nsb, nsl = text(ns, "namespace")
        kb, kl = text(key, "key")
        out = c_uint64()
        self._check(_user_find(self._handle(), nsb, nsl, kb, kl, byref(out)))
        return out.value

    def ensure_user(self, ns, key):
        """Ensured(id, created): the user with identity (ns, key), created
        if there is none."""
        nsb, nsl = text(ns, "namespace")
        kb, kl = text(key, "key")
        out = c_uint64()
        created = self._check(_user_ensure(self._handle(), nsb, nsl, kb, kl,
                                           byref(out)))
        return Ensured(out.value, created)

    def ensure_users(self, ns, keys):
        """ensure_user for many keys of namespace `ns` in one call
        (pd_users_ensure, the fastest way to bring in members). Keys are
        ensured independently, in order. Returns one result per key:
        Ensured(id, created) or, for a key that failed, the exception
        ensure_user would have raised (not raised; the first failure
        carries the library's message). A bad namespace raises before
        anything is created."""
        nsb, nsl = text(ns, "namespace")
        blob, c_keys, c_lens, n = texts(keys, "key")
        ids = (c_uint64 * max(n, 1))()
        # A status no call writes: still there, nothing was attempted.
        untouched = 0x7FFFFFFF
        statuses = (c_int32 * max(n, 1))(*([untouched] * max(n, 1)))
        first = _users_ensure(self._handle(), nsb, nsl, n, c_keys, c_lens,
                              ids, statuses)
        del blob  # nothing is kept of the keys
        if n == 0 or statuses[0] == untouched:
            self._check(first)
            return []
        return self._per_entry(first, statuses, n,
                               lambda i, st: Ensured(ids[i], st == errors.OK))

    def attach_identity(self, user, ns, key):
        """Give `user` the identity (ns, key), merging with its owner if it
        belongs to another user; returns the surviving user id."""
        nsb, nsl = text(ns, "namespace")
        kb, kl = text(key, "key")
        out = c_uint64()
        self._check(_user_attach(self._handle(), uint64(user, "user"), nsb,
                                 nsl, kb, kl, byref(out)))
        return out.value

    def merge_users(self, a, b):
        """Merge users a and b; returns the survivor (the smaller id)."""
        out = c_uint64()
        self._check(_user_merge(self._handle(), uint64(a, "user"),
                                uint64(b, "user"), byref(out)))
        return out.value

    def canonical(self, user):
        """The id `user` is known by now (after merges)."""
        out = c_uint64()
        self._check(_user_canonical(self._handle(), uint64(user, "user"),
                                    byref(out)))
        return out.value

    def erase_user(self, user):
        """Erase a user (PIPL deletion). True when erased now, False when
        it was erased already."""
        return self._check(_user_erase(self._handle(), uint64(user, "user")))

    def identities(self, user):
        """Iterator of (namespace, key) str pairs of a user, ordered by
        namespace then key. The identities are collected when called."""
        col = _Collector()
        cb = IDENTITY_FN(col.wrap(lambda _u, ns, nl, k, kl: (
            ctypes.string_at(ns, nl).decode("utf-8", "replace"),
            ctypes.string_at(k, kl).decode("utf-8", "replace"))))
        self._check(_user_identities(self._handle(), uint64(user, "user"),
                                     cb, None))
        return iter(col.finish())

    def users(self):
        """Iterator of the ids of live users (canonical ids only), in
        increasing order, as they are when called."""
        col = _Collector()
        cb = USER_FN(col.wrap(lambda _u, uid: uid))
        self._check(_store_foreach_user(self._handle(), cb, None))
        return iter(col.finish())

    def user_info(self, user, as_of):
        """UserInfo of `user` as of a time."""
        out = S.new(S.pd_user_info)
        self._check(_user_get(self._handle(), uint64(user, "user"),
                              seconds(as_of, "as_of"), byref(out)))
        return _record_of(UserInfo, out)

    # ---- channels and labels -------------------------------------------

    def register_channel(self, name, private=True):
        """Ensured(id, created) for a custom channel; `private` True for a
        私域 channel, False for a public one."""
        b, n = text(name, "channel name")
        out = c_int32()
        created = self._check(_channel_register(
            self._handle(), b, n,
            K.CHANNEL_PRIVATE if private else K.CHANNEL_PUBLIC, byref(out)))
        return Ensured(out.value, created)

    def find_channel(self, name):
        """The id of a built-in or custom channel by name."""
        b, n = text(name, "channel name")
        out = c_int32()
        self._check(_channel_find(self._handle(), b, n, byref(out)))
        return out.value

    def channel_info(self, channel):
        """ChannelInfo(id, name, private) of a channel id or name."""
        cid = self._channel(channel)
        name = c_char_p()
        kind = c_int32()
        self._check(_channel_info(self._handle(), cid, byref(name),
                                  byref(kind)))
        return ChannelInfo(cid, name.value.decode("utf-8", "replace"),
                           kind.value == K.CHANNEL_PRIVATE)

    def _channel(self, channel):
        if isinstance(channel, str):
            return self.find_channel(channel)
        return int32(channel, "channel")

    def ensure_label(self, kind, name):
        """Ensured(id, created) for label `name` of kind "source",
        "campaign" or "shop" (or a LABEL_* int)."""
        k = K.lookup(kind, K.LABEL_KINDS, "label kind")
        b, n = text(name, "label name")
        out = c_uint32()
        created = self._check(_label_ensure(self._handle(), k, b, n,
                                            byref(out)))
        return Ensured(out.value, created)

    def find_label(self, kind, name):
        """The id of an existing label."""
        k = K.lookup(kind, K.LABEL_KINDS, "label kind")
        b, n = text(name, "label name")
        out = c_uint32()
        self._check(_label_find(self._handle(), k, b, n, byref(out)))
        return out.value

    def label_name(self, kind, label):
        """The name of a label."""
        k = K.lookup(kind, K.LABEL_KINDS, "label kind")
        name = c_char_p()
        n = c_size_t()
        self._check(_label_name(self._handle(), k, uint32(label, "label"),
                                byref(name), byref(n)))
        return ctypes.string_at(name, n.value).decode("utf-8", "replace")

    # ---- events ---------------------------------------------------------

    def _rec(self, _kind, _cls, **fields):
        s = S.new(_cls, **fields)
        return self._check(_record[_kind](self._handle(), byref(s)))

    def record_events(self, events):
        """Record many events under one acquisition of the store's lock
        (pd_record_events, the fastest way to record). `events` is an
        iterable of (kind, fields): kind one of "link", "unlink",
        "touchpoint", "order", "refund", "referral", "reach", "cost",
        "guide_bind", "guide_handover", "guide_deactivate", and fields a
        dict of the keyword arguments of the matching record_* method.

        Events are recorded independently, in order. Returns one result per
        event: True (new), False (replayed) or, for an event that failed,
        the exception it would have raised (not raised; the first failure
        carries the library's message). Arguments Python cannot convert
        raise before anything is recorded."""
        builder = _EventBuilder(self)
        kinds, records, keep = [], [], []
        for kind, fields in events:
            if kind not in _EVENT_KINDS:
                raise errors.InvalidArgument(
                    f"unknown event kind {kind!r} (one of "
                    f"{', '.join(_EVENT_KINDS)})")
            struct = getattr(builder, "record_" + kind)(**fields)
            kinds.append(_EVENT_KINDS[kind])
            records.append(ctypes.addressof(struct))
            keep.append(struct)
        n = len(kinds)
        if n == 0:
            return []
        c_kinds = (c_int32 * n)(*kinds)
        c_records = (c_void_p * n)(*records)
        statuses = (c_int32 * n)()
        first = _record_events(self._handle(), n, c_kinds, c_records,
                               statuses)
        return self._per_entry(first, statuses, n,
                               lambda i, st: st == errors.OK)

    def _per_entry(self, first, statuses, n, success):
        """The results of a batch call's n entries: success(i, status) for
        an entry that succeeded, the exception of one that failed (the
        first failure carries the library's message)."""
        message = self.errmsg() if first < 0 else ""
        out, reported = [], False
        for i in range(n):
            st = statuses[i]
            if st >= 0:
                out.append(success(i, st))
            elif not reported and st == first:
                out.append(errors.error_for(st, message))
                reported = True
            else:
                out.append(errors.error_for(st))
        return out

    def record_link(self, event, user, channel, time, source=0, campaign=0,
                    guide=0):
        """Record that `user` became reachable on `channel` (加好友/关注).
        True when new, False when replayed."""
        return self._rec("link", S.pd_link_event, event_id=event_id(event),
                         user=uint64(user, "user"),
                         channel=self._channel(channel),
                         source=uint32(source, "source"),
                         campaign=uint32(campaign, "campaign"),
                         guide=uint32(guide, "guide"), time=seconds(time))

    def record_unlink(self, event, user, channel, time, initiator, guide=0):
        """Record that a link ended; `initiator` is "user_deleted",
        "user_blocked", "user_unfollowed", "staff_removed" or an
        UNLINK_* int."""
        return self._rec("unlink", S.pd_unlink_event,
                         event_id=event_id(event), user=uint64(user, "user"),
                         channel=self._channel(channel),
                         initiator=K.lookup(initiator, K.UNLINK_INITIATORS,
                                            "unlink initiator"),
                         guide=uint32(guide, "guide"), time=seconds(time))

    def record_touchpoint(self, event, user, kind, time, purpose=0,
                          channel=0, guide=0, campaign=0, rating_expertise=0,
                          rating_reliability=0, rating_intimacy=0,
                          rating_self_orientation=0):
        """Record one contact between brand and user; `kind` and `purpose`
        by name ("broadcast", "promotion") or TOUCH_*/PURPOSE_* int."""
        return self._rec(
            "touchpoint", S.pd_touchpoint, event_id=event_id(event),
            user=uint64(user, "user"),
            kind=K.lookup(kind, K.TOUCH_KINDS, "touchpoint kind"),
            purpose=K.lookup(purpose, K.PURPOSES, "purpose"),
            channel=self._channel(channel), guide=uint32(guide, "guide"),
            campaign=uint32(campaign, "campaign"),
            rating_expertise=int32(rating_expertise, "rating"),
            rating_reliability=int32(rating_reliability, "rating"),
            rating_intimacy=int32(rating_intimacy, "rating"),
            rating_self_orientation=int32(rating_self_orientation, "rating"),
            time=seconds(time))

    def record_order(self, event, order_id, user, time, amount, channel=0,
                     guide=0, shop=0):
        """Record an order of `amount` (int minor units or Decimal)."""
        return self._rec("order", S.pd_order, event_id=event_id(event),
                         order_id=event_id(order_id),
                         user=uint64(user, "user"), time=seconds(time),
                         amount=self.to_minor(amount),
                         channel=self._channel(channel),
                         guide=uint32(guide, "guide"),
                         shop=uint32(shop, "shop"))

    def record_refund(self, event, order_id, time, amount):
        """Record a (partial) refund of an order."""
        return self._rec("refund", S.pd_refund, event_id=event_id(event),
                         order_id=event_id(order_id), time=seconds(time),
                         amount=self.to_minor(amount))

    def record_referral(self, event, referrer, referee, time, campaign=0):
        """Record that `referrer` brought `referee` (转介绍)."""
        return self._rec("referral", S.pd_referral, event_id=event_id(event),
                         referrer=uint64(referrer, "referrer"),
                         referee=uint64(referee, "referee"),
                         campaign=uint32(campaign, "campaign"),
                         time=seconds(time))

    def record_reach(self, event, channel, period_start, period_end,
                     reached, source=0):
        """Record how many people a channel/source reached in
        [period_start, period_end)."""
        return self._rec("reach", S.pd_reach, event_id=event_id(event),
                         channel=self._channel(channel),
                         source=uint32(source, "source"),
                         period_start=seconds(period_start, "period_start"),
                         period_end=seconds(period_end, "period_end"),
                         reached=uint64(reached, "reached"))

    def record_cost(self, event, channel, period_start, period_end, amount,
                    source=0):
        """Record money spent acquiring users (channel 0 = any)."""
        return self._rec("cost", S.pd_acquisition_cost,
                         event_id=event_id(event),
                         channel=self._channel(channel),
                         source=uint32(source, "source"),
                         period_start=seconds(period_start, "period_start"),
                         period_end=seconds(period_end, "period_end"),
                         amount=self.to_minor(amount))

    def link_state(self, user, channel, as_of):
        """LinkState of `user` on `channel` as of a time."""
        out = S.new(S.pd_link_state)
        self._check(_user_link_state(self._handle(), uint64(user, "user"),
                                     self._channel(channel),
                                     seconds(as_of, "as_of"), byref(out)))
        return _link_state(out)

    def links(self, user, as_of):
        """Iterator of the LinkState of `user` on every channel it has link
        events on at or before as_of, by channel id."""
        col = _Collector()
        cb = LINK_STATE_FN(col.wrap(lambda _u, p: _link_state(p.contents)))
        self._check(_user_links(self._handle(), uint64(user, "user"),
                                seconds(as_of, "as_of"), cb, None))
        return iter(col.finish())

    # ---- guides ---------------------------------------------------------

    def ensure_guide(self, code, shop=0):
        """Ensured(id, created) for the guide with staff code `code`."""
        b, n = text(code, "staff code")
        out = c_uint32()
        created = self._check(_guide_ensure(self._handle(), b, n,
                                            uint32(shop, "shop"), byref(out)))
        return Ensured(out.value, created)

    def find_guide(self, code):
        """The id of the guide with staff code `code`."""
        b, n = text(code, "staff code")
        out = c_uint32()
        self._check(_guide_find(self._handle(), b, n, byref(out)))
        return out.value

    def record_guide_bind(self, event, user, guide, time):
        """Bind `user` to `guide` from `time` on."""
        return self._rec("guide_bind", S.pd_guide_bind,
                         event_id=event_id(event), user=uint64(user, "user"),
                         guide=uint32(guide, "guide"), time=seconds(time))

    def record_guide_handover(self, event, from_guide, to_guide, time):
        """Hand every user of `from_guide` over to `to_guide` (离职继承)."""
        return self._rec("guide_handover", S.pd_guide_handover,
                         event_id=event_id(event),
                         from_guide=uint32(from_guide, "guide"),
                         to_guide=uint32(to_guide, "guide"),
                         time=seconds(time))

    def record_guide_deactivate(self, event, guide, time):
        """`guide` stops serving from `time`."""
        return self._rec("guide_deactivate", S.pd_guide_deactivate,
                         event_id=event_id(event),
                         guide=uint32(guide, "guide"), time=seconds(time))

    def guide_info(self, guide, as_of):
        """GuideInfo of a guide as of a time."""
        out = S.new(S.pd_guide_info)
        self._check(_guide_get(self._handle(), uint32(guide, "guide"),
                               seconds(as_of, "as_of"), byref(out)))
        return _record_of(GuideInfo, out, active=bool(out.active),
                          code=out.code.decode("utf-8", "replace"))


class _EventBuilder(Store):
    """The record_* methods of a store, building the C record instead of
    recording it (for Store.record_events). Shares the store's handle and
    never closes it."""

    def __init__(self, store):
        self._h = store._handle()
        self._exponent = store._exponent

    def close(self):
        self._h = None

    def _rec(self, _kind, _cls, **fields):
        return S.new(_cls, **fields)
