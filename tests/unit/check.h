/* check.h — the unit tests' harness: CHECK macros that count and report failures, RUN to
 * call a named case, check_summary() for main's exit status and ctest's log. */
#ifndef IG_CHECK_H
#define IG_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failed_ = 0, check_run_ = 0, check_cases_failed_ = 0;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        check_run_++;                                                                              \
        if (!(cond)) {                                                                             \
            check_failed_++;                                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        check_run_++;                                                                              \
        if (a_ != b_) {                                                                            \
            check_failed_++;                                                                       \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a,   \
                    a_, #b, b_);                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        check_run_++;                                                                              \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                   \
            check_failed_++;                                                                       \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,     \
                    a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                       \
        }                                                                                          \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        int before_ = check_failed_;                                                               \
        fn();                                                                                      \
        if (check_failed_ != before_) {                                                            \
            check_cases_failed_++;                                                                 \
            fprintf(stderr, "FAIL %s\n", #fn);                                                     \
        } else {                                                                                   \
            fprintf(stderr, "ok   %s\n", #fn);                                                     \
        }                                                                                          \
    } while (0)

static inline int check_summary(void) {
    fprintf(stderr, "%d checks, %d failed (%d cases failed)\n", check_run_, check_failed_,
            check_cases_failed_);
    return check_failed_ ? 1 : 0;
}

#endif
