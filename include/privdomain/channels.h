/*
 * libprivdomain — channels and labels.
 *
 * A channel is a way the brand reaches people. Private channels (私域) give
 * the brand a lasting link it can use again for free; public channels (公域)
 * are platform traffic it cannot reach again. Built-in channels have fixed
 * ids (never renumbered, new ones appended); callers register their own,
 * which get ids from PD_CHANNEL_CUSTOM_FIRST upwards.
 *
 * Labels are short names the store interns and numbers from 1: acquisition
 * sources ("package_card", "store_qr:shop42"), campaigns ("618-flash-group")
 * and shops (physical stores, "shop42"). Id 0 means "none" everywhere a
 * label is optional. Names are 1–128 bytes of UTF-8.
 *
 * Thread safety and error conventions: see store.h.
 */
#ifndef PRIVDOMAIN_CHANNELS_H
#define PRIVDOMAIN_CHANNELS_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"
#include "store.h"

PD_BEGIN_DECLS

/** Built-in channels. Values are part of the ABI and the file format. */
enum {
  PD_CHANNEL_WECHAT = 1,           /**< personal WeChat friend (private) */
  PD_CHANNEL_WECOM = 2,            /**< WeCom / 企业微信 contact (private) */
  PD_CHANNEL_OFFICIAL_ACCOUNT = 3, /**< 公众号 follower (private) */
  PD_CHANNEL_MINI_PROGRAM = 4,     /**< 小程序 member (private) */
  PD_CHANNEL_WECHAT_GROUP = 5,     /**< 微信群 member (private) */
  PD_CHANNEL_DOUYIN = 6,           /**< Douyin follower (private) */
  PD_CHANNEL_APP = 7,              /**< app member (private) */
  PD_CHANNEL_STORE = 8,            /**< physical store (public foot traffic) */
  PD_CHANNEL_SMS = 9,              /**< SMS opt-in (private) */
  PD_CHANNEL_PACKAGE_CARD = 10,    /**< 包裹卡 package insert (public) */
  PD_CHANNEL_TAOBAO_WANGWANG = 11, /**< Taobao Wangwang chat (public) */
  PD_CHANNEL_LIVE_STREAM = 12,     /**< 直播 live stream (public) */
  PD_CHANNEL_BUILTIN_LAST = 12,
  /** First id given to a caller-registered channel. */
  PD_CHANNEL_CUSTOM_FIRST = 1024
};

/** Channel kinds. */
enum {
  PD_CHANNEL_PUBLIC = 0,  /**< 公域: platform traffic */
  PD_CHANNEL_PRIVATE = 1  /**< 私域: an owned, repeatable link */
};

/**
 * pd_channel_register - register a custom channel named @name (1–128 bytes
 * UTF-8) of kind @kind (PD_CHANNEL_PUBLIC or PD_CHANNEL_PRIVATE).
 *
 * Writes its id to @out. Registering the same name with the same kind again
 * returns PD_REPLAYED and the same id; with another kind PD_E_DUPLICATE.
 * Built-in names ("wechat", "wecom", "official_account", "mini_program",
 * "wechat_group", "douyin", "app", "store", "sms", "package_card",
 * "taobao_wangwang", "live_stream") are taken: registering one with its
 * own kind returns PD_REPLAYED and the built-in id, with the other kind
 * PD_E_DUPLICATE. Not an event: it carries no event id.
 * Errors: PD_E_INVALID (name NULL or empty, kind unknown, out NULL),
 * PD_E_UTF8 (invalid UTF-8, a NUL byte, longer than 128 bytes),
 * PD_E_DUPLICATE, PD_E_NOMEM, PD_E_FULL (64512 custom channels),
 * PD_E_MISUSE (bad handle, or from a callback).
 */
PD_API pd_status pd_channel_register(pd_store *store, const char *name,
                                     size_t name_len, int32_t kind,
                                     int32_t *out);

/**
 * pd_channel_find - the id of the channel named @name (built-in or
 * custom). Errors: PD_E_NOT_FOUND, PD_E_INVALID, PD_E_UTF8, PD_E_MISUSE.
 */
PD_API pd_status pd_channel_find(pd_store *store, const char *name,
                                 size_t name_len, int32_t *out);

/**
 * pd_channel_info - the name and kind of channel @channel. *name points to
 * a NUL-terminated string owned by the store, valid until the store is
 * freed. Either output may be NULL. Errors: PD_E_NOT_FOUND, PD_E_MISUSE.
 */
PD_API pd_status pd_channel_info(pd_store *store, int32_t channel,
                                 const char **name, int32_t *kind);

/** Kinds of label. */
enum {
  PD_LABEL_SOURCE = 1,   /**< acquisition source of a link */
  PD_LABEL_CAMPAIGN = 2, /**< marketing or referral campaign */
  PD_LABEL_SHOP = 3      /**< physical store / outlet */
};

/**
 * pd_label_ensure - the id of label @name of kind @kind, created if new.
 * Returns PD_OK when created, PD_REPLAYED when it existed (both write
 * @out). Errors: PD_E_INVALID (kind not a PD_LABEL_*, name NULL or empty,
 * out NULL), PD_E_UTF8 (invalid UTF-8, a NUL byte, longer than 128 bytes),
 * PD_E_NOMEM, PD_E_FULL, PD_E_MISUSE (bad handle, or from a callback).
 */
PD_API pd_status pd_label_ensure(pd_store *store, int32_t kind,
                                 const char *name, size_t name_len,
                                 uint32_t *out);

/**
 * pd_label_find - the id of an existing label. Errors: PD_E_NOT_FOUND,
 * PD_E_INVALID, PD_E_UTF8, PD_E_MISUSE.
 */
PD_API pd_status pd_label_find(pd_store *store, int32_t kind,
                               const char *name, size_t name_len,
                               uint32_t *out);

/**
 * pd_label_name - the name of label @id of @kind: a NUL-terminated string
 * owned by the store, valid until the store is freed; @len (may be NULL)
 * receives its length. Errors: PD_E_NOT_FOUND, PD_E_INVALID, PD_E_MISUSE.
 */
PD_API pd_status pd_label_name(pd_store *store, int32_t kind, uint32_t id,
                               const char **name, size_t *len);

PD_END_DECLS

#endif /* PRIVDOMAIN_CHANNELS_H */
