package differential

import (
	"net/http"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// stateValues are the inspect fields compared by value in lifecycle steps.
var stateValues = vals(".State.Status", ".State.ExitCode", ".State.Error", ".Name", ".Path", ".Args[]",
	".Config.Cmd[]", ".Config.Image", ".RestartCount", ".HostConfig.NetworkMode", ".Config.Labels.sockerless.difftest")

// listValues are the list fields compared by value.
var listValues = vals("[].Names[]", "[].State", "[].Image", "[].Command", "[].Labels.sockerless.difftest")

func containerCases() []testCase {
	sleeper := map[string]any{"Image": image, "Cmd": []string{"sh", "-c", "sleep 60"},
		"Labels": map[string]string{labelKey: "1"}, "HostConfig": map[string]any{"NetworkMode": "none"}}
	return []testCase{
		{"lifecycle", func(s *session) {
			s.do("create", vals(".Warnings"), http.MethodPost, "/containers/create?name=dt-life", sleeper)
			s.do("inspect-created", stateValues, http.MethodGet, "/containers/dt-life/json", nil)
			s.do("list-created", listValues, http.MethodGet, `/containers/json?all=1&filters={"name":["dt-life"]}`, nil)
			s.do("start", check{}, http.MethodPost, "/containers/dt-life/start", nil)
			s.do("start-again", check{}, http.MethodPost, "/containers/dt-life/start", nil)
			s.do("inspect-running", stateValues, http.MethodGet, "/containers/dt-life/json", nil)
			s.do("list-running", listValues, http.MethodGet, `/containers/json?filters={"name":["dt-life"]}`, nil)
			s.do("unpause-running", check{}, http.MethodPost, "/containers/dt-life/unpause", nil)
			s.do("stop", check{}, http.MethodPost, "/containers/dt-life/stop?t=1", nil)
			s.do("stop-again", check{}, http.MethodPost, "/containers/dt-life/stop?t=1", nil)
			s.do("inspect-stopped", stateValues, http.MethodGet, "/containers/dt-life/json", nil)
			s.do("list-exited", listValues, http.MethodGet, `/containers/json?all=1&filters={"status":["exited"],"label":["`+labelKey+`"]}`, nil)
			s.do("pause-stopped", check{}, http.MethodPost, "/containers/dt-life/pause", nil)
			s.do("restart", check{}, http.MethodPost, "/containers/dt-life/restart?t=1", nil)
			s.do("inspect-restarted", stateValues, http.MethodGet, "/containers/dt-life/json", nil)
			s.do("kill", check{}, http.MethodPost, "/containers/dt-life/kill?signal=SIGKILL", nil)
			s.waitExit("dt-life")
			s.do("inspect-killed", stateValues, http.MethodGet, "/containers/dt-life/json", nil)
			s.do("kill-stopped", check{}, http.MethodPost, "/containers/dt-life/kill", nil)
			s.do("remove", check{}, http.MethodDelete, "/containers/dt-life", nil)
			s.do("inspect-removed", check{}, http.MethodGet, "/containers/dt-life/json", nil)
		}},
		{"pause", func(s *session) {
			s.run("dt-pause", spec{cmd: []string{"sh", "-c", "sleep 60"}})
			s.do("pause", check{}, http.MethodPost, "/containers/dt-pause/pause", nil)
			s.do("pause-again", check{}, http.MethodPost, "/containers/dt-pause/pause", nil)
			s.do("inspect-paused", stateValues, http.MethodGet, "/containers/dt-pause/json", nil)
			s.do("list-paused", listValues, http.MethodGet, `/containers/json?filters={"status":["paused"],"label":["`+labelKey+`"]}`, nil)
			s.do("unpause", check{}, http.MethodPost, "/containers/dt-pause/unpause", nil)
			s.do("unpause-again", check{}, http.MethodPost, "/containers/dt-pause/unpause", nil)
			s.do("pause-unknown", check{}, http.MethodPost, "/containers/dt-nosuch/pause", nil)
		}},
		{"create-errors", func(s *session) {
			s.create("dt-taken", spec{cmd: []string{"true"}})
			s.do("bad-json", check{}, http.MethodPost, "/containers/create", "{not json")
			s.do("no-image", check{}, http.MethodPost, "/containers/create", map[string]any{"Cmd": []string{"true"}, "Labels": map[string]string{labelKey: "1"}}) // labelled: the engine creates it
			s.do("unknown-image", check{}, http.MethodPost, "/containers/create", map[string]any{"Image": "sockerless-test/nosuch:latest"})
			s.do("name-taken", check{}, http.MethodPost, "/containers/create?name=dt-taken", sleeper)
			s.do("bad-name", check{}, http.MethodPost, "/containers/create?name=-bad/name", sleeper)
			s.do("bad-restart-policy", check{}, http.MethodPost, "/containers/create?name=dt-policy", map[string]any{
				"Image": image, "HostConfig": map[string]any{"RestartPolicy": map[string]any{"Name": "sometimes"}}})
			s.do("empty-body", check{}, http.MethodPost, "/containers/create", "")
		}},
		{"exit-codes", func(s *session) {
			s.run("dt-exit3", spec{cmd: []string{"sh", "-c", "exit 3"}})
			s.do("wait", vals("*"), http.MethodPost, "/containers/dt-exit3/wait", nil)
			s.do("wait-next-exit-stopped", vals("*"), http.MethodPost, "/containers/dt-exit3/wait?condition=not-running", nil)
			s.do("wait-bad-condition", check{}, http.MethodPost, "/containers/dt-exit3/wait?condition=sometime", nil)
			s.do("inspect", stateValues, http.MethodGet, "/containers/dt-exit3/json", nil)
			s.do("wait-unknown", check{}, http.MethodPost, "/containers/dt-nosuch/wait", nil)
		}},
		{"start-errors", func(s *session) {
			s.create("dt-nocmd", spec{cmd: []string{"/no/such/binary"}})
			s.do("start-missing-binary", check{}, http.MethodPost, "/containers/dt-nocmd/start", nil)
			s.do("inspect-missing-binary", vals(".State.Status", ".State.ExitCode"), http.MethodGet, "/containers/dt-nocmd/json", nil)
			s.do("start-unknown", check{}, http.MethodPost, "/containers/dt-nosuch/start", nil)
		}},
		{"remove", func(s *session) {
			s.run("dt-busy", spec{cmd: []string{"sh", "-c", "sleep 60"}})
			s.do("remove-running", check{}, http.MethodDelete, "/containers/dt-busy", nil)
			s.do("remove-force", check{}, http.MethodDelete, "/containers/dt-busy?force=1", nil)
			s.do("remove-unknown", check{}, http.MethodDelete, "/containers/dt-nosuch", nil)
			s.do("inspect-unknown", check{}, http.MethodGet, "/containers/dt-nosuch/json", nil)
		}},
		{"rename-update", func(s *session) {
			s.create("dt-old", spec{cmd: []string{"true"}})
			s.create("dt-other", spec{cmd: []string{"true"}})
			s.do("rename", check{}, http.MethodPost, "/containers/dt-old/rename?name=dt-new", nil)
			s.do("rename-taken", check{}, http.MethodPost, "/containers/dt-new/rename?name=dt-other", nil)
			s.do("rename-unknown", check{}, http.MethodPost, "/containers/dt-old/rename?name=dt-x", nil)
			s.do("inspect-renamed", vals(".Name"), http.MethodGet, "/containers/dt-new/json", nil)
			s.do("update", vals("*"), http.MethodPost, "/containers/dt-new/update", map[string]any{"RestartPolicy": map[string]any{"Name": "on-failure", "MaximumRetryCount": 2}})
			s.do("inspect-updated", vals(".HostConfig.RestartPolicy.Name", ".HostConfig.RestartPolicy.MaximumRetryCount"), http.MethodGet, "/containers/dt-new/json", nil)
			s.do("update-bad-json", check{}, http.MethodPost, "/containers/dt-new/update", "[")
		}},
		{"list-filters", func(s *session) {
			s.create("dt-la", spec{cmd: []string{"true"}, labels: map[string]string{"dt.role": "a"}})
			s.create("dt-lb", spec{cmd: []string{"true"}, labels: map[string]string{"dt.role": "b"}})
			s.do("label", listValues, http.MethodGet, `/containers/json?all=1&filters={"label":["dt.role=a"]}`, nil)
			s.do("name-none", check{}, http.MethodGet, `/containers/json?all=1&filters={"name":["dt-nosuch"]}`, nil)
			s.do("bad-filter-key", check{}, http.MethodGet, `/containers/json?filters={"nonsense":["x"]}`, nil)
			s.do("bad-filter-json", check{}, http.MethodGet, `/containers/json?filters={"label":`, nil)
			s.do("bad-status", check{}, http.MethodGet, `/containers/json?filters={"status":["sleeping"]}`, nil)
			s.do("size", check{}, http.MethodGet, `/containers/json?all=1&size=1&filters={"label":["dt.role=b"]}`, nil)
			s.call("client-list", listValues, func() error {
				_, err := s.cli.ContainerList(s.ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", "dt.role")})
				return err
			})
		}},
		{"prune", func(s *session) {
			s.create("dt-prune", spec{cmd: []string{"true"}, labels: map[string]string{"dt.prune": "1"}})
			s.do("prune-none", vals("*"), http.MethodPost, `/containers/prune?filters={"label":["dt.nosuch"]}`, nil)
			s.do("prune-label", vals(".ContainersDeleted[]"), http.MethodPost, `/containers/prune?filters={"label":["dt.prune"]}`, nil)
			s.do("prune-bad-filter", check{}, http.MethodPost, `/containers/prune?filters={"nonsense":["x"]}`, nil)
		}},
		{"inspect-client", func(s *session) {
			s.create("dt-cli", spec{cmd: []string{"sh", "-c", "echo hi"}, env: []string{"A=1"}})
			s.call("inspect", vals(".Config.Env[]", ".Config.Cmd[]", ".State.Status"), func() error {
				_, err := s.cli.ContainerInspect(s.ctx, "dt-cli", client.ContainerInspectOptions{})
				return err
			})
			s.call("start", check{}, func() error {
				_, err := s.cli.ContainerStart(s.ctx, "dt-cli", client.ContainerStartOptions{})
				return err
			})
			s.call("wait", vals("*"), func() error {
				res := s.cli.ContainerWait(s.ctx, "dt-cli", client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
				select {
				case <-res.Result:
					return nil
				case err := <-res.Error:
					return err
				}
			})
			s.call("top-stopped", check{}, func() error {
				_, err := s.cli.ContainerTop(s.ctx, "dt-cli", client.ContainerTopOptions{})
				return err
			})
		}},
	}
}
