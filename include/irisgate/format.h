/* format.h — the answer formats of the Iris API's `format` parameter: json (the
 * default, the answer as built or recorded), xml and html, both rendered from the JSON
 * text of the same answer, so every format says exactly what the JSON says.
 *
 * XML (application/xml;charset=utf-8): the top-level object is the root element
 * <whoisapi>; each member is an element named by its key; an array is its items repeated
 * as elements of the array's key (none for an empty array); an array inside an array is
 * one element of the outer key holding <item> elements; strings are escaped text, numbers
 * and booleans their JSON text, null an empty element.
 *
 * HTML (text/html): a styled page, <html><head><title>DomainTools API</title>..., whose body
 * shows objects as two-column tables (key, value) and arrays as ordered lists.
 */
#ifndef IRISGATE_FORMAT_H
#define IRISGATE_FORMAT_H

#include "irisgate/common.h"

typedef enum { IG_FMT_JSON = 0, IG_FMT_XML, IG_FMT_HTML } ig_format_t;

#define IG_XML_CTYPE "application/xml;charset=utf-8"
#define IG_HTML_CTYPE "text/html"

/* The value of a format parameter (NULL: absent). json, xml, html in any case; IG_EINVAL
 * for anything else. */
int ig_format_parse(const char *value, ig_format_t *out);

/* The Content-Type of an answer in f whose JSON form has json_ctype. */
const char *ig_format_ctype(ig_format_t f, const char *json_ctype);

/* Appends the answer whose JSON text is json[0..len) in f (XML or HTML). IG_EINVAL when the
 * text is not JSON (out then holds a partial page), IG_ENOMEM. */
int ig_format_render(ig_format_t f, const char *json, size_t len, ig_buf_t *out);

#endif
