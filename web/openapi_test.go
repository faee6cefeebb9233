package web_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/tensionmap/tensionmap/access"
)

// TestOpenAPIDescribesEveryRoute: the document parses, and the operations it
// describes under /api/v1 are exactly the routes the router knows there.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var doc struct {
		OpenAPI    string
		Paths      map[string]map[string]json.RawMessage
		Components struct {
			Schemas map[string]json.RawMessage
		}
	}
	e.getJSON(e.as(access.Council), "/api/v1/openapi.json", &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q; want 3.x", doc.OpenAPI)
	}
	var described []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			described = append(described, strings.ToUpper(method)+" "+path)
			var o struct {
				Summary    string
				Responses  map[string]json.RawMessage
				Parameters []struct{ Name, In string }
			}
			if err := json.Unmarshal(op, &o); err != nil {
				t.Errorf("%s %s: %v", method, path, err)
				continue
			}
			if o.Summary == "" || len(o.Responses) == 0 {
				t.Errorf("%s %s: no summary or responses", method, path)
			}
			// Every path parameter is declared.
			for _, seg := range strings.Split(path, "/") {
				if name, ok := strings.CutPrefix(seg, "{"); ok {
					name, _, _ = strings.Cut(name, "}")
					if !slices.ContainsFunc(o.Parameters, func(p struct{ Name, In string }) bool { return p.Name == name && p.In == "path" }) {
						t.Errorf("%s %s: path parameter %s is not declared", method, path, name)
					}
				}
			}
		}
	}
	slices.Sort(described)
	var routed []string
	for _, r := range routesOf(t, e) {
		if _, pattern, _ := strings.Cut(r, " "); strings.HasPrefix(pattern, "/api/v1/") || strings.HasPrefix(pattern, "/tiles/") {
			routed = append(routed, strings.Replace(r, "{file}", "{y}.mvt", 1))
		}
	}
	if !slices.Equal(described, routed) {
		t.Errorf("the document describes\n%v\nthe router knows\n%v", described, routed)
	}
	// Every schema referred to exists.
	raw := e.get(e.as(access.Council), "/api/v1/openapi.json").body
	for _, part := range strings.Split(string(raw), `"$ref":"#/components/schemas/`)[1:] {
		name, _, _ := strings.Cut(part, `"`)
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("a $ref to the missing schema %s", name)
		}
	}
}
