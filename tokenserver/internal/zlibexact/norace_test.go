//go:build !race

package zlibexact

const raceEnabled = false
