//go:build race

package contract

// raceEnabled: under the race detector sync.Pool drops items at random
// (regexp keeps its matchers in one), so allocation counts are not exact.
const raceEnabled = true
