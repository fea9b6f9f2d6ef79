/*
 * canary/export.h - symbol visibility for the public API.
 */
#ifndef CANARY_EXPORT_H
#define CANARY_EXPORT_H

/*
 * The library is built with hidden default visibility; only declarations
 * marked CANARY_API are exported. CANARY_STATIC is defined by consumers of
 * the static library on platforms where that matters (Windows).
 */
#if defined(_WIN32) && !defined(CANARY_STATIC)
#  if defined(CANARY_BUILDING)
#    define CANARY_API __declspec(dllexport)
#  else
#    define CANARY_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define CANARY_API __attribute__((visibility("default")))
#else
#  define CANARY_API
#endif

#endif /* CANARY_EXPORT_H */
