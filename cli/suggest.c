/* suggest: "did you mean" for typed names (commands, nodes, YAML keys). */
#include "suggest.h"

#include <string.h>

/* Optimal string alignment distance: Levenshtein plus the swap of two
 * neighbours as one edit ("wbe" is one edit from "web"). */
static size_t s_edits(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t d[65][65];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[la][lb];
}

const char *cli_suggest(const char *word, const char *const *cands, size_t n)
{
    size_t limit = strlen(word) <= 4 ? 1 : 2, best = (size_t)-1;
    const char *pick = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!cands[i])
            continue;
        size_t e = s_edits(word, cands[i]);
        if (e == 0)
            return NULL;
        if (e <= limit && e < best) {
            best = e;
            pick = cands[i];
        }
    }
    return pick;
}
