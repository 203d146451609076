//go:build race

package accesstoken

// raceEnabled is true under -race, where sync.Pool drops items at random.
const raceEnabled = true
