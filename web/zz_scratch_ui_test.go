//go:build scratchui

package web_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/web"
)

func TestScratchServe(t *testing.T) {
	root, _ := filepath.Abs("..")
	e := newEnv(t, func(o *web.Options) {
		o.StaticDir = filepath.Join(root, "web", "static")
		o.BasemapStyle = os.Getenv("SCRATCH_BASEMAP")
	})
	e.runEngine()
	os.WriteFile("/tmp/scratch-url", []byte(e.ts.URL), 0o644)
	t.Log(e.ts.URL)
	time.Sleep(25 * time.Minute)
}
