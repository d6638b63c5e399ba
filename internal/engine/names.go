package engine

import (
	"math/rand/v2"
)

// Generated names are adjective_noun, as Docker's are; the lists are ours.
var (
	adjectives = []string{"brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid", "merry",
		"nifty", "proud", "quick", "quiet", "sharp", "swift", "tender", "vivid", "witty", "zealous"}
	nouns = []string{"ada", "babbage", "curie", "dijkstra", "euler", "fermat", "gauss", "hopper", "knuth", "lovelace",
		"noether", "pascal", "ritchie", "shannon", "thompson", "turing", "wozniak", "yalow", "zuse", "lamport"}
)

func generateName() string {
	return adjectives[rand.IntN(len(adjectives))] + "_" + nouns[rand.IntN(len(nouns))] + "_" + string(rune('a'+rand.IntN(26))) + string(rune('a'+rand.IntN(26)))
}
