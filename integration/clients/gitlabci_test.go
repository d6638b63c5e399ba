package clients

import (
	"regexp"
	"testing"
)

// gclEnv names the gitlab-ci-local binary (hack/clients.sh env).
const gclEnv = "SOCKERLESS_GITLAB_CI_LOCAL"

// gclOutput matches a line a job printed: "job-name > TEXT" (the name is
// padded to the longest job name).
var gclOutput = regexp.MustCompile(`^\S.*? > (.*)$`)

// gclArgs: images are local tags, never pulled.
func gclArgs(gcl string) []string {
	return []string{gcl, "--pull-policy", "if-not-present"}
}

func runGCL(tb testing.TB, e engine, c clientCase) run {
	argv := append(gclArgs(clientBinary(tb, gclEnv)), c.args...)
	return runClient(tb, e.host, project(tb, c), gclOutput, argv...)
}

// TestGitLabCI runs the GitLab CI corpus (testdata/gitlab-ci) with
// gitlab-ci-local on sockerless and on the reference dockerd.
func TestGitLabCI(t *testing.T) {
	clientBinary(t, gclEnv)
	cases := loadCases(t, "gitlab-ci", 15)
	runCorpus(t, "gitlab-ci-local", cases, engines(t), runGCL)
}
