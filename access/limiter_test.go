package access_test

import (
	"sync"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/access"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestLimiterAllowsUpToMax(t *testing.T) {
	l := access.NewLimiter(3, time.Minute)
	for i := range 3 {
		if ok, wait := l.Allow(t0.Add(time.Duration(i)*time.Second), "ip"); !ok || wait != 0 {
			t.Fatalf("attempt %d: Allow = %v, %v; want allowed", i+1, ok, wait)
		}
		l.Fail(t0.Add(time.Duration(i)*time.Second), "ip")
	}
	ok, wait := l.Allow(t0.Add(3*time.Second), "ip")
	if ok {
		t.Fatal("allowed after 3 failures of 3")
	}
	// The first failure, at t0, leaves the window at t0+1m.
	if want := time.Minute - 3*time.Second; wait != want {
		t.Errorf("wait %v, want %v", wait, want)
	}
}

func TestLimiterWindowExpiry(t *testing.T) {
	l := access.NewLimiter(2, time.Minute)
	l.Fail(t0, "u")
	l.Fail(t0.Add(10*time.Second), "u")
	if ok, wait := l.Allow(t0.Add(59*time.Second), "u"); ok || wait != time.Second {
		t.Errorf("just before the first failure leaves the window: %v, %v; want blocked for 1s", ok, wait)
	}
	if ok, wait := l.Allow(t0.Add(time.Minute), "u"); !ok || wait != 0 {
		t.Errorf("when the first failure leaves the window: %v, %v; want allowed", ok, wait)
	}
	// One failure is still in the window: one more blocks again, until t0+10s+1m.
	l.Fail(t0.Add(time.Minute), "u")
	if ok, wait := l.Allow(t0.Add(time.Minute), "u"); ok || wait != 10*time.Second {
		t.Errorf("after another failure: %v, %v; want blocked for 10s", ok, wait)
	}
	if ok, _ := l.Allow(t0.Add(3*time.Minute), "u"); !ok {
		t.Error("blocked long after every failure left the window")
	}
}

// Concurrent sign-ins may record more failures than the limit (each was allowed
// before any failed); the wait is until the count is below the limit again.
func TestLimiterWaitBeyondMax(t *testing.T) {
	l := access.NewLimiter(3, time.Minute)
	for i := range 5 {
		l.Fail(t0.Add(time.Duration(i)*10*time.Second), "u")
	}
	now := t0.Add(45 * time.Second)
	ok, wait := l.Allow(now, "u")
	if ok {
		t.Fatal("allowed with 5 failures of 3")
	}
	// Failures at 0, 10, 20, 30, 40s: three of them must leave, the third at 1m20s.
	if want := 35 * time.Second; wait != want {
		t.Errorf("wait %v, want %v", wait, want)
	}
	if ok, _ := l.Allow(now.Add(wait-time.Nanosecond), "u"); ok {
		t.Error("allowed before the wait was over")
	}
	if ok, _ := l.Allow(now.Add(wait), "u"); !ok {
		t.Error("still blocked once the wait was over")
	}
}

func TestLimiterSucceedClears(t *testing.T) {
	l := access.NewLimiter(2, time.Minute)
	l.Fail(t0, "ip", "user")
	l.Fail(t0, "ip", "user")
	if ok, _ := l.Allow(t0, "user"); ok {
		t.Fatal("allowed after 2 failures of 2")
	}
	l.Succeed("user")
	if ok, wait := l.Allow(t0, "user"); !ok || wait != 0 {
		t.Errorf("after Succeed: %v, %v; want allowed", ok, wait)
	}
	if ok, _ := l.Allow(t0, "ip"); ok {
		t.Error("Succeed of one key cleared another")
	}
}

func TestLimiterKeysIndependent(t *testing.T) {
	l := access.NewLimiter(2, time.Minute)
	l.Fail(t0, "ip:a", "user:x")
	l.Fail(t0.Add(time.Second), "ip:a", "user:y")
	if ok, _ := l.Allow(t0.Add(2*time.Second), "ip:b", "user:x"); !ok {
		t.Error("blocked with one failure under each key")
	}
	if ok, _ := l.Allow(t0.Add(2*time.Second), "ip:b", "user:z"); !ok {
		t.Error("fresh keys blocked")
	}
	// Any blocked key blocks, for the longest wait of the blocked keys.
	ok, wait := l.Allow(t0.Add(2*time.Second), "ip:b", "ip:a", "user:z")
	if ok || wait != time.Minute-2*time.Second {
		t.Errorf("with ip:a blocked: %v, %v; want blocked for 58s", ok, wait)
	}
	l.Fail(t0.Add(30*time.Second), "user:x")
	ok, wait = l.Allow(t0.Add(40*time.Second), "ip:a", "user:x")
	if ok || wait != 20*time.Second {
		t.Errorf("ip:a (until 1m) and user:x (until 1m): %v, %v; want blocked for 20s", ok, wait)
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l := access.NewLimiter(800, time.Hour)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				l.Allow(t0, "shared", string(rune('a'+i)))
				l.Fail(t0.Add(time.Duration(j)), "shared", string(rune('a'+i)))
			}
		}()
	}
	wg.Wait()
	if ok, _ := l.Allow(t0.Add(time.Second), "shared"); ok {
		t.Error("800 failures of a shared key, limit 800: allowed")
	}
	if ok, _ := l.Allow(t0.Add(time.Second), "a"); !ok {
		t.Error("100 failures of a key, limit 800: blocked")
	}
}
