package clients

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// scriptCase is one line a scenario script prints.
type scriptCase struct {
	Case   string `json:"case"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// runScript runs a scenario script (docker-py, dockerode) once per engine
// and turns each case it reports into a subtest. The script itself asserts
// the outputs; want lists the cases it must report, in order, so that a
// script that dies half-way fails the cases it did not reach.
func runScript(t *testing.T, client string, want []string, argv []string, env ...string) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
			cmd.Env = append(os.Environ(), append(env, "DOCKER_HOST="+e.host, "SCENARIO_IMAGE="+image,
				"SCENARIO_PREFIX="+prefix(client))...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			got := map[string]scriptCase{}
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				var c scriptCase
				if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
					t.Errorf("scenario printed a line that is not a case: %q", sc.Text())
					continue
				}
				got[c.Case] = c
			}
			if err != nil {
				t.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, stderr.String())
			}
			for _, name := range want {
				runCase(t, client, e, name, func(t *testing.T) {
					c, ok := got[name]
					switch {
					case !ok:
						t.Fatal("the scenario did not report this case")
					case !c.OK:
						t.Fatal(c.Detail)
					}
				})
			}
			if len(got) > len(want) {
				t.Errorf("the scenario reported %d cases, the test knows %d: %v", len(got), len(want), got)
			}
		})
	}
}

// prefix gives the names a scenario creates a per-run prefix, so runs on
// the shared reference dockerd do not collide.
func prefix(client string) string {
	return fmt.Sprintf("sl-%s-%d-", client, os.Getpid())
}
