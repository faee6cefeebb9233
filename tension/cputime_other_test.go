//go:build !unix

package tension

// processCPUSeconds is not measured here.
func processCPUSeconds() float64 { return 0 }
