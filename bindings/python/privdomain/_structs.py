"""ctypes mirrors of the library's public structs, field for field.

tests/test_structs.py compiles a C program against the headers and checks
every struct's size and every field's offset against these mirrors.
"""

import ctypes
from ctypes import (POINTER, c_char_p, c_double, c_int32, c_int64, c_size_t,
                    c_uint32, c_uint64, c_void_p)

FIT_MAX_PARAMS = 8

MALLOC_FN = ctypes.CFUNCTYPE(c_void_p, c_void_p, c_size_t)
REALLOC_FN = ctypes.CFUNCTYPE(c_void_p, c_void_p, c_void_p, c_size_t)
FREE_FN = ctypes.CFUNCTYPE(None, c_void_p, c_void_p)


class pd_allocator(ctypes.Structure):
    _fields_ = [("malloc_fn", MALLOC_FN), ("realloc_fn", REALLOC_FN),
                ("free_fn", FREE_FN), ("user", c_void_p)]


# ---- store.h -------------------------------------------------------------

class pd_store_options(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("allocator", POINTER(pd_allocator)),
                ("currency_exponent", c_int32),
                ("identity_key", POINTER(ctypes.c_uint8)),
                ("identity_key_len", c_size_t)]


class pd_store_stats(ctypes.Structure):
    _fields_ = [("size", c_size_t)] + [(n, c_uint64) for n in (
        "users", "merged_users", "erased_users", "identities", "channels",
        "guides", "links", "unlinks", "touchpoints", "orders", "refunds",
        "referrals", "guide_events", "reach_records", "cost_records",
        "events", "memory_bytes", "spare_bytes")]


# ---- users.h -------------------------------------------------------------

class pd_user_info(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("user", c_uint64),
                ("identities", c_uint32), ("channels_linked", c_uint32),
                ("orders", c_uint64), ("revenue", c_int64),
                ("refunded", c_int64), ("first_purchase", c_int64),
                ("last_purchase", c_int64), ("guide", c_uint32),
                ("referrals_made", c_uint32), ("referrer", c_uint64),
                ("first_seen", c_int64)]


# ---- events.h ------------------------------------------------------------

class pd_link_event(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("event_id", c_uint64),
                ("user", c_uint64), ("channel", c_int32),
                ("source", c_uint32), ("campaign", c_uint32),
                ("guide", c_uint32), ("time", c_int64)]


class pd_unlink_event(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("event_id", c_uint64),
                ("user", c_uint64), ("channel", c_int32),
                ("initiator", c_int32), ("guide", c_uint32),
                ("time", c_int64)]


class pd_touchpoint(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("event_id", c_uint64),
                ("user", c_uint64), ("kind", c_int32), ("purpose", c_int32),
                ("channel", c_int32), ("guide", c_uint32),
                ("campaign", c_uint32), ("rating_expertise", c_int32),
                ("rating_reliability", c_int32),
                ("rating_intimacy", c_int32),
                ("rating_self_orientation", c_int32), ("time", c_int64)]


class pd_order(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("event_id", c_uint64),
                ("order_id", c_uint64), ("user", c_uint64),
                ("time", c_int64), ("amount", c_int64),
                ("channel", c_int32), ("guide", c_uint32),
                ("shop", c_uint32)]


class pd_refund(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("event_id", c_uint64),
                ("order_id", c_uint64), ("time", c_int64),
                ("amount", c_int64)]


class pd_referral(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("event_id", c_uint64),
                ("referrer", c_uint64), ("referee", c_uint64),
                ("campaign", c_uint32), ("time", c_int64)]


class pd_reach(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("event_id", c_uint64),
                ("channel", c_int32), ("source", c_uint32),
                ("period_start", c_int64), ("period_end", c_int64),
                ("reached", c_uint64)]


class pd_acquisition_cost(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("event_id", c_uint64),
                ("channel", c_int32), ("source", c_uint32),
                ("period_start", c_int64), ("period_end", c_int64),
                ("amount", c_int64)]


class pd_link_state(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("channel", c_int32),
                ("linked", c_int32), ("links", c_uint32),
                ("unlinks", c_uint32), ("first_linked", c_int64),
                ("linked_since", c_int64), ("last_unlinked", c_int64),
                ("last_initiator", c_int32), ("source", c_uint32),
                ("guide", c_uint32)]


# ---- guides.h ------------------------------------------------------------

class pd_guide_bind(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("event_id", c_uint64),
                ("user", c_uint64), ("guide", c_uint32), ("time", c_int64)]


class pd_guide_handover(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("event_id", c_uint64),
                ("from_guide", c_uint32), ("to_guide", c_uint32),
                ("time", c_int64)]


class pd_guide_deactivate(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("event_id", c_uint64),
                ("guide", c_uint32), ("time", c_int64)]


class pd_guide_info(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("guide", c_uint32), ("shop", c_uint32),
                ("code", c_char_p), ("active", c_int32),
                ("deactivated", c_int64), ("users_bound", c_uint64)]


# ---- fit.h ---------------------------------------------------------------

class pd_fit_options(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("allocator", POINTER(pd_allocator)),
                ("max_iterations", c_int32), ("tolerance", c_double),
                ("threads", c_int32)]


class pd_customer_data(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("n", c_size_t),
                ("x", POINTER(c_double)), ("t_x", POINTER(c_double)),
                ("T", POINTER(c_double)), ("monetary", POINTER(c_double)),
                ("weight", POINTER(c_double))]


class pd_fit_info(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("model", c_int32),
                ("converged", c_int32), ("iterations", c_int32),
                ("n_params", c_uint32),
                ("params", c_double * FIT_MAX_PARAMS),
                ("std_errors", c_double * FIT_MAX_PARAMS),
                ("log_likelihood", c_double), ("n_customers", c_double),
                ("estimated", c_int32), ("has_std_errors", c_int32)]


# ---- survival.h ----------------------------------------------------------

class pd_km_options(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("allocator", POINTER(pd_allocator)),
                ("confidence", c_double)]


class pd_km_curve(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("n", c_size_t)] + [
        (n, POINTER(c_double)) for n in (
            "time", "at_risk", "events", "censored", "survival", "lower",
            "upper")]


# ---- summary.h -----------------------------------------------------------

class pd_summary_options(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("allocator", POINTER(pd_allocator))]


class pd_summary_spec(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("calibration_end", c_int64),
                ("observation_end", c_int64), ("unit", c_int32)]


# ---- io.h ----------------------------------------------------------------

class pd_csv_table_options(ctypes.Structure):
    _fields_ = [("size", c_size_t), ("allocator", POINTER(pd_allocator))]


#: Every mirror, for the layout test (C name -> ctypes class).
ALL = {cls.__name__: cls for cls in (
    pd_allocator, pd_store_options, pd_store_stats, pd_user_info,
    pd_link_event, pd_unlink_event, pd_touchpoint, pd_order, pd_refund,
    pd_referral, pd_reach, pd_acquisition_cost, pd_link_state,
    pd_guide_bind, pd_guide_handover, pd_guide_deactivate, pd_guide_info,
    pd_fit_options, pd_customer_data, pd_fit_info, pd_km_options,
    pd_km_curve, pd_summary_options, pd_summary_spec,
    pd_csv_table_options)}


def new(cls, **fields):
    """An instance of a size-first struct with `size` set and `fields`."""
    return cls(size=ctypes.sizeof(cls), **fields)


#: Headers declaring the mirrors registered from other modules.
HEADERS = {"privdomain.h"}


def register(header):
    """Class decorator: add a mirror declared in `header` (defined in
    another module) to ALL, for the layout test."""
    def add(cls):
        ALL[cls.__name__] = cls
        HEADERS.add(header)
        return cls
    return add
