package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// AreaCodesExist returns the codes, in the order given, that name no stored area:
// a police team's areas are checked against them when an account is set up.
func (db *DB) AreaCodesExist(ctx context.Context, codes []string) (missing []string, err error) {
	if len(codes) == 0 {
		return nil, nil
	}
	rows, err := db.Pool.Query(ctx, `SELECT c.code FROM unnest($1::text[]) WITH ORDINALITY AS c (code, i)
		WHERE NOT EXISTS (SELECT 1 FROM areas a WHERE a.code = c.code) ORDER BY c.i`, codes)
	if err != nil {
		return nil, fmt.Errorf("postgis: area codes: %w", err)
	}
	missing, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgis: area codes: %w", err)
	}
	return missing, nil
}

// AreaCodes returns the codes of up to limit stored areas of a level, in code order.
func (db *DB) AreaCodes(ctx context.Context, level string, limit int) ([]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT code FROM areas WHERE level = $1 ORDER BY code LIMIT $2`, level, limit)
	if err != nil {
		return nil, fmt.Errorf("postgis: area codes: %w", err)
	}
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgis: area codes: %w", err)
	}
	return codes, nil
}

// AreaNames returns the names of the stored areas among codes, by code; a code
// that names no area is left out.
func (db *DB) AreaNames(ctx context.Context, codes []string) (map[string]string, error) {
	return areaNames(ctx, db.Pool, codes)
}

// areaNames is AreaNames on any connection (a transaction included).
func areaNames(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, codes []string) (map[string]string, error) {
	out := map[string]string{}
	if len(codes) == 0 {
		return out, nil
	}
	rows, err := q.Query(ctx, `SELECT code, name FROM areas WHERE code = ANY($1)`, codes)
	if err != nil {
		return nil, fmt.Errorf("postgis: area names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var code, name string
		if err := rows.Scan(&code, &name); err != nil {
			return nil, fmt.Errorf("postgis: area names: %w", err)
		}
		if name != "" {
			out[code] = name
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgis: area names: %w", err)
	}
	return out, nil
}
