//go:build race

package memory

// raceEnabled: the race detector makes every memory access ten times dearer,
// so the million-key measurement runs on fewer keys under it.
const raceEnabled = true
