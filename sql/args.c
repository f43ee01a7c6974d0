/* args.c — how the table-valued functions get their arguments, the series.c way: each
 * argument is a HIDDEN column, `iris_pivot('ip', '1.2.3.4')` is the constraint
 * `field = 'ip' AND value = '1.2.3.4'`, and xBestIndex accepts a plan only when every
 * required argument arrives as a usable equality, so SQLite never plans a full scan of a
 * function (it cannot have one) and a join calls the function once per outer row with the
 * values bound. Pure functions over sqlite3_index_info; no state.
 */
#include "sql_int.h"

int ig_sqla_best_index(sqlite3_index_info *info, int first_arg, int nargs, int nrequired,
                       double rows, double cost) {
    int which[16];
    unsigned given = 0, unusable = 0;
    for (int i = 0; i < nargs && i < 16; i++)
        which[i] = -1;
    for (int c = 0; c < info->nConstraint; c++) {
        const struct sqlite3_index_constraint *k = &info->aConstraint[c];
        int arg = k->iColumn - first_arg;
        if (arg < 0 || arg >= nargs || arg >= 16) continue;
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
    for (int i = 0; i < nargs && i < 16; i++) {
        if (which[i] < 0) continue;
        info->aConstraintUsage[which[i]].argvIndex = ++n;
        info->aConstraintUsage[which[i]].omit = 1;
    }
    info->idxNum = (int)given;
    info->estimatedRows = (sqlite3_int64)rows;
    info->estimatedCost = cost;
    return SQLITE_OK;
}

void ig_sqla_args(int idxNum, int argc, sqlite3_value **argv, int nargs, sqlite3_value **args) {
    int n = 0;
    for (int i = 0; i < nargs; i++) {
        args[i] = NULL;
        if ((idxNum & (1 << i)) && n < argc) args[i] = argv[n++];
    }
}
