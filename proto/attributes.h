/*
 * attributes.h - compiler attributes every part of the tree uses.
 */
#ifndef CANARY_PROTO_ATTRIBUTES_H
#define CANARY_PROTO_ATTRIBUTES_H

/* printf-style checking of a function's format argument `f`, whose
 * variable arguments start at `a`. */
#if defined(__GNUC__)
#  define CANARY__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define CANARY__PRINTF(f, a)
#endif

#endif
