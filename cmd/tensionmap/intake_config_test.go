package main

import (
	"strings"
	"testing"
)

// TestIntakeWritersKeepHalfThePoolForReads: the intakes storing at once hold at most
// half of the pool, and at least one may always store.
func TestIntakeWritersKeepHalfThePoolForReads(t *testing.T) {
	for _, conns := range []int{4, 8, 10, 20, 50, 100} {
		w := intakeWriters(conns)
		if w < 1 || (w*intakeConns > conns/2 && w > 1) {
			t.Errorf("%d connections: %d writers of %d connections each; want at least 1 and at most half the pool", conns, w, intakeConns)
		}
	}
}

// TestIntakeSettings: the intake's pace comes from the environment and is checked.
func TestIntakeSettings(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		rate    float64
		conc    int
		wantErr string
	}{
		{"defaults", nil, 60, 2, ""},
		{"set", map[string]string{"TENSIONMAP_INTAKE_RATE": "0.5", "TENSIONMAP_INTAKE_CONCURRENCY": "4"}, 0.5, 4, ""},
		{"rate not a number", map[string]string{"TENSIONMAP_INTAKE_RATE": "fast"}, 0, 0, "TENSIONMAP_INTAKE_RATE"},
		{"rate zero", map[string]string{"TENSIONMAP_INTAKE_RATE": "0"}, 0, 0, "intake-rate"},
		{"no concurrency", map[string]string{"TENSIONMAP_INTAKE_CONCURRENCY": "0"}, 0, 0, "intake-concurrency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			err := c.LoadEnv(func(k string) string { return tt.env[k] })
			if err == nil {
				err = c.Validate()
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v; want an error naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.IntakeRate != tt.rate || c.IntakeConcurrency != tt.conc {
				t.Errorf("got rate %g, concurrency %d; want %g, %d", c.IntakeRate, c.IntakeConcurrency, tt.rate, tt.conc)
			}
		})
	}
}
