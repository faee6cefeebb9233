// Package web is the service's HTTP adapter: the chi router, its middleware and
// handlers, the server-rendered pages and the map's assets.
package web
