//go:build race

package accesstoken

// raceEnabled lowers the rounds of the slow differential tests under -race, where the
// reference's 800 KB allocation per token costs milliseconds; they are single-goroutine,
// so the race detector adds nothing to them.
const raceEnabled = true
