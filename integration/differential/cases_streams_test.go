package differential

import (
	"net/http"
)

func attachCases() []testCase {
	return []testCase{
		{"attach", func(s *session) {
			// Attach before start, as the docker CLI does for `docker run`.
			s.create("dt-attach", spec{cmd: []string{"sh", "-c", "cat; echo done >&2; exit 4"}, stdin: true})
			h := s.hijack("stdin-half-close", check{}, "/containers/dt-attach/attach?stream=1&stdin=1&stdout=1&stderr=1", nil)
			s.do("start", check{}, http.MethodPost, "/containers/dt-attach/start", nil)
			h.send("hello\n", true)
			h.drain()
			s.do("wait", vals("*"), http.MethodPost, "/containers/dt-attach/wait", nil)
			s.do("inspect", vals(".State.ExitCode", ".Config.OpenStdin", ".Config.StdinOnce", ".Config.AttachStdin"), http.MethodGet, "/containers/dt-attach/json", nil)
			h = s.hijack("logs-after-exit", check{}, "/containers/dt-attach/attach?logs=1&stdout=1&stderr=1", nil)
			h.drain()
		}},
		{"attach-tty", func(s *session) {
			s.create("dt-attach-tty", spec{cmd: []string{"sh", "-c", "echo tty out; echo tty err >&2"}, tty: true})
			h := s.hijack("stream", check{}, "/containers/dt-attach-tty/attach?stream=1&stdout=1&stderr=1", nil)
			s.do("start", check{}, http.MethodPost, "/containers/dt-attach-tty/start", nil)
			h.drain()
			s.do("wait", vals("*"), http.MethodPost, "/containers/dt-attach-tty/wait", nil)
			s.do("resize-stopped", check{}, http.MethodPost, "/containers/dt-attach-tty/resize?h=20&w=80", nil)
		}},
		{"attach-errors", func(s *session) {
			s.hijack("unknown", check{}, "/containers/dt-nosuch/attach?stream=1&stdout=1", nil).drain()
			s.do("resize-unknown", check{}, http.MethodPost, "/containers/dt-nosuch/resize?h=20&w=80", nil)
		}},
	}
}

func logsCases() []testCase {
	stream := check{stream: true}
	return []testCase{
		{"logs", func(s *session) {
			s.run("dt-logs", spec{cmd: []string{"sh", "-c", "echo one; echo two >&2; echo three"}})
			s.waitExit("dt-logs")
			s.do("both", stream, http.MethodGet, "/containers/dt-logs/logs?stdout=1&stderr=1", nil)
			s.do("stdout", stream, http.MethodGet, "/containers/dt-logs/logs?stdout=1", nil)
			s.do("stderr", stream, http.MethodGet, "/containers/dt-logs/logs?stderr=1", nil)
			// tail on a container writing to one stream only: the engine
			// logs stdout and stderr through separate copiers, so the order
			// of lines across streams (and which is last) is not fixed.
			s.run("dt-logs-out", spec{cmd: []string{"sh", "-c", "echo one; echo two; echo three"}})
			s.waitExit("dt-logs-out")
			s.do("tail", stream, http.MethodGet, "/containers/dt-logs-out/logs?stdout=1&tail=1", nil)
			s.do("tail-zero", stream, http.MethodGet, "/containers/dt-logs/logs?stdout=1&tail=0", nil)
			s.do("timestamps", stream, http.MethodGet, "/containers/dt-logs/logs?stdout=1&timestamps=1", nil)
			s.do("follow-exited", stream, http.MethodGet, "/containers/dt-logs/logs?stdout=1&follow=1", nil)
			s.do("until-past", stream, http.MethodGet, "/containers/dt-logs/logs?stdout=1&until=1", nil)
			s.do("no-stream", check{}, http.MethodGet, "/containers/dt-logs/logs", nil)
			s.do("unknown", check{}, http.MethodGet, "/containers/dt-nosuch/logs?stdout=1", nil)
			s.do("bad-since", check{}, http.MethodGet, "/containers/dt-logs/logs?stdout=1&since=yesterday", nil)
		}},
		{"logs-tty", func(s *session) {
			s.run("dt-logs-tty", spec{cmd: []string{"sh", "-c", "echo tty one; echo tty two >&2"}, tty: true})
			s.waitExit("dt-logs-tty")
			s.do("both", stream, http.MethodGet, "/containers/dt-logs-tty/logs?stdout=1&stderr=1", nil)
		}},
	}
}
