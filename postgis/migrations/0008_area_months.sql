-- Monthly per-area roll-up: the incidents of each (first day of month, area, class),
-- the sum of area_counts over the month's days. Long periods read whole months from
-- here and the partial months at either end from the daily rows, so that a count
-- over years costs about as much as one over weeks. Ingest adds to it in the same
-- transaction as cell_counts; a roll-up rebuild recomputes it.
CREATE TABLE area_month_counts (
    month   date    NOT NULL,
    area_id integer NOT NULL,
    class   bigint  NOT NULL,
    n       integer NOT NULL,
    PRIMARY KEY (month, area_id, class)
);

INSERT INTO area_month_counts (month, area_id, class, n)
SELECT date_trunc('month', day)::date, area_id, class, sum(n)
FROM area_counts GROUP BY 1, 2, 3;
