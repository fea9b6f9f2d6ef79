/*
 * attributes.h - compiler attributes every part of the tree uses.
 *
 * CANARY__PRINTF(f, a): printf-style checking of a function's format
 * argument `f`, whose variable arguments start at `a`.
 * CANARY__COLD: a function off the hot path, kept out of line and laid
 * out apart, so that its callers' common case stays small.
 * CANARY__NOINLINE: a function kept out of line though not rare, so that
 * its caller's common case needs fewer registers (no saves).
 */
#ifndef CANARY_PROTO_ATTRIBUTES_H
#define CANARY_PROTO_ATTRIBUTES_H

#if defined(__GNUC__)
#  define CANARY__PRINTF(f, a) __attribute__((format(printf, f, a)))
#  define CANARY__COLD __attribute__((cold, noinline))
#  define CANARY__NOINLINE __attribute__((noinline))
#else
#  define CANARY__PRINTF(f, a)
#  define CANARY__COLD
#  define CANARY__NOINLINE
#endif

#endif
