package differential

import (
	"net/http"

	"github.com/moby/moby/client"
)

func imageCases() []testCase {
	return []testCase{
		{"images", func(s *session) {
			s.do("inspect", vals(".RepoTags[]", ".Config.Cmd[]", ".Os", ".Architecture"), http.MethodGet, "/images/"+image+"/json", nil)
			s.do("list-reference", vals("[].RepoTags[]"), http.MethodGet, `/images/json?filters={"reference":["sockerless-test/busybox"]}`, nil)
			s.do("history", vals("[].Tags[]"), http.MethodGet, "/images/"+image+"/history", nil)
			s.do("tag", check{}, http.MethodPost, "/images/"+image+"/tag?repo=dt-tag&tag=v1", nil)
			s.do("inspect-tag", vals(".RepoTags[]"), http.MethodGet, "/images/dt-tag:v1/json", nil)
			s.do("tag-bad-repo", check{}, http.MethodPost, "/images/"+image+"/tag?repo=Bad:Repo", nil)
			s.do("remove-tag", vals("*"), http.MethodDelete, "/images/dt-tag:v1", nil)
			s.do("inspect-unknown", check{}, http.MethodGet, "/images/sockerless-test/nosuch:latest/json", nil)
			s.do("remove-unknown", check{}, http.MethodDelete, "/images/sockerless-test/nosuch:latest", nil)
			s.do("tag-unknown", check{}, http.MethodPost, "/images/sockerless-test/nosuch:latest/tag?repo=dt-x", nil)
			s.do("history-unknown", check{}, http.MethodGet, "/images/sockerless-test/nosuch:latest/history", nil)
			s.do("prune-dangling", vals("*"), http.MethodPost, `/images/prune?filters={"label":["dt.nosuch"]}`, nil)
			s.do("list-bad-filter", check{}, http.MethodGet, `/images/json?filters={"nonsense":["x"]}`, nil)
			s.call("client-inspect", vals(".RepoTags[]"), func() error {
				_, err := s.cli.ImageInspect(s.ctx, image)
				return err
			})
			s.call("client-list", vals("[].RepoTags[]"), func() error {
				_, err := s.cli.ImageList(s.ctx, client.ImageListOptions{Filters: client.Filters{}.Add("reference", image)})
				return err
			})
		}},
		{"image-in-use", func(s *session) {
			s.do("tag", check{}, http.MethodPost, "/images/"+image+"/tag?repo=dt-used&tag=v1", nil)
			s.create("dt-user", spec{cmd: []string{"true"}})
			s.do("remove-in-use-by-id", check{}, http.MethodDelete, "/images/"+imageID(s)+"", nil)
			s.do("remove-extra-tag", vals("*"), http.MethodDelete, "/images/dt-used:v1", nil)
		}},
	}
}

// imageID returns the test image's ID, unrecorded.
func imageID(s *session) string {
	res, err := s.cli.ImageInspect(s.ctx, image)
	s.must(err, "inspecting "+image)
	return res.ID
}

// netValues are the network fields compared by value.
var netValues = vals(".Name", ".Driver", ".Scope", ".Internal", ".Attachable", ".Ingress", ".EnableIPv6", ".Labels.sockerless.difftest")

func networkCases() []testCase {
	create := map[string]any{"Name": "dt-net", "Labels": map[string]string{labelKey: "1"}}
	return []testCase{
		{"networks", func(s *session) {
			s.do("create", vals(".Warning"), http.MethodPost, "/networks/create", create)
			s.do("create-duplicate", check{}, http.MethodPost, "/networks/create", create)
			s.do("inspect", netValues, http.MethodGet, "/networks/dt-net", nil)
			s.do("list-name", vals("[].Name", "[].Driver"), http.MethodGet, `/networks?filters={"name":["dt-net"]}`, nil)
			s.do("list-host", vals("[].Name", "[].Driver", "[].Scope"), http.MethodGet, `/networks?filters={"name":["host"]}`, nil)
			s.do("inspect-host", vals(".Name", ".Driver", ".Scope"), http.MethodGet, "/networks/host", nil)
			s.create("dt-net-ctr", spec{cmd: []string{"sh", "-c", "sleep 60"}, net: "dt-net"})
			s.do("inspect-container-net", vals(".HostConfig.NetworkMode", ".NetworkSettings.Networks.dt-net.Aliases[]"), http.MethodGet, "/containers/dt-net-ctr/json", nil)
			s.do("remove-in-use-created", check{}, http.MethodDelete, "/networks/dt-net", nil)
			s.do("disconnect", check{}, http.MethodPost, "/networks/dt-net/disconnect", map[string]any{"Container": "dt-net-ctr"})
			s.do("disconnect-again", check{}, http.MethodPost, "/networks/dt-net/disconnect", map[string]any{"Container": "dt-net-ctr"})
			s.do("connect", check{}, http.MethodPost, "/networks/dt-net/connect", map[string]any{"Container": "dt-net-ctr", "EndpointConfig": map[string]any{"Aliases": []string{"dt-alias"}}})
			s.do("connect-unknown-container", check{}, http.MethodPost, "/networks/dt-net/connect", map[string]any{"Container": "dt-nosuch"})
			s.do("inspect-connected", vals(".NetworkSettings.Networks.dt-net.Aliases[]"), http.MethodGet, "/containers/dt-net-ctr/json", nil)
			s.do("remove-container", check{}, http.MethodDelete, "/containers/dt-net-ctr?force=1", nil)
			s.do("remove", check{}, http.MethodDelete, "/networks/dt-net", nil)
			s.do("remove-unknown", check{}, http.MethodDelete, "/networks/dt-net", nil)
			s.do("inspect-unknown", check{}, http.MethodGet, "/networks/dt-nosuch", nil)
		}},
		{"network-errors", func(s *session) {
			s.do("create-bad-json", check{}, http.MethodPost, "/networks/create", "{")
			s.do("create-no-name", check{}, http.MethodPost, "/networks/create", map[string]any{"Labels": map[string]string{labelKey: "1"}})
			s.do("create-bad-driver", check{}, http.MethodPost, "/networks/create", map[string]any{"Name": "dt-net-bad", "Driver": "nosuch", "Labels": map[string]string{labelKey: "1"}})
			s.do("remove-predefined", check{}, http.MethodDelete, "/networks/host", nil)
			s.do("list-bad-filter", check{}, http.MethodGet, `/networks?filters={"nonsense":["x"]}`, nil)
			s.do("connect-unknown-network", check{}, http.MethodPost, "/networks/dt-nosuch/connect", map[string]any{"Container": "dt-nosuch"})
		}},
		{"network-prune", func(s *session) {
			s.do("create", vals(".Warning"), http.MethodPost, "/networks/create", map[string]any{"Name": "dt-net-prune", "Labels": map[string]string{labelKey: "1", "dt.prune": "1"}})
			s.do("prune", vals("*"), http.MethodPost, `/networks/prune?filters={"label":["dt.prune"]}`, nil)
			s.do("prune-none", vals("*"), http.MethodPost, `/networks/prune?filters={"label":["dt.prune"]}`, nil)
		}},
	}
}

// volValues are the volume fields compared by value.
var volValues = vals(".Name", ".Driver", ".Scope", ".Labels.sockerless.difftest", ".Options")

func volumeCases() []testCase {
	create := map[string]any{"Name": "dt-vol", "Labels": map[string]string{labelKey: "1"}}
	return []testCase{
		{"volumes", func(s *session) {
			s.do("create", volValues, http.MethodPost, "/volumes/create", create)
			s.do("create-again", volValues, http.MethodPost, "/volumes/create", create)
			s.do("inspect", volValues, http.MethodGet, "/volumes/dt-vol", nil)
			s.do("list-name", vals(".Volumes[].Name", ".Warnings"), http.MethodGet, `/volumes?filters={"name":["dt-vol"]}`, nil)
			s.create("dt-vol-user", spec{cmd: []string{"true"}, mounts: []string{"dt-vol:/data"}})
			s.do("inspect-mount", vals(".Mounts[].Type", ".Mounts[].Name", ".Mounts[].Destination", ".Mounts[].RW", ".HostConfig.Binds[]"), http.MethodGet, "/containers/dt-vol-user/json", nil)
			s.do("remove-in-use", check{}, http.MethodDelete, "/volumes/dt-vol", nil)
			s.do("remove-container", check{}, http.MethodDelete, "/containers/dt-vol-user", nil)
			s.do("remove", check{}, http.MethodDelete, "/volumes/dt-vol", nil)
			s.do("remove-unknown", check{}, http.MethodDelete, "/volumes/dt-vol", nil)
			s.do("inspect-unknown", check{}, http.MethodGet, "/volumes/dt-nosuch", nil)
			s.do("create-bad-json", check{}, http.MethodPost, "/volumes/create", "{")
			s.do("create-bad-name", check{}, http.MethodPost, "/volumes/create", map[string]any{"Name": "bad/name"})
			s.do("list-bad-filter", check{}, http.MethodGet, `/volumes?filters={"nonsense":["x"]}`, nil)
		}},
		{"volume-prune", func(s *session) {
			s.do("create", volValues, http.MethodPost, "/volumes/create", map[string]any{"Name": "dt-vol-prune", "Labels": map[string]string{labelKey: "1", "dt.prune": "1"}})
			s.do("prune", vals(".VolumesDeleted[]"), http.MethodPost, `/volumes/prune?filters={"label":["dt.prune"],"all":["true"]}`, nil)
			s.do("prune-none", vals("*"), http.MethodPost, `/volumes/prune?filters={"label":["dt.prune"],"all":["true"]}`, nil)
		}},
	}
}
