/* vendor.h — what irisgate and fakeiris both say exactly as the Iris API says it: the
 * endpoints and their paths, and the JSON error envelope with the recorded messages.
 *
 *   {"error":{"code":403,"message":"..."},"resources":{"support":"https:\/\/docs.domaintools.com"}}
 *   Content-Type: application/json;charset=utf-8
 */
#ifndef IRISGATE_VENDOR_H
#define IRISGATE_VENDOR_H

#include "irisgate/common.h"

typedef enum {
    IG_EP_UNKNOWN = 0,
    IG_EP_INVESTIGATE,
    IG_EP_ENRICH,
    IG_EP_ACCOUNT,
    IG_EP_COUNT
} ig_endpoint_t;

/* Maps a request path (without the query string) to an endpoint; with or without the
 * trailing slash. */
ig_endpoint_t ig_endpoint_from_path(const char *path, size_t len);
/* "iris-investigate", "iris-enrich", "account" (the product ids of /v1/account). */
const char *ig_endpoint_name(ig_endpoint_t ep);
/* The path the official SDK uses and signs: "/v1/iris-investigate/", "/v1/iris-enrich/",
 * "/v1/account". */
const char *ig_endpoint_path(ig_endpoint_t ep);

#define IG_JSON_CTYPE "application/json;charset=utf-8"
#define IG_SUPPORT_URL "https:\\/\\/docs.domaintools.com"

/* Recorded vendor messages. */
#define IG_MSG_BAD_CREDENTIALS "The credentials you entered do not match an active account."
#define IG_MSG_NOT_AUTHORIZED "Your API user account is not authorized to access this product."
#define IG_MSG_MALFORMED                                                                           \
    "We could not understand your request. It may be missing important parameters or is "          \
    "simply malformed. Consult the API documentation for more details."

/* Appends the vendor's error envelope for code with message (escaped as JSON). */
int ig_vendor_error(ig_buf_t *out, int code, const char *message);

/* The HTTP reason phrase of a status ("OK", "Forbidden", ...). */
const char *ig_http_reason(int status);

#endif
