//go:build race

package secret

// raceEnabled is true under -race, where sync.Pool drops items at random,
// so allocation counts are meaningless.
const raceEnabled = true
