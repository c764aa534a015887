"""The probability models (fit.h, spend.h, retention.h), customer
summaries (summary.h) and Kaplan–Meier survival (survival.h).

Array arguments accept anything supporting the buffer protocol or any
sequence of numbers. A writable, C-contiguous, one-dimensional buffer of
native float64 (array.array('d'), a numpy float64 array) is passed to C
without a copy; anything else is converted once into an array.array('d').
Array results come back as array.array('d') (numpy users:
numpy.frombuffer(result)).
"""

import ctypes
import dataclasses
from ctypes import (POINTER, byref, c_char_p, c_double, c_int32, c_int64,
                    c_size_t, c_uint32, c_void_p)
from typing import Dict, Optional

from . import _structs as S
from . import constants as K
from . import errors
from ._convert import (copy_doubles, doubles, int_buffer,
                       int32, new_doubles, seconds, size, texts,
                       uint32)
from ._handle import _Handle
from ._lib import fn

_P = c_void_p
_st = c_int32
_PD = POINTER(c_double)
_DATA = POINTER(S.pd_customer_data)

_model_name = fn("pd_model_name", c_char_p, c_int32)
_model_from_name = fn("pd_model_from_name", c_int32, c_char_p)
_model_param_count = fn("pd_model_param_count", c_uint32, c_int32)
_model_param_name = fn("pd_model_param_name", c_char_p, c_int32, c_uint32)
_fit_new = fn("pd_fit_new", _st, POINTER(S.pd_fit_options), POINTER(_P))
_fit_free = fn("pd_fit_free", None, _P)
_fit_errmsg = fn("pd_fit_errmsg", c_char_p, _P)
_fit_estimate = fn("pd_fit_estimate", _st, _P, c_int32, _DATA)
_fit_set_params = fn("pd_fit_set_params", _st, _P, c_int32, _PD, c_size_t)
_fit_get = fn("pd_fit_get", _st, _P, POINTER(S.pd_fit_info))
_expected_purchases = fn("pd_predict_expected_purchases", _st, _P, _DATA,
                         c_double, _PD)
_p_alive = fn("pd_predict_p_alive", _st, _P, _DATA, _PD)
_unconditional = fn("pd_predict_unconditional_purchases", _st, _P, c_double,
                    _PD)
_p_purchases = fn("pd_predict_p_purchases", _st, _P, c_uint32, c_double, _PD)
_expected_spend = fn("pd_predict_expected_spend", _st, _P, _DATA, _PD)
_clv = fn("pd_predict_clv", _st, _P, _P, _DATA, c_uint32, c_double, c_double,
          _PD)
_dert = fn("pd_predict_dert", _st, _P, _DATA, c_double, _PD)
_estimate_sbg = fn("pd_fit_estimate_sbg", _st, _P, _PD, c_size_t)
_retention_survival = fn("pd_retention_survival", _st, _P, c_size_t, _PD)
_retention_rate = fn("pd_retention_rate", _st, _P, c_size_t, _PD)
_retention_project = fn("pd_retention_project", _st, _P, c_double, c_size_t,
                        c_size_t, _PD)
_retention_derl = fn("pd_retention_derl", _st, _P, c_double, c_uint32, _PD)

_summary_new = fn("pd_summary_new", _st, POINTER(S.pd_summary_options),
                  POINTER(_P))
_summary_free = fn("pd_summary_free", None, _P)
_summary_errmsg = fn("pd_summary_errmsg", c_char_p, _P)
_summary_add = fn("pd_summary_add", _st, _P, POINTER(c_void_p),
                  POINTER(c_size_t), POINTER(c_int64), _PD, c_size_t)
_summary_transactions = fn("pd_summary_transactions", c_size_t, _P)
_summary_compute = fn("pd_summary_compute", _st, _P,
                      POINTER(S.pd_summary_spec))
_summary_rows = fn("pd_summary_rows", c_size_t, _P)
_summary_column = fn("pd_summary_column", _st, _P, c_int32, POINTER(_PD))
_summary_data = fn("pd_summary_data", _st, _P, _DATA)
_summary_id = fn("pd_summary_id", _st, _P, c_size_t, POINTER(c_char_p),
                 POINTER(c_size_t))
_summary_compress = fn("pd_summary_compress", _st, _P)
_summary_merge = fn("pd_summary_merge", _st, _P, _P)
_partial_save = fn("pd_summary_partial_save", _st, _P,
                   POINTER(S.pd_summary_spec), POINTER(_P))
_partial_load = fn("pd_summary_partial_load", _st, _P, c_char_p, c_size_t)
_partial_customers = fn("pd_summary_partial_customers", _st, c_char_p,
                        c_size_t, POINTER(c_int64), POINTER(c_int64),
                        POINTER(c_size_t))
_bytes_data = fn("pd_bytes_data", c_void_p, _P)
_bytes_size = fn("pd_bytes_size", c_size_t, _P)
_bytes_free = fn("pd_bytes_free", None, _P)

_km_new = fn("pd_km_new", _st, POINTER(S.pd_km_options), POINTER(_P))
_km_free = fn("pd_km_free", None, _P)
_km_errmsg = fn("pd_km_errmsg", c_char_p, _P)
_km_estimate = fn("pd_km_estimate", _st, _P, _PD, POINTER(c_int32), _PD,
                  c_size_t)
_km_get_curve = fn("pd_km_get_curve", _st, _P, POINTER(S.pd_km_curve))
_km_survival_at = fn("pd_km_survival_at", _st, _P, c_double, _PD)
_km_median = fn("pd_km_median", _st, _P, _PD)


def model_kind(model):
    """The model kind int for a name ("bgnbd", "paretonbd", "gammagamma",
    "mbgnbd", "bgbb", "sbg") or a MODEL_* int."""
    if isinstance(model, str):
        kind = _model_from_name(model.encode())
        if kind == 0:
            raise errors.InvalidArgument(f"unknown model {model!r}")
        return kind
    return int32(model, "model")


def model_name(model):
    """The short name of a model kind (None when unknown)."""
    name = _model_name(model_kind(model))
    return name.decode() if name else None


def model_param_names(model):
    """The parameter names of a model, in the API's order."""
    kind = model_kind(model)
    return [_model_param_name(kind, i).decode()
            for i in range(_model_param_count(kind))]


class CustomerData:
    """Per-customer (or compressed, weighted) summaries for the models:
    parallel arrays x, t_x, T and optionally monetary and weight (see
    pd_customer_data in fit.h). The arrays are viewed, not copied, when they
    are float64 buffers; they must not change size while the CustomerData is
    in use."""

    def __init__(self, x, t_x, T, monetary=None, weight=None):
        cols = {"x": doubles(x, "x"), "t_x": doubles(t_x, "t_x"),
                "T": doubles(T, "T")}
        if monetary is not None:
            cols["monetary"] = doubles(monetary, "monetary")
        if weight is not None:
            cols["weight"] = doubles(weight, "weight")
        n = cols["x"].n
        for name, col in cols.items():
            if col.n != n:
                raise errors.InvalidArgument(
                    f"column {name} has {col.n} values, x has {n}")
        self._cols = cols
        self._owner = None
        self._gen = None
        self._struct = S.new(S.pd_customer_data, n=n, **{
            name: col.ptr for name, col in cols.items()})

    @classmethod
    def _view(cls, owner, struct):
        self = cls.__new__(cls)
        self._cols = {}
        self._owner = owner
        self._gen = owner._gen
        self._struct = struct
        return self

    def __len__(self):
        return self._struct.n

    def _ref(self):
        if self._owner is not None and (self._owner._gen != self._gen
                                        or self._owner.closed):
            raise errors.Misuse(
                "this CustomerData viewed a Summary result that has since "
                "been recomputed, compressed, merged into or closed")
        return byref(self._struct)

    def column(self, name):
        """A copy of one column as array.array('d') (None when absent)."""
        if name not in ("x", "t_x", "T", "monetary", "weight"):
            raise errors.InvalidArgument(f"unknown column {name!r}")
        self._ref()
        ptr = getattr(self._struct, name)
        return copy_doubles(ptr, self._struct.n) if ptr else None


def _data(data):
    if isinstance(data, CustomerData):
        return data
    if isinstance(data, Summary):
        return data.data()
    raise TypeError("expected CustomerData or Summary, not "
                    f"{type(data).__name__}")


@dataclasses.dataclass(frozen=True)
class FitInfo:
    """What a Fit holds (pd_fit_info); params and std_errors are dicts by
    parameter name (std_errors None when unavailable)."""
    model: Optional[str]
    params: Dict[str, float]
    std_errors: Optional[Dict[str, float]]
    log_likelihood: Optional[float]
    n_customers: float
    converged: bool
    estimated: bool
    iterations: int


def fit_info(out):
    """FitInfo of a filled pd_fit_info."""
    if out.model == 0:
        return FitInfo(None, {}, None, None, 0.0, False, False, 0)
    names = model_param_names(out.model)
    params = {n: out.params[i] for i, n in enumerate(names)}
    se = ({n: out.std_errors[i] for i, n in enumerate(names)}
          if out.has_std_errors else None)
    return FitInfo(model_name(out.model), params, se,
                   out.log_likelihood if out.estimated else None,
                   out.n_customers, bool(out.converged),
                   bool(out.estimated), out.iterations)


class Fit(_Handle):
    """A fitted or parameterised model (pd_fit): BG/NBD, MBG/NBD,
    Pareto/NBD, Gamma-Gamma, BG/BB or sBG. Predictions may run from several
    threads; estimate/set_params must not run concurrently with anything
    else on the same fit."""

    _free = _fit_free
    _errmsg = _fit_errmsg
    _what = "fit"

    def __init__(self, max_iterations=500, tolerance=1e-8, threads=1):
        opts = S.new(S.pd_fit_options,
                     max_iterations=int32(max_iterations, "max_iterations"),
                     tolerance=float(tolerance),
                     threads=int32(threads, "threads"))
        h = _P()
        errors.check(_fit_new(byref(opts), byref(h)))
        self._h = h

    def estimate(self, model, data):
        """Maximum-likelihood estimate of `model` from CustomerData (or a
        Summary's current result). Raises NoConvergence when the iteration
        limit was reached (the fit then holds the last iterate)."""
        kind = model_kind(model)
        d = _data(data)
        self._check(_fit_estimate(self._handle(), kind, d._ref()))
        return self

    def estimate_sbg(self, survivors):
        """sBG fit from a cohort's survivor counts (retention.h)."""
        arr = doubles(survivors, "survivors")
        self._check(_estimate_sbg(self._handle(), arr.ptr, arr.n))
        return self

    def set_params(self, model, params):
        """Set known parameters: a sequence in the API's order, or a dict
        by parameter name."""
        kind = model_kind(model)
        if isinstance(params, dict):
            names = model_param_names(kind)
            missing = set(names) - set(params)
            extra = set(params) - set(names)
            if missing or extra:
                raise errors.InvalidArgument(
                    f"parameters of {model_name(kind)} are {names}")
            params = [params[n] for n in names]
        arr = doubles(params, "params")
        self._check(_fit_set_params(self._handle(), kind, arr.ptr, arr.n))
        return self

    def info(self):
        """FitInfo of the fit."""
        out = S.new(S.pd_fit_info)
        self._check(_fit_get(self._handle(), byref(out)))
        return fit_info(out)

    @property
    def params(self):
        """The parameters as a dict by name."""
        return self.info().params

    def _per_customer(self, cfunc, data, *args):
        d = _data(data)
        ref = d._ref()
        out, ptr = new_doubles(len(d))
        self._check(cfunc(self._handle(), ref, *args, ptr))
        return out

    def expected_purchases(self, data, horizon):
        """Expected repeat purchases of each customer in the next `horizon`
        time units."""
        return self._per_customer(_expected_purchases, data, float(horizon))

    def p_alive(self, data):
        """Probability that each customer is still active at T."""
        return self._per_customer(_p_alive, data)

    def expected_spend(self, data):
        """Gamma-Gamma expected mean spend of each customer."""
        return self._per_customer(_expected_spend, data)

    def dert(self, data, discount_rate):
        """Pareto/NBD discounted expected residual transactions."""
        return self._per_customer(_dert, data, float(discount_rate))

    def clv(self, spend, data, months, discount_rate=0.01,
            units_per_month=1.0):
        """Discounted CLV of each customer over `months` months, with this
        fit for transactions and `spend` (a Gamma-Gamma Fit)."""
        if not isinstance(spend, Fit):
            raise TypeError("spend must be a Fit")
        d = _data(data)
        ref = d._ref()
        out, ptr = new_doubles(len(d))
        self._check(_clv(self._handle(), spend._handle(), ref,
                         uint32(months, "months"), float(discount_rate),
                         float(units_per_month), ptr))
        return out

    def _scalar(self, cfunc, *args):
        out = c_double()
        self._check(cfunc(self._handle(), *args, byref(out)))
        return out.value

    def unconditional_purchases(self, t):
        """Expected repeat purchases in (0, t] of a new customer."""
        return self._scalar(_unconditional, float(t))

    def p_purchases(self, n, t):
        """P(X(t) = n) for a new customer."""
        return self._scalar(_p_purchases, uint32(n, "n"), float(t))

    def _periods(self, cfunc, periods):
        n = size(periods, "periods")
        out, ptr = new_doubles(n)
        self._check(cfunc(self._handle(), n, ptr))
        return out

    def survival(self, periods):
        """sBG S(1) … S(periods)."""
        return self._periods(_retention_survival, periods)

    def retention_rate(self, periods):
        """sBG retention rates r(1) … r(periods)."""
        return self._periods(_retention_rate, periods)

    def project(self, initial, first_period, count):
        """sBG projected cohort sizes initial × S(first_period + i)."""
        n = size(count, "count")
        out, ptr = new_doubles(n)
        self._check(_retention_project(self._handle(), float(initial),
                                       size(first_period, "first_period"), n,
                                       ptr))
        return out

    def derl(self, discount_rate, renewals=0):
        """sBG discounted expected residual lifetime, in periods."""
        return self._scalar(_retention_derl, float(discount_rate),
                            uint32(renewals, "renewals"))


class Summary(_Handle):
    """A customer-summary builder (pd_summary): add transactions, compute
    (x, t_x, T, monetary) per customer, fit models on data(). Not
    thread-safe: one thread at a time."""

    _free = _summary_free
    _errmsg = _summary_errmsg
    _what = "summary"

    def __init__(self):
        h = _P()
        errors.check(_summary_new(None, byref(h)))
        self._h = h
        self._gen = 0

    def add(self, ids, times, amounts=None):
        """Add a batch of transactions, all or nothing: customer ids (str
        or bytes), times (int seconds, datetimes or dates) and amounts
        (numbers in any currency unit; None for 0)."""
        blob, c_ids, c_lens, n = texts(ids, "customer id")
        if not hasattr(times, "__len__"):
            times = list(times)
        try:        # int seconds (a list or an int64 buffer): C loops only
            owner, tptr, nt = int_buffer(times, "q", c_int64, "times")
        except TypeError:   # datetimes and dates
            owner, tptr, nt = int_buffer([seconds(t) for t in times], "q",
                                         c_int64, "times")
        if nt != n:
            raise errors.InvalidArgument(f"{n} ids but {nt} times")
        am = None
        if amounts is not None:
            am = doubles(amounts, "amounts")
            if am.n != n:
                raise errors.InvalidArgument(f"{n} ids but {am.n} amounts")
        self._check(_summary_add(self._handle(), c_ids, c_lens, tptr,
                                 am.ptr if am else None, n))
        del blob

    def import_transactions(self, data, format="csv"):
        """Add the transactions in `data` (bytes or str) in a format
        ("csv", "cdnow-sample", "cdnow-master"); see privdomain.io."""
        from .io import import_transactions
        import_transactions(self, data, format)

    def import_file(self, path, format="csv"):
        """Add the transactions of a file; see privdomain.io."""
        from .io import import_transactions_file
        import_transactions_file(self, path, format)

    @property
    def transactions(self):
        """Number of transactions added so far."""
        return _summary_transactions(self._handle())

    @staticmethod
    def _spec(calibration_end, observation_end, unit):
        return S.new(S.pd_summary_spec,
                     calibration_end=seconds(calibration_end,
                                             "calibration_end"),
                     observation_end=(K.SUMMARY_NO_HOLDOUT if observation_end is None
                                      else seconds(observation_end,
                                                   "observation_end")),
                     unit=K.lookup(unit, K.TIME_UNITS, "time unit"))

    def compute(self, calibration_end, observation_end=None, unit="day"):
        """Summarise per customer: calibration_end (inclusive) and the
        optional holdout end as times; unit "day" or "week"."""
        spec = self._spec(calibration_end, observation_end, unit)
        self._gen += 1
        self._check(_summary_compute(self._handle(), byref(spec)))
        return self

    def __len__(self):
        return _summary_rows(self._handle())

    @property
    def rows(self):
        return _summary_rows(self._handle())

    def column(self, name):
        """A copy of a result column ("x", "t_x", "T", "monetary",
        "x_holdout", "weight") as array.array('d')."""
        col = K.lookup(name, K.SUMMARY_COLUMNS, "summary column")
        ptr = _PD()
        self._check(_summary_column(self._handle(), col, byref(ptr)))
        return copy_doubles(ptr, self.rows)

    def data(self):
        """A CustomerData view of the current result (no copy), valid until
        the next compute/compress/merge/close (using it later raises
        Misuse)."""
        out = S.new(S.pd_customer_data)
        self._check(_summary_data(self._handle(), byref(out)))
        return CustomerData._view(self, out)

    def id(self, row):
        """The customer id of a row (str)."""
        p = c_char_p()
        n = c_size_t()
        self._check(_summary_id(self._handle(), size(row, "row"), byref(p),
                                byref(n)))
        return ctypes.string_at(p, n.value).decode("utf-8", "replace")

    def ids(self):
        """The customer ids of all rows."""
        return [self.id(i) for i in range(self.rows)]

    def compress(self):
        """Replace the result by its distinct (x, t_x, T) rows with
        weights."""
        self._gen += 1
        self._check(_summary_compress(self._handle()))
        return self

    def merge(self, other):
        """Add the result of another Summary (disjoint customers)."""
        if not isinstance(other, Summary):
            raise TypeError("other must be a Summary")
        self._gen += 1
        self._check(_summary_merge(self._handle(), other._handle()))
        return self

    def partial(self, calibration_end, observation_end=None, unit="day"):
        """The mergeable state of this summary (its transactions and every
        partial loaded into it) for these ends, serialised (bytes; see
        summary_partial.h and docs/DISTRIBUTED.md). Ship it anywhere and
        load_partial() it there."""
        spec = self._spec(calibration_end, observation_end, unit)
        out = _P()
        self._check(_partial_save(self._handle(), byref(spec), byref(out)))
        try:
            return ctypes.string_at(_bytes_data(out), _bytes_size(out))
        finally:
            _bytes_free(out)

    def load_partial(self, data):
        """Merge a serialised partial (bytes from partial()) into this
        summary, all or nothing; compute() with the same ends afterwards.
        Raises Conflict when a customer overlaps beyond the merge rule or
        the ends differ, Corrupt for damaged bytes."""
        data = bytes(data)
        self._check(_partial_load(self._handle(), data, len(data)))
        return self


def partial_info(data):
    """(customers, calibration_end, observation_end) of a serialised
    partial, after checking it; times in seconds, observation_end None
    without holdout."""
    data = bytes(data)
    n = c_size_t()
    ce = c_int64()
    oe = c_int64()
    errors.check(_partial_customers(data, len(data), byref(ce), byref(oe),
                                    byref(n)))
    return (n.value, ce.value,
            None if oe.value == K.SUMMARY_NO_HOLDOUT else oe.value)


@dataclasses.dataclass(frozen=True)
class KMCurve:
    """The Kaplan–Meier step function, one row per event time (copies)."""
    time: "array"
    at_risk: "array"
    events: "array"
    censored: "array"
    survival: "array"
    lower: "array"
    upper: "array"

    def __len__(self):
        return len(self.time)


class KaplanMeier(_Handle):
    """A Kaplan–Meier estimator of link survival (pd_km). Not
    thread-safe."""

    _free = _km_free
    _errmsg = _km_errmsg
    _what = "Kaplan–Meier estimator"

    def __init__(self, confidence=0.95):
        opts = S.new(S.pd_km_options, confidence=float(confidence))
        h = _P()
        errors.check(_km_new(byref(opts), byref(h)))
        self._h = h

    def estimate(self, durations, events, weights=None):
        """Estimate S(t) from durations, event flags (1 = ended, 0 =
        censored; bools accepted) and optional weights."""
        d = doubles(durations, "durations")
        owner, eptr, ne = int_buffer(events, "i", c_int32, "events")
        if ne != d.n:
            raise errors.InvalidArgument(
                f"{d.n} durations but {ne} event flags")
        w = None
        if weights is not None:
            w = doubles(weights, "weights")
            if w.n != d.n:
                raise errors.InvalidArgument(
                    f"{d.n} durations but {w.n} weights")
        self._check(_km_estimate(self._handle(), d.ptr, eptr,
                                 w.ptr if w else None, d.n))
        return self

    def curve(self):
        """KMCurve of the current estimate."""
        c = S.new(S.pd_km_curve)
        self._check(_km_get_curve(self._handle(), byref(c)))
        return KMCurve(*(copy_doubles(getattr(c, f.name), c.n)
                         for f in dataclasses.fields(KMCurve)))

    def survival_at(self, t):
        """S(t) of the current estimate."""
        out = c_double()
        self._check(_km_survival_at(self._handle(), float(t), byref(out)))
        return out.value

    def median(self):
        """The median survival time, or None when S stays above 0.5."""
        out = c_double()
        st = _km_median(self._handle(), byref(out))
        if st == errors.NotFound.status:
            return None
        self._check(st)
        return out.value
