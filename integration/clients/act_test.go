package clients

import (
	"regexp"
	"testing"
)

// actEnv names the act binary (hack/clients.sh env).
const actEnv = "SOCKERLESS_ACT"

// actOutput matches a line a step printed: "[workflow/job]   | TEXT".
var actOutput = regexp.MustCompile(`^\[[^\]]+\]\s+\| (.*)$`)

// actArgs are the flags every act run gets: no pulls (there is no
// registry), the offline job image, no network servers (the cache and
// artifact servers would bind a public address), and no Docker socket in
// the job containers (the jobs never drive Docker).
func actArgs(act string) []string {
	return []string{act, "--pull=false", "--action-offline-mode", "--no-cache-server",
		"--container-daemon-socket", "-", "-P", "ubuntu-latest=" + busyboxBashImage}
}

func runAct(tb testing.TB, e engine, c clientCase) run {
	argv := append(actArgs(clientBinary(tb, actEnv)), c.args...)
	return runClient(tb, e.host, project(tb, c), actOutput, argv...)
}

// TestAct runs the GitHub Actions corpus (testdata/act) with nektos/act on
// sockerless and on the reference dockerd.
func TestAct(t *testing.T) {
	clientBinary(t, actEnv)
	cases := loadCases(t, "act", 25)
	runCorpus(t, "act", cases, engines(t), runAct)
}
