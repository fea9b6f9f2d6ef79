/*
 * attributes.h - compiler attributes every part of the tree uses.
 *
 * CANARY__PRINTF(f, a): printf-style checking of a function's format
 * argument `f`, whose variable arguments start at `a`.
 * CANARY__COLD: a function off the hot path, kept out of line and laid
 * out apart, so that its callers' common case stays small.
 */
#ifndef CANARY_PROTO_ATTRIBUTES_H
#define CANARY_PROTO_ATTRIBUTES_H

#if defined(__GNUC__)
#  define CANARY__PRINTF(f, a) __attribute__((format(printf, f, a)))
#  define CANARY__COLD __attribute__((cold, noinline))
#else
#  define CANARY__PRINTF(f, a)
#  define CANARY__COLD
#endif

#endif
