#include "base/charset.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool mw_charset_is_utf8(const char *lc_all, const char *lc_ctype, const char *lang)
{
    const char *v = lc_all && *lc_all ? lc_all : lc_ctype && *lc_ctype ? lc_ctype : lang;
    if (!v || !*v)
        return false;
    const char *dot = strchr(v, '.');
    if (!dot)
        return false; /* "C", "POSIX", "en_US": no codeset, not UTF-8 */
    const char *cs = dot + 1;
    size_t n = strcspn(cs, "@");
    return (n == 5 && strncasecmp(cs, "utf-8", 5) == 0) ||
           (n == 4 && strncasecmp(cs, "utf8", 4) == 0);
}

bool mw_charset_utf8(void)
{
    return mw_charset_is_utf8(getenv("LC_ALL"), getenv("LC_CTYPE"), getenv("LANG"));
}
