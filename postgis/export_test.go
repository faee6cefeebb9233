package postgis

import "time"

// CellReadQuery returns the query, and its values, of a read of the given cells at
// resolution res over the days from to to with no class filter, as the service
// runs it: of their counts by class, or of their totals (a tile's read).
func CellReadQuery(res int, cells []int64, from, to time.Time, totals bool) (sql string, args []any) {
	args = []any{res, from, to, int64(0), nil, nil, cells}
	sql, dates := cellCountsSQL(res, "$7::bigint[]", len(args)+1, from, to, totals)
	return sql, append(args, dates...)
}

// MonthMaxRes is the finest resolution the monthly cell counts hold.
const MonthMaxRes = monthMaxRes

// YearMaxRes is the finest resolution the yearly cell counts and totals hold.
const YearMaxRes = yearMaxRes
