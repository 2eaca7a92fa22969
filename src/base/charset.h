/* charset: whether the user's terminal takes UTF-8. Output uses non-ASCII
 * glyphs (the watch table's arrows) only when the locale says UTF-8, and
 * plain ASCII otherwise ("C", "POSIX", Latin-1 locales, a serial console).
 * The environment is read, not setlocale(): the codeset the user named is
 * what the terminal shows, whether or not that locale is installed here,
 * and setlocale(LC_CTYPE) would change how the parsers' ctype calls
 * behave. */
#ifndef MW_CHARSET_H
#define MW_CHARSET_H

#include <stdbool.h>

/* True when the locale these variables name is UTF-8: the first non-empty
 * of LC_ALL, LC_CTYPE and LANG (POSIX's order; NULL or "" is unset) has a
 * codeset "UTF-8" or "utf8" in any case ("en_US.UTF-8", "C.utf8",
 * "de_DE.UTF-8@euro"). All unset is the "C" locale: false. */
bool mw_charset_is_utf8(const char *lc_all, const char *lc_ctype, const char *lang);

/* The same for this process's environment. */
bool mw_charset_utf8(void);

#endif
