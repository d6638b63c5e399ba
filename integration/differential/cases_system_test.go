package differential

import (
	"net/http"

	"github.com/moby/moby/client"
)

func systemCases() []testCase {
	return []testCase{
		{"system", func(s *session) {
			s.doPath("ping", check{}, http.MethodGet, "/_ping", nil)
			s.doPath("ping-head", check{}, http.MethodHead, "/_ping", nil)
			s.do("ping-versioned", check{}, http.MethodGet, "/_ping", nil)
			s.do("version", vals(".Os", ".Arch", ".Components[].Name"), http.MethodGet, "/version", nil)
			s.do("info", check{typesOnly: true, values: []string{".OSType", ".Architecture", ".ExperimentalBuild"}}, http.MethodGet, "/info", nil)
			s.call("info-client", check{typesOnly: true}, func() error {
				_, err := s.cli.Info(s.ctx, client.InfoOptions{})
				return err
			})
			s.call("version-client", check{}, func() error {
				_, err := s.cli.ServerVersion(s.ctx, client.ServerVersionOptions{})
				return err
			})
			s.do("df", check{}, http.MethodGet, "/system/df?type=volume", nil)
		}},
		{"errors", func(s *session) {
			s.doPath("version-too-new", check{}, http.MethodGet, "/v9.99/version", nil)
			s.doPath("version-too-old", check{}, http.MethodGet, "/v1.12/version", nil)
			s.doPath("version-garbage", check{}, http.MethodGet, "/vx.y/version", nil)
			s.do("unknown-path", check{}, http.MethodGet, "/no/such/route", nil)
			s.do("wrong-method", check{}, http.MethodPut, "/containers/json", nil)
			s.do("df-bad-type", check{}, http.MethodGet, "/system/df?type=nonsense", nil)
		}},
	}
}
