// Package postgis is the service's only holder of SQL: it opens PostgreSQL + PostGIS,
// applies the embedded migrations, and stores and queries incidents, roll-ups and
// areas for the domain packages.
package postgis
