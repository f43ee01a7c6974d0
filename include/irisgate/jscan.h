/* jscan.h — finding values' bytes in JSON text without building a tree: the spans of an
 * answer's results, a member's value, a plain string. For the hot paths that only need to
 * cut an answer into pieces and must not pay for a parse (the gateway on the loop, ingest's
 * copy of each result as sent).
 *
 * The text is expected to be JSON; on anything unexpected the functions return NULL/false
 * rather than guess, and never read outside [p, e). Member names are matched byte for byte
 * (a name written with escapes is not found): callers fall back to a real parser.
 */
#ifndef IRISGATE_JSCAN_H
#define IRISGATE_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

/* p past any JSON white space. */
const char *ig_jscan_ws(const char *p, const char *e);
/* The byte after the value starting at p, or NULL. */
const char *ig_jscan_skip(const char *p, const char *e);
/* In the object starting at p (after white space), the start of member name's value. */
const char *ig_jscan_member(const char *p, const char *e, const char *name);

/* Walks the array starting at p: ig_jscan_next gives each element's bytes in turn. */
typedef struct {
    const char *p, *e;
    bool bad; /* the array was not well formed: the walk stopped early */
} ig_jscan_iter_t;
bool ig_jscan_array(ig_jscan_iter_t *it, const char *p, const char *e);
bool ig_jscan_next(ig_jscan_iter_t *it, const char **v, size_t *n);

/* The string at p, when it holds no escape: its bytes between the quotes. */
bool ig_jscan_plain_string(const char *p, const char *e, const char **s, size_t *n);

#endif
