package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The generated section is replaced on every run and the hand-written part above the
// marker is kept as it is.
func TestWriteDocKeepsHandWrittenPart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "performance.md")
	head := "# Performance\n\nWhat each figure means.\n\n"
	if err := os.WriteFile(path, []byte(head+DocMarker+"\n\nan old table\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"| figure | first |\n", "| figure | second |\n"} {
		if err := writeDoc(path, "tensionmap bench scale --rows 10", table); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got := string(b)
		if !strings.HasPrefix(got, head+DocMarker+"\n") {
			t.Errorf("the hand-written part changed:\n%s", got)
		}
		if !strings.HasSuffix(got, table) || strings.Contains(got, "an old table") || strings.Count(got, DocMarker) != 1 {
			t.Errorf("the generated section was not replaced by %q:\n%s", table, got)
		}
		if !strings.Contains(got, "`tensionmap bench scale --rows 10`") || !strings.Contains(got, "## Measured on ") {
			t.Errorf("no command or date:\n%s", got)
		}
	}
	// A file without the marker keeps all it holds, and gains the section after it.
	bare := filepath.Join(t.TempDir(), "bare.md")
	if err := os.WriteFile(bare, []byte("# Notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeDoc(bare, "tensionmap bench scale", "| t |\n"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(bare); !strings.HasPrefix(string(b), "# Notes\n\n"+DocMarker) {
		t.Errorf("a file without the marker: %q", b)
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{12_300_000: "12 MB", 2_345_000_000: "2.35 GB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestTimesX(t *testing.T) {
	for x, want := range map[float64]string{2.34: "2.3x", 0.1: "0.1x", 0.0027: "0.003x"} {
		if got := timesX(x); got != want {
			t.Errorf("timesX(%v) = %q, want %q", x, got, want)
		}
	}
}
