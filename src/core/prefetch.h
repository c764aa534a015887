/* A hint to start loading a cache line that will be read or written soon,
 * so that independent memory latencies overlap. Only a hint: it never
 * faults and has no effect on results; compilers without the builtin get
 * a no-op. */
#ifndef PD_CORE_PREFETCH_H
#define PD_CORE_PREFETCH_H

#if defined(__GNUC__) || defined(__clang__)
/* Prefetch for writing (rw = 1) with high temporal locality. */
#define PD_PREFETCH(addr) __builtin_prefetch((addr), 1, 3)
/* Prefetch for reading only: lines that several threads read, such as a
 * store record, stay shared between their caches instead of moving back
 * and forth. */
#define PD_PREFETCH_READ(addr) __builtin_prefetch((addr), 0, 3)
#else
#define PD_PREFETCH(addr) ((void)(addr))
#define PD_PREFETCH_READ(addr) ((void)(addr))
#endif

/* How many elements ahead a pass in order over an array prefetches the
 * random slot a later element will touch (index rebuilds, the chain
 * check): enough loads in flight to cover memory latency, few enough to
 * stay in the line-fill buffers. */
#define PD_PREFETCH_AHEAD 16

#endif
