// Package config holds the daemon's settings: flags, SOCKERLESS_* variables
// and an optional JSON config file, validated at start with errors that say
// which flag, variable or key to fix.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Config is the daemon's configuration. JSON keys are the config file's.
type Config struct {
	Hosts    []string `json:"hosts"`
	DataRoot string   `json:"data-root"`
	Backend  string   `json:"backend"`
	// DockerHost is the Docker engine of the docker backend.
	DockerHost string `json:"docker-host"`
	TLSVerify  bool   `json:"tlsverify"`
	TLSCACert  string `json:"tlscacert"`
	TLSCert    string `json:"tlscert"`
	TLSKey     string `json:"tlskey"`
	LogLevel   string `json:"log-level"`
}

// Defaults returns the defaults: a socket the current user can create, a
// data root under the user's home (or /var/lib for root), the memory backend.
func Defaults() Config {
	c := Config{Backend: "memory", LogLevel: "info"}
	if os.Geteuid() == 0 {
		c.DataRoot = "/var/lib/sockerless"
		c.Hosts = []string{"unix:///var/run/sockerless.sock"}
	} else {
		dir := os.Getenv("XDG_RUNTIME_DIR")
		if dir == "" {
			dir = os.TempDir()
		}
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		c.DataRoot = filepath.Join(home, ".local", "share", "sockerless")
		c.Hosts = []string{"unix://" + filepath.Join(dir, "sockerless.sock")}
	}
	return c
}

// LoadFile merges a JSON config file over c. Unknown keys are errors.
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// Backends are the backend names the daemon knows.
var Backends = []string{"memory", "docker"}

// Validate checks the settings.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Hosts) == 0 {
		errs = append(errs, errors.New("no listen address: give -H/--host (or SOCKERLESS_HOST, or \"hosts\" in the config file)"))
	}
	for _, h := range c.Hosts {
		u, err := url.Parse(h)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("-H %q: %v", h, err))
		case u.Scheme == "unix" && u.Path == "":
			errs = append(errs, fmt.Errorf("-H %q: a unix address needs a path, e.g. unix:///run/sockerless.sock", h))
		case u.Scheme == "tcp" && u.Host == "":
			errs = append(errs, fmt.Errorf("-H %q: a tcp address needs host:port, e.g. tcp://127.0.0.1:2375", h))
		case u.Scheme != "unix" && u.Scheme != "tcp":
			errs = append(errs, fmt.Errorf("-H %q: scheme must be unix:// or tcp://", h))
		}
	}
	if !filepath.IsAbs(c.DataRoot) {
		errs = append(errs, fmt.Errorf("--data-root %q must be an absolute path", c.DataRoot))
	}
	known := false
	for _, b := range Backends {
		known = known || b == c.Backend
	}
	if !known {
		errs = append(errs, fmt.Errorf("--backend %q: this build has %s", c.Backend, strings.Join(Backends, ", ")))
	}
	switch u, err := url.Parse(c.DockerHost); {
	case c.Backend == "docker" && c.DockerHost == "":
		errs = append(errs, errors.New("--backend docker needs --docker-host (or SOCKERLESS_DOCKER_HOST, or \"docker-host\" in the config file): unix:///var/run/docker.sock or tcp://host:2375"))
	case c.Backend != "docker" && c.DockerHost != "":
		errs = append(errs, fmt.Errorf("--docker-host is for --backend docker, not %q", c.Backend))
	case c.DockerHost == "":
	case err != nil:
		errs = append(errs, fmt.Errorf("--docker-host %q: %v", c.DockerHost, err))
	case u.Scheme == "unix" && u.Path == "":
		errs = append(errs, fmt.Errorf("--docker-host %q: a unix address needs a path, e.g. unix:///var/run/docker.sock", c.DockerHost))
	case u.Scheme == "tcp" && u.Host == "":
		errs = append(errs, fmt.Errorf("--docker-host %q: a tcp address needs host:port, e.g. tcp://127.0.0.1:2375", c.DockerHost))
	case u.Scheme != "unix" && u.Scheme != "tcp":
		errs = append(errs, fmt.Errorf("--docker-host %q: scheme must be unix:// or tcp://", c.DockerHost))
	}
	if c.TLSVerify && (c.TLSCACert == "" || c.TLSCert == "" || c.TLSKey == "") {
		errs = append(errs, errors.New("--tlsverify needs --tlscacert, --tlscert and --tlskey"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tlscert and --tlskey go together"))
	}
	if _, err := c.Level(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Level is the slog level of LogLevel.
func (c *Config) Level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(c.LogLevel))); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}
