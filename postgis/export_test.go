package postgis

import "time"

// CellReadQuery returns the query, and its values, of a read of the given cells at
// resolution res over the days from to to, as the service runs it: read "class"
// their counts by class with no filter, "totals" their totals (a tile's read),
// "strands" their totals of the first strand (a tile filtered by strand).
func CellReadQuery(res int, cells []int64, from, to time.Time, read string) (sql string, args []any) {
	args = []any{res, from, to, int64(0), nil, nil, cells}
	if read == "strands" {
		args[3] = int64(1)
	}
	sql, dates := cellCountsSQL(res, "$7::bigint[]", len(args)+1, from, to, read != "class")
	return sql, append(args, dates...)
}

// MonthMaxRes is the finest resolution the monthly cell counts hold.
const MonthMaxRes = monthMaxRes

// YearClassMaxRes is the finest resolution the yearly cell counts by class hold.
const YearClassMaxRes = yearClassMaxRes

// YearMaxRes is the finest resolution the yearly cell counts by strands hold.
const YearMaxRes = yearMaxRes
