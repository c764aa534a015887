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
#include "store.h"
#include "users.h"
#include "channels.h"
#include "events.h"
#include "guides.h"
#include "fit.h"
#include "spend.h"
#include "retention.h"
#include "summary.h"
#include "survival.h"
#include "io.h"

#endif /* PRIVDOMAIN_H */
