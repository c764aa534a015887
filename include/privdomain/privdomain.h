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

#endif /* PRIVDOMAIN_H */
