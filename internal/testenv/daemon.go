package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// BuildDaemon builds cmd/sockerless into a temporary folder for a test
// binary's TestMain (with the race detector when race is set) and returns
// its path and a function that removes the folder.
func BuildDaemon(race bool) (string, func() error, error) {
	dir, err := os.MkdirTemp("", "sockerless-test-")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "sockerless")
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	// The package path, not a relative one: it builds from any test folder.
	args = append(args, "github.com/sockerless/sockerless/cmd/sockerless")
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("build sockerless: %w\n%s", err, out)
	}
	return bin, func() error { return os.RemoveAll(dir) }, nil
}

// AppendReport appends text to the report file make test prints (several
// test binaries write to the same one, so none may truncate it).
func AppendReport(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		_ = f.Close() // the write error is the one to report
		return err
	}
	return f.Close()
}
