package chart

import (
	"flag"
	"html/template"
	"os"
	"path/filepath"
	"testing"
)

var page = flag.String("page", "", "write every example chart into this HTML page, or one page each into this directory, to look at in a browser")

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Charts</title>
<style>@page{size:A4;margin:15mm} body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:1rem auto} figure{margin:0 0 2rem;break-inside:avoid}</style>
</head>
<body>
<h1>Charts</h1>
{{range .}}<figure><figcaption>{{.Name}}</figcaption>
{{.SVG}}</figure>
{{end}}</body>
</html>
`))

// TestPage writes the examples into one HTML page when -page names a file, or
// one page each when it names a directory:
//
//	go test ./web/chart -run TestPage -page charts.html
func TestPage(t *testing.T) {
	if *page == "" {
		t.Skip("no -page")
	}
	type fig struct {
		Name string
		SVG  template.HTML
	}
	var figs []fig
	for _, e := range append(examples(), hostileCharts()...) {
		figs = append(figs, fig{e.name, e.chart.SVG()})
	}
	if st, err := os.Stat(*page); err == nil && st.IsDir() {
		for _, f := range figs {
			writePage(t, filepath.Join(*page, f.Name+".html"), []fig{f})
		}
		return
	}
	writePage(t, *page, figs)
}

func writePage[T any](t *testing.T, name string, figs []T) {
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pageTemplate.Execute(f, figs); err != nil {
		t.Fatal(err)
	}
}
