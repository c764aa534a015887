/*
 * libprivdomain — symbol export control.
 *
 * Every public declaration carries PD_API. The library is built with hidden
 * visibility by default, so only what is marked here (and listed in the
 * linker version script) is exported from the shared object.
 */
#ifndef PRIVDOMAIN_EXPORT_H
#define PRIVDOMAIN_EXPORT_H

#if defined(PD_STATIC)
#define PD_API
#elif defined(_WIN32)
#if defined(PD_BUILDING_LIBRARY)
#define PD_API __declspec(dllexport)
#else
#define PD_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#define PD_API __attribute__((visibility("default")))
#else
#define PD_API
#endif

#ifdef __cplusplus
#define PD_BEGIN_DECLS extern "C" {
#define PD_END_DECLS }
#else
#define PD_BEGIN_DECLS
#define PD_END_DECLS
#endif

#endif /* PRIVDOMAIN_EXPORT_H */
