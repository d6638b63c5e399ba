package differential

import (
	"net/http"

	"github.com/moby/moby/client"
)

// execInspectValues are the exec inspect fields compared by value.
var execInspectValues = vals(".Running", ".ExitCode", ".ProcessConfig.entrypoint", ".ProcessConfig.arguments[]",
	".ProcessConfig.tty", ".OpenStdin", ".OpenStdout", ".OpenStderr", ".CanRemove", ".DetachKeys")

// execCreate creates an exec instance with a raw request, recorded under
// label, and returns its ID ("" when creating failed).
func (s *session) execCreate(label, ctr string, body any) string {
	r := s.do(label, check{}, http.MethodPost, "/containers/"+ctr+"/exec", body)
	var res struct{ Id string }
	if r.status != http.StatusCreated || r.decode(&res) != nil {
		return ""
	}
	return res.Id
}

func execCases() []testCase {
	return []testCase{
		{"exec", func(s *session) {
			s.run("dt-exec", spec{cmd: []string{"sh", "-c", "sleep 60"}})
			id := s.execCreate("create", "dt-exec", map[string]any{"Cmd": []string{"sh", "-c", "echo out; echo err >&2; exit 7"}, "AttachStdout": true, "AttachStderr": true})
			s.do("inspect-created", execInspectValues, http.MethodGet, "/exec/"+id+"/json", nil)
			h := s.hijack("start", check{}, "/exec/"+id+"/start", map[string]any{"Detach": false, "Tty": false})
			h.drain()
			s.do("inspect-exited", execInspectValues, http.MethodGet, "/exec/"+id+"/json", nil)
			s.do("start-again", check{}, http.MethodPost, "/exec/"+id+"/start", map[string]any{"Detach": true})

			tty := s.execCreate("create-tty", "dt-exec", map[string]any{"Cmd": []string{"sh", "-c", "echo tty; exit 2"}, "Tty": true, "AttachStdout": true, "AttachStderr": true})
			h = s.hijack("start-tty", check{}, "/exec/"+tty+"/start", map[string]any{"Tty": true})
			h.drain()
			s.do("inspect-tty", execInspectValues, http.MethodGet, "/exec/"+tty+"/json", nil)
			// Resizing the first exec, ended a whole exec ago: dockerd has
			// containerd delete an ended exec's process in the background,
			// and until that is done its answer varies (500 "cannot resize a
			// stopped container" or "... a deleted process"; 404 after).
			s.do("resize-exited", check{}, http.MethodPost, "/exec/"+id+"/resize?h=10&w=20", nil)

			in := s.execCreate("create-stdin", "dt-exec", map[string]any{"Cmd": []string{"cat"}, "AttachStdin": true, "AttachStdout": true, "AttachStderr": true})
			h = s.hijack("start-stdin-half-close", check{}, "/exec/"+in+"/start", map[string]any{})
			h.send("line one\nline two\n", true)
			h.drain()
			s.do("inspect-stdin", execInspectValues, http.MethodGet, "/exec/"+in+"/json", nil)

			env := s.execCreate("create-env", "dt-exec", map[string]any{"Cmd": []string{"sh", "-c", "echo $DT_X; pwd"}, "Env": []string{"DT_X=42"}, "WorkingDir": "/tmp", "AttachStdout": true})
			h = s.hijack("start-env-workdir", check{}, "/exec/"+env+"/start", map[string]any{})
			h.drain()

			det := s.execCreate("create-detached", "dt-exec", map[string]any{"Cmd": []string{"true"}})
			s.do("start-detached", check{}, http.MethodPost, "/exec/"+det+"/start", map[string]any{"Detach": true})

			s.call("client-create", check{}, func() error {
				_, err := s.cli.ExecCreate(s.ctx, "dt-exec", client.ExecCreateOptions{Cmd: []string{"echo", "client"}, AttachStdout: true})
				return err
			})
		}},
		{"exec-errors", func(s *session) {
			s.create("dt-exec-stopped", spec{cmd: []string{"true"}})
			s.run("dt-exec-running", spec{cmd: []string{"sh", "-c", "sleep 60"}})
			s.execCreate("create-stopped", "dt-exec-stopped", map[string]any{"Cmd": []string{"true"}})
			s.execCreate("create-unknown-container", "dt-nosuch", map[string]any{"Cmd": []string{"true"}})
			s.execCreate("create-no-cmd", "dt-exec-running", map[string]any{"AttachStdout": true})
			s.execCreate("create-bad-json", "dt-exec-running", "{bad")
			s.do("start-unknown", check{}, http.MethodPost, "/exec/nosuch/start", map[string]any{"Detach": true})
			s.do("inspect-unknown", check{}, http.MethodGet, "/exec/nosuch/json", nil)
			s.do("resize-unknown", check{}, http.MethodPost, "/exec/nosuch/resize?h=10&w=20", nil)
			miss := s.execCreate("create-missing-binary", "dt-exec-running", map[string]any{"Cmd": []string{"/no/such/binary"}, "AttachStdout": true, "AttachStderr": true})
			h := s.hijack("start-missing-binary", check{}, "/exec/"+miss+"/start", map[string]any{})
			h.drain()
			s.do("inspect-missing-binary", execInspectValues, http.MethodGet, "/exec/"+miss+"/json", nil)
		}},
	}
}
