"""The C API's enum values, and the names the bindings accept for them.

Wherever a function takes one of these it accepts the int or the name in
lower case (e.g. channel="wecom", initiator="user_deleted",
kind="promise_kept").
"""

# channels.h — built-in channels
CHANNEL_WECHAT = 1
CHANNEL_WECOM = 2
CHANNEL_OFFICIAL_ACCOUNT = 3
CHANNEL_MINI_PROGRAM = 4
CHANNEL_WECHAT_GROUP = 5
CHANNEL_DOUYIN = 6
CHANNEL_APP = 7
CHANNEL_STORE = 8
CHANNEL_SMS = 9
CHANNEL_PACKAGE_CARD = 10
CHANNEL_TAOBAO_WANGWANG = 11
CHANNEL_LIVE_STREAM = 12
CHANNEL_CUSTOM_FIRST = 1024

CHANNEL_PUBLIC = 0
CHANNEL_PRIVATE = 1

LABEL_SOURCE = 1
LABEL_CAMPAIGN = 2
LABEL_SHOP = 3
LABEL_KINDS = {"source": LABEL_SOURCE, "campaign": LABEL_CAMPAIGN,
               "shop": LABEL_SHOP}

# events.h
UNLINK_USER_DELETED = 1
UNLINK_USER_BLOCKED = 2
UNLINK_USER_UNFOLLOWED = 3
UNLINK_STAFF_REMOVED = 4
UNLINK_INITIATORS = {"user_deleted": 1, "user_blocked": 2,
                     "user_unfollowed": 3, "staff_removed": 4}

TOUCH_INBOUND_MESSAGE = 1
TOUCH_OUTBOUND_1TO1 = 2
TOUCH_BROADCAST = 3
TOUCH_POST_EXPOSURE = 4
TOUCH_CONTENT_VIEW = 5
TOUCH_CONTENT_ENGAGEMENT = 6
TOUCH_LIVE_VIEW = 7
TOUCH_PROMISE_KEPT = 8
TOUCH_PROMISE_BROKEN = 9
TOUCH_RATING = 10
TOUCH_KINDS = {"inbound_message": 1, "outbound_1to1": 2, "broadcast": 3,
               "post_exposure": 4, "content_view": 5,
               "content_engagement": 6, "live_view": 7, "promise_kept": 8,
               "promise_broken": 9, "rating": 10}

# kinds of event (pd_record_events, pd_store_reserve)
EVENT_LINK = 1
EVENT_UNLINK = 2
EVENT_TOUCHPOINT = 3
EVENT_ORDER = 4
EVENT_REFUND = 5
EVENT_REFERRAL = 6
EVENT_GUIDE_BIND = 7
EVENT_GUIDE_HANDOVER = 8
EVENT_GUIDE_DEACTIVATE = 9
EVENT_REACH = 10
EVENT_COST = 11
EVENT_CONSENT = 12
# Store.reserve()'s kind for users (not an event kind).
RESERVE_USERS = 100
# Store.set_spare_limit()'s automatic limit (the default).
SPARE_AUTO = -1

PURPOSE_NONE = 0
PURPOSE_SERVICE = 1
PURPOSE_CONTENT = 2
PURPOSE_PROMOTION = 3
PURPOSES = {"none": 0, "service": 1, "content": 2, "promotion": 3}

# fit.h
MODEL_BGNBD = 1
MODEL_MBGNBD = 2
MODEL_PARETONBD = 3
MODEL_GAMMAGAMMA = 4
MODEL_BGBB = 5
MODEL_SBG = 6

# summary.h
TIME_UNIT_DAY = 1
TIME_UNIT_WEEK = 2
TIME_UNITS = {"day": 1, "days": 1, "week": 2, "weeks": 2}
SUMMARY_NO_HOLDOUT = -1
SUMMARY_X = 1
SUMMARY_T_X = 2
SUMMARY_T = 3
SUMMARY_MONETARY = 4
SUMMARY_X_HOLDOUT = 5
SUMMARY_WEIGHT = 6
SUMMARY_COLUMNS = {"x": 1, "t_x": 2, "T": 3, "monetary": 4,
                   "x_holdout": 5, "weight": 6}

# io.h
IMPORT_CSV = 1
IMPORT_CDNOW_SAMPLE = 2
IMPORT_CDNOW_MASTER = 3
IMPORT_FORMATS = {"csv": 1, "cdnow-sample": 2, "cdnow-master": 3}

# store.h
TIME_MIN = 0
TIME_MAX = 4102444800


def lookup(value, names, what):
    """The int for `value`: itself when an int, else names[value]."""
    if isinstance(value, str):
        try:
            return names[value]
        except KeyError:
            from .errors import InvalidArgument
            raise InvalidArgument(
                f"unknown {what} {value!r} (one of {', '.join(names)})") \
                from None
    from ._convert import int32
    return int32(value, what)
