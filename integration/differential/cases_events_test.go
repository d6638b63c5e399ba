package differential

import (
	"fmt"
	"net/http"
	"time"
)

// eventValues are the event fields compared by value, line by line.
var eventValues = check{lines: true, values: []string{".Type", ".Action", ".status", ".from", ".scope",
	".Actor.Attributes.name", ".Actor.Attributes.image", ".Actor.Attributes.exitCode", ".Actor.Attributes.driver",
	".Actor.Attributes.type", ".Actor.Attributes.sockerless.difftest"}}

func eventCases() []testCase {
	return []testCase{
		{"events", func(s *session) {
			// Whole seconds, as the docker CLI sends them; the filters keep
			// other cases' events out of the window.
			since := time.Now().Unix()
			s.run("dt-ev", spec{cmd: []string{"sh", "-c", "exit 0"}})
			s.waitExit("dt-ev")
			s.do("", check{}, http.MethodDelete, "/containers/dt-ev", nil)
			s.do("", check{}, http.MethodPost, "/volumes/create", map[string]any{"Name": "dt-ev-vol", "Labels": map[string]string{labelKey: "1"}})
			s.do("", check{}, http.MethodDelete, "/volumes/dt-ev-vol", nil)
			s.do("", check{}, http.MethodPost, "/networks/create", map[string]any{"Name": "dt-ev-net", "Labels": map[string]string{labelKey: "1"}})
			s.do("", check{}, http.MethodDelete, "/networks/dt-ev-net", nil)
			until := time.Now().Unix() + 1
			window := fmt.Sprintf("since=%d&until=%d", since, until)
			s.do("container", eventValues, http.MethodGet, "/events?"+window+`&filters={"container":["dt-ev"]}`, nil)
			s.do("volume", eventValues, http.MethodGet, "/events?"+window+`&filters={"volume":["dt-ev-vol"]}`, nil)
			s.do("network", eventValues, http.MethodGet, "/events?"+window+`&filters={"network":["dt-ev-net"],"type":["network"]}`, nil)
			s.do("type-event", eventValues, http.MethodGet, "/events?"+window+`&filters={"type":["container"],"event":["die"],"container":["dt-ev"]}`, nil)
			s.do("unknown-filter-key", eventValues, http.MethodGet, "/events?"+window+`&filters={"nonsense":["x"],"container":["dt-ev"],"type":["container"]}`, nil)
			s.do("bad-filter-json", check{}, http.MethodGet, "/events?"+window+`&filters={"container":`, nil)
			s.do("bad-type", check{}, http.MethodGet, "/events?"+window+`&filters={"type":["nonsense"]}`, nil)
			s.do("until-before-since", check{}, http.MethodGet, fmt.Sprintf("/events?since=%d&until=%d", until, since), nil)
		}},
	}
}
