"""Python bindings of libprivdomain, the private-domain (私域) customer
store and lifetime-value models, over ctypes (standard library only).

The C library is loaded by its SONAME libprivdomain.so.1, or from the path
in the environment variable PRIVDOMAIN_LIBRARY; importing raises
ImportError when it is missing or its major.minor version is not the one
these bindings were written for (see WRITTEN_FOR).
"""

from ._lib import WRITTEN_FOR, lib as _clib
from ._convert import to_datetime
from .constants import *  # noqa: F401,F403
from .errors import (Conflict, Corrupt, Duplicate, Erased, Full,
                     InvalidArgument, InvalidUtf8, IOFailure, Misuse,
                     NoConvergence, NotFound, NumericError, OutOfMemory,
                     OutOfRange, Overflow, PrivDomainError, VersionMismatch,
                     status_str)
from .io import CsvTable, import_transactions, import_transactions_file, \
    parse_date
from .models import (CustomerData, Fit, FitInfo, KaplanMeier, KMCurve,
                     Summary, model_name, model_param_names, partial_info)
from .store import (ChannelInfo, Ensured, GuideInfo, LinkState, Store,
                    StoreStats, UserInfo, event_id)
from .aggregates import Aggregate, RfmThresholds, rfm_score_with_thresholds  # noqa: E501

__version__ = "0.1.0"


def library_version():
    """The loaded C library's version string, e.g. "0.1.0"."""
    return _clib.pd_version_string().decode()
