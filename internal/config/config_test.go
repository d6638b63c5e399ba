package config

import (
	"strings"
	"testing"
)

func TestValidateDockerHost(t *testing.T) {
	cases := []struct {
		name, backend, host string
		wantErr             string // "" for valid
	}{
		{"memory without host", "memory", "", ""},
		{"docker on a unix socket", "docker", "unix:///var/run/docker.sock", ""},
		{"docker on tcp", "docker", "tcp://127.0.0.1:2375", ""},
		{"docker without host", "docker", "", "--backend docker needs --docker-host"},
		{"host without docker", "memory", "unix:///var/run/docker.sock", "--docker-host is for --backend docker"},
		{"unix without path", "docker", "unix://", "a unix address needs a path"},
		{"tcp without port", "docker", "tcp://", "a tcp address needs host:port"},
		{"other scheme", "docker", "http://127.0.0.1:2375", "scheme must be unix:// or tcp://"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{Hosts: []string{"unix:///tmp/s.sock"}, DataRoot: "/tmp/d", Backend: tc.backend, DockerHost: tc.host, LogLevel: "info"}
			err := c.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("want an error containing %q, got %v", tc.wantErr, err)
			}
		})
	}
}
