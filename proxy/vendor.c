/* vendor.c — the Iris API's own vocabulary: endpoint paths and product names, the JSON
 * error envelope, HTTP reason phrases. Shared by irisgate and fakeiris so that both answer
 * exactly as the vendor does. Pure functions; no state.
 */
#include "irisgate/vendor.h"

#include <string.h>

static const struct {
    const char *name;
    const char *path; /* as the official SDK sends and signs it */
} endpoints[IG_EP_COUNT] = {
    [IG_EP_UNKNOWN] = {"unknown", ""},
    [IG_EP_INVESTIGATE] = {"iris-investigate", "/v1/iris-investigate/"},
    [IG_EP_ENRICH] = {"iris-enrich", "/v1/iris-enrich/"},
    [IG_EP_ACCOUNT] = {"account", "/v1/account"},
};

ig_endpoint_t ig_endpoint_from_path(const char *path, size_t len) {
    const char *q = memchr(path, '?', len);
    if (q) len = (size_t)(q - path);
    if (len > 1 && path[len - 1] == '/') len--;
    if (len < 4 || memcmp(path, "/v1/", 4) != 0) return IG_EP_UNKNOWN;
    const char *name = path + 4;
    size_t n = len - 4;
    for (int ep = IG_EP_INVESTIGATE; ep < IG_EP_COUNT; ep++) {
        if (strlen(endpoints[ep].name) == n && memcmp(endpoints[ep].name, name, n) == 0)
            return (ig_endpoint_t)ep;
    }
    return IG_EP_UNKNOWN;
}

const char *ig_endpoint_name(ig_endpoint_t ep) {
    return (ep > IG_EP_UNKNOWN && ep < IG_EP_COUNT) ? endpoints[ep].name : "unknown";
}

const char *ig_endpoint_path(ig_endpoint_t ep) {
    return (ep > IG_EP_UNKNOWN && ep < IG_EP_COUNT) ? endpoints[ep].path : "";
}

int ig_vendor_error(ig_buf_t *out, int code, const char *message) {
    int rc = ig_buf_printf(out, "{\"error\":{\"code\":%d,\"message\":", code);
    if (!rc) rc = ig_buf_json_str(out, message, strlen(message));
    if (!rc) rc = ig_buf_puts(out, "},\"resources\":{\"support\":\"" IG_SUPPORT_URL "\"}}");
    return rc;
}

const char *ig_http_reason(int status) {
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}
