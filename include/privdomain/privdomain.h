/*
 * libprivdomain — the umbrella header. Include this one:
 *
 *   #include <privdomain/privdomain.h>
 *
 * and link with -lprivdomain (pkg-config module "privdomain").
 */
#ifndef PRIVDOMAIN_H
#define PRIVDOMAIN_H

#include "export.h"
#include "version.h"
#include "status.h"
#include "alloc.h"
#include "bytes.h"
#include "types.h"
#include "store.h"
#include "users.h"
#include "purge.h"
#include "channels.h"
#include "events.h"
#include "guides.h"
#include "fit.h"
#include "spend.h"
#include "retention.h"
#include "summary.h"
#include "summary_partial.h"
#include "survival.h"
#include "io.h"
#include "persist.h"
#include "metrics.h"
#include "consent.h"
#include "pressure.h"
#include "trust.h"
#include "store_summary.h"
#include "followup.h"
#include "breakdown.h"
#include "retention_metrics.h"
#include "campaign.h"
#include "funnel.h"
#include "repurchase.h"
#include "referral_metrics.h"
#include "guide_metrics.h"
#include "segments.h"
#include "aggregates.h"

#endif /* PRIVDOMAIN_H */
