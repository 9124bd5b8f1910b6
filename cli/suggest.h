/* suggest: "did you mean" for a typed name: the nearest of the names it
 * could have been.  No dependencies: the CLI's commands and the topology
 * parser (and its unit tests) use it alike. */
#ifndef PN_CLI_SUGGEST_H
#define PN_CLI_SUGGEST_H

#include <stddef.h>

/* The candidate (of n, NULL ones skipped) closest to word by edit distance
 * (a swap of two neighbours counts as one edit), when it is close enough to
 * be a likely typo: 1 edit for words up to 4 letters, else 2.  NULL when
 * none is, or when word is one of them. */
const char *cli_suggest(const char *word, const char *const *cands, size_t n);

#endif
