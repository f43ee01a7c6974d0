/* args.c — how the table-valued functions get their arguments, the series.c way: each
 * argument is a HIDDEN column, `iris_pivot('ip', '1.2.3.4')` is the constraint
 * `field = 'ip' AND value = '1.2.3.4'`, and xBestIndex accepts a plan only when every
 * required argument arrives as a usable equality, so SQLite never plans a full scan of a
 * function (it cannot have one) and a join calls the function once per outer row with the
 * values bound. Also carries the plan's colUsed to xFilter (as idxStr), so a call computes
 * only the columns the query reads. Pure functions over sqlite3_index_info; no state.
 */
#include "sql_int.h"

#include <stdlib.h>

int ig_sqla_plan(sqlite3_index_info *info, int first_arg, int nargs, int nrequired, int *which) {
    unsigned given = 0, unusable = 0;
    for (int i = 0; i < nargs && i < IG_SQLA_MAX; i++)
        which[i] = -1;
    for (int c = 0; c < info->nConstraint; c++) {
        const struct sqlite3_index_constraint *k = &info->aConstraint[c];
        int arg = k->iColumn - first_arg;
        if (arg < 0 || arg >= nargs || arg >= IG_SQLA_MAX) continue;
        if (k->op != SQLITE_INDEX_CONSTRAINT_EQ) continue; /* SQLite checks those itself */
        if (!k->usable) {
            unusable |= 1u << arg;
            continue;
        }
        if (which[arg] < 0) {
            which[arg] = c;
            given |= 1u << arg;
        }
    }
    /* An argument constrained by a value this plan cannot supply yet: another plan will
     * (the outer table first). Without the constraint the answer would be wrong, not slow. */
    if (unusable & ~given) return SQLITE_CONSTRAINT;
    unsigned required = (1u << nrequired) - 1;
    if ((given & required) != required) return SQLITE_CONSTRAINT;
    int n = 0;
    for (int i = 0; i < nargs && i < IG_SQLA_MAX; i++) {
        if (which[i] < 0) continue;
        info->aConstraintUsage[which[i]].argvIndex = ++n;
        info->aConstraintUsage[which[i]].omit = 1;
    }
    info->idxNum = (int)given;
    return SQLITE_OK;
}

sqlite3_value *ig_sqla_constant(sqlite3_index_info *info, const int *which, int arg) {
    sqlite3_value *v = NULL;
    if (which[arg] < 0 || sqlite3_vtab_rhs_value(info, which[arg], &v) != SQLITE_OK) return NULL;
    return v;
}

void ig_sqla_set_columns(sqlite3_index_info *info, sqlite3_uint64 used) {
    /* Hex, so EXPLAIN QUERY PLAN shows it readably after the argument mask: INDEX 3:1ff. */
    char *s = sqlite3_mprintf("%llx", (unsigned long long)used);
    if (!s) return; /* then xFilter computes every column: slower, still right */
    info->idxStr = s;
    info->needToFreeIdxStr = 1;
}

sqlite3_uint64 ig_sqla_columns(const char *idxStr) {
    if (!idxStr || !idxStr[0]) return ~(sqlite3_uint64)0;
    return (sqlite3_uint64)strtoull(idxStr, NULL, 16);
}

void ig_sqla_args(int idxNum, int argc, sqlite3_value **argv, int nargs, sqlite3_value **args) {
    int n = 0;
    for (int i = 0; i < nargs; i++) {
        args[i] = NULL;
        if ((idxNum & (1 << i)) && n < argc) args[i] = argv[n++];
    }
}
