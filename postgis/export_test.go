package postgis

import "time"

// CellRowsQuery returns the query of a read of the cells in $2 at resolution res
// over the days $3 to $4, through the index the service chooses for those days,
// and the name of that choice.
func CellRowsQuery(res int, from, to time.Time) (sql, by string) {
	b := readBy(from, to)
	by = "cells"
	if b == byDays {
		by = "days"
	}
	return `SELECT cell, class, sum(n)::bigint FROM (` + cellRows(res, "$1::integer", "$2::bigint[]", b) + `) r
		WHERE day BETWEEN $3 AND $4 GROUP BY 1, 2`, by
}
