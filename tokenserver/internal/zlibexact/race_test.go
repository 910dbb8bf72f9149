//go:build race

package zlibexact

// raceEnabled lowers the rounds of the differential test under -race: it is
// single-goroutine, so the race detector only slows it down.
const raceEnabled = true
