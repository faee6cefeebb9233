//go:build unix

package tension

import "syscall"

// processCPUSeconds is the user and system CPU time of the process so far, for
// benchmarks on a shared machine, where the wall time says more about the others.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
