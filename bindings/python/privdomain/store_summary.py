"""From a store's orders to per-customer summaries and value predictions
(store_summary.h): P(alive), expected purchases, CLV, the key customers,
and which channel or source brings customers worth the most. Spend is in
the store's major currency unit (yuan, not fen), as a float."""

import ctypes
import dataclasses
from ctypes import POINTER, Structure, byref, c_double, c_int, c_int32, \
    c_int64, c_size_t, c_uint32, c_uint64, c_void_p

from . import _structs as S
from . import constants as K
from ._convert import copy_doubles, int32, seconds, size
from ._lib import fn
from .metrics import filter_struct, pd_metrics_filter
from ._handle import _Handle
from .models import CustomerData, fit_info, model_kind
from .store import Store, _Collector

VALUE_P_ALIVE = 1
VALUE_EXPECTED_PURCHASES = 2
VALUE_EXPECTED_SPEND = 3
VALUE_CLV = 4
VALUE_COLUMNS = {"p_alive": 1, "expected_purchases": 2,
                 "expected_spend": 3, "clv": 4}
VALUE_BY_CHANNEL = 1
VALUE_BY_SOURCE = 2
VALUE_BY = {"channel": 1, "source": 2}


@S.register("store_summary.h")
class pd_value_options(Structure):
    _fields_ = [("size", c_size_t), ("model", c_int32),
                ("horizon", c_double), ("months", c_uint32),
                ("discount_rate", c_double),
                ("fit_options", POINTER(S.pd_fit_options))]


@S.register("store_summary.h")
class pd_value_group(Structure):
    _fields_ = [("size", c_size_t), ("by", c_int32), ("key", c_uint32),
                ("customers", c_uint64), ("mean_clv", c_double),
                ("total_clv", c_double), ("mean_p_alive", c_double),
                ("mean_expected_purchases", c_double)]


VALUE_GROUP_FN = ctypes.CFUNCTYPE(c_int, c_void_p, POINTER(pd_value_group))

_P = c_void_p
_new = fn("pd_store_summary_new", c_int32, _P, POINTER(pd_metrics_filter),
          POINTER(S.pd_summary_spec), POINTER(_P))
_free = fn("pd_store_summary_free", None, _P)
_errmsg = fn("pd_store_summary_errmsg", ctypes.c_char_p, _P)
_rows = fn("pd_store_summary_rows", c_size_t, _P)
_data = fn("pd_store_summary_data", c_int32, _P,
           POINTER(S.pd_customer_data))
_users = fn("pd_store_summary_users", c_int32, _P,
            POINTER(POINTER(c_uint64)))
_holdout = fn("pd_store_summary_holdout", c_int32, _P,
              POINTER(POINTER(c_double)))
_predict = fn("pd_store_summary_predict", c_int32, _P,
              POINTER(pd_value_options))
_column = fn("pd_store_summary_column", c_int32, _P, c_int32,
             POINTER(POINTER(c_double)))
_fit = fn("pd_store_summary_fit", c_int32, _P, c_int32,
          POINTER(S.pd_fit_info))
_top = fn("pd_store_summary_top", c_int32, _P, c_size_t, POINTER(c_uint64),
          POINTER(c_double), POINTER(c_size_t))
_value_by = fn("pd_store_value_by", c_int32, _P, _P, c_int32, c_int64,
               VALUE_GROUP_FN, c_void_p)


@dataclasses.dataclass(frozen=True)
class ValueGroup:
    """One acquisition channel's (or source's) predicted value; key 0 =
    none/unknown; money in major units."""
    by: str
    key: int
    customers: int
    mean_clv: float
    total_clv: float
    mean_p_alive: float
    mean_expected_purchases: float


class StoreSummary(_Handle):
    """The customer summary of a store's orders (pd_store_summary). It does
    not refer to the store after creation. Not thread-safe."""

    _free = _free
    _errmsg = _errmsg
    _what = "store summary"

    def __init__(self, store, calibration_end, observation_end=None,
                 unit="day", filter=None):
        """Summarise the orders of the users of `store` matching `filter`
        (a metrics.Filter or an as_of time; default: every user as of
        calibration_end)."""
        if not isinstance(store, Store):
            raise TypeError("store must be a Store")
        spec = S.new(S.pd_summary_spec,
                     calibration_end=seconds(calibration_end,
                                             "calibration_end"),
                     observation_end=(K.SUMMARY_NO_HOLDOUT
                                      if observation_end is None else
                                      seconds(observation_end,
                                              "observation_end")),
                     unit=K.lookup(unit, K.TIME_UNITS, "time unit"))
        f = filter_struct(store, calibration_end if filter is None
                          else filter)
        h = _P()
        store._check(_new(store._handle(), byref(f), byref(spec), byref(h)))
        self._h = h
        self._gen = 0

    def __len__(self):
        return _rows(self._handle())

    @property
    def rows(self):
        return len(self)

    def data(self):
        """A CustomerData view of the rows (x, t_x, T, monetary), valid
        while this handle is open."""
        out = S.new(S.pd_customer_data)
        self._check(_data(self._handle(), byref(out)))
        return CustomerData._view(self, out)

    def users(self):
        """The rows' canonical user ids."""
        p = POINTER(c_uint64)()
        self._check(_users(self._handle(), byref(p)))
        return [p[i] for i in range(self.rows)]

    def holdout(self):
        """The rows' holdout purchase days (NotFound without an
        observation end)."""
        p = POINTER(c_double)()
        self._check(_holdout(self._handle(), byref(p)))
        return copy_doubles(p, self.rows)

    def predict(self, model="bgnbd", horizon=52.0, months=12,
                discount_rate=0.01, max_iterations=500, tolerance=1e-8):
        """Fit `model` (bgnbd, mbgnbd, paretonbd) and Gamma-Gamma, and
        predict every row's P(alive), expected purchases in `horizon`
        units, expected spend and CLV over `months`."""
        fo = S.new(S.pd_fit_options,
                   max_iterations=int32(max_iterations, "max_iterations"),
                   tolerance=float(tolerance), threads=1)
        opts = S.new(pd_value_options, model=model_kind(model),
                     horizon=float(horizon), months=int(months),
                     discount_rate=float(discount_rate),
                     fit_options=ctypes.pointer(fo))
        self._check(_predict(self._handle(), byref(opts)))
        return self

    def column(self, name):
        """A prediction column ("p_alive", "expected_purchases",
        "expected_spend", "clv") as array.array('d')."""
        p = POINTER(c_double)()
        self._check(_column(self._handle(),
                            K.lookup(name, VALUE_COLUMNS, "value column"),
                            byref(p)))
        return copy_doubles(p, self.rows)

    def fit_info(self, which="transactions"):
        """FitInfo of the transaction fit or ("spend") the Gamma-Gamma fit
        of the last predictions."""
        w = {"transactions": 0, "spend": 1}.get(which, which)
        out = S.new(S.pd_fit_info)
        self._check(_fit(self._handle(), int32(w, "which"), byref(out)))
        return fit_info(out)

    def top(self, n):
        """The `n` key customers by CLV: a list of (user id, clv)."""
        n = size(n, "n")
        users = (c_uint64 * max(n, 1))()
        clv = (c_double * max(n, 1))()
        count = c_size_t()
        self._check(_top(self._handle(), n, users, clv, byref(count)))
        return [(users[i], clv[i]) for i in range(count.value)]

    def value_by(self, store, by, as_of):
        """Predicted value grouped by each customer's acquisition "channel"
        or "source" in `store` as of a time: a list of ValueGroup in
        increasing key."""
        b = K.lookup(by, VALUE_BY, "value grouping")
        names = {v: k for k, v in VALUE_BY.items()}
        col = _Collector()
        cb = VALUE_GROUP_FN(col.wrap(lambda _u, p: ValueGroup(
            names.get(p.contents.by, str(p.contents.by)), p.contents.key,
            p.contents.customers, p.contents.mean_clv, p.contents.total_clv,
            p.contents.mean_p_alive, p.contents.mean_expected_purchases)))
        store._check(_value_by(store._handle(), self._handle(), b,
                               seconds(as_of, "as_of"), cb, None))
        return col.finish()
