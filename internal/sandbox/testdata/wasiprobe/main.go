// Command wasiprobe is a WASI program used by the sandbox tests: an image's
// own .wasm binary. It prints its arguments, its working folder and what it
// can read at each path given, so tests can see that a guest program runs
// in the container and reaches nothing outside it.
//
// Built by the tests with GOOS=wasip1 GOARCH=wasm.
package main

import (
	"fmt"
	"os"
)

func main() {
	wd, err := os.Getwd()
	fmt.Println("args:", os.Args[1:], "wd:", wd, err)
	status := 0
	for _, p := range os.Args[1:] {
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Printf("%s: error\n", p)
			status = 3
			continue
		}
		fmt.Printf("%s: %q\n", p, b)
	}
	os.Exit(status)
}
