package sandbox

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"
)

// corpusCase is one CI step from testdata/corpus: a script, how it is run,
// and the stdout and exit status real bash with BusyBox produced for it.
type corpusCase struct {
	name   string
	shell  []string
	script string
	stdin  string
	stdout string
	exit   int
	// gap, when set, names a known difference of the sandbox: the case
	// must still differ from real bash, so that a fix shows up as a failure
	// asking to drop the mark.
	gap string
}

func loadCorpus(t testing.TB) []corpusCase {
	t.Helper()
	files, err := filepath.Glob("testdata/corpus/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	var cases []corpusCase
	for _, f := range files {
		ar, err := txtar.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := corpusCase{name: strings.TrimSuffix(filepath.Base(f), ".txtar"), shell: []string{"bash", "-e"}}
		for _, line := range strings.Split(string(ar.Comment), "\n") {
			if v, ok := strings.CutPrefix(line, "exit: "); ok {
				if c.exit, err = strconv.Atoi(strings.TrimSpace(v)); err != nil {
					t.Fatalf("%s: exit: %v", f, err)
				}
			}
			if v, ok := strings.CutPrefix(line, "gap: "); ok {
				c.gap = v
			}
			if v, ok := strings.CutPrefix(line, "shell: "); ok {
				c.shell = strings.Fields(v)
			}
		}
		sections := map[string]string{}
		for _, file := range ar.Files {
			sections[file.Name] = string(file.Data)
		}
		c.script, c.stdin, c.stdout = sections["step.sh"], sections["stdin"], sections["stdout"]
		if c.script == "" {
			t.Fatalf("%s: no step.sh section", f)
		}
		cases = append(cases, c)
	}
	matching := 0
	for _, c := range cases {
		if c.gap == "" {
			matching++
		}
	}
	if matching < 60 {
		t.Fatalf("corpus has %d cases without a known gap, want at least 60", matching)
	}
	return cases
}

// TestCorpus runs each CI step the way GitHub Actions runs a run: step
// (shell + script file) in a fresh container and compares stdout and status
// with what real bash and BusyBox produced.
func TestCorpus(t *testing.T) {
	e := newTestEngine(t)
	for _, tc := range loadCorpus(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := newTestRoot(t)
			if err := os.WriteFile(filepath.Join(root, "tmp", "step.sh"), []byte(tc.script), 0o755); err != nil {
				t.Fatal(err)
			}
			c := newTestContainer(t, e, root)
			r := run(t, c, tc.stdin, append(tc.shell, "/tmp/step.sh")...)
			diff := cmp.Diff(tc.stdout, r.stdout)
			if tc.gap != "" {
				if diff == "" && r.status == tc.exit {
					t.Errorf("known gap no longer shows (%s): remove the gap: line", tc.gap)
				}
				t.Skipf("known gap: %s", tc.gap)
			}
			if diff != "" || r.status != tc.exit {
				t.Errorf("status %d, want %d; stdout (-want +got):\n%s\nstderr:\n%s", r.status, tc.exit, diff, r.stderr)
			}
		})
	}
}
