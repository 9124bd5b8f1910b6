/* A tiny TAP emitter shared by the switchd unit tests. */
#ifndef SW_TAP_H
#define SW_TAP_H
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_fail;
#define ok(cond, ...)                                                   \
    do {                                                                \
        int ok_c_ = !!(cond);                                           \
        tap_n++;                                                        \
        if (ok_c_) {                                                     \
            printf("ok %d - ", tap_n);                                  \
        } else {                                                        \
            tap_fail++;                                                 \
            printf("not ok %d - ", tap_n);                              \
        }                                                               \
        printf(__VA_ARGS__);                                            \
        printf("\n");                                                   \
        if (!ok_c_)                                                     \
            printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
    } while (0)
static inline int tap_done(void)
{
    printf("1..%d\n", tap_n);
    return tap_fail ? 1 : 0;
}
#endif
