// Command sockerless is the daemon users point DOCKER_HOST at.
//
//	sockerless serve [-H unix:///path | -H tcp://127.0.0.1:2375]... [--data-root DIR]
//	                 [--backend memory | --backend docker --docker-host unix:///var/run/docker.sock]
//	                 [--tlsverify --tlscacert F --tlscert F --tlskey F]
//	                 [--log-level info] [--config-file F]
//	sockerless version
//
// Every flag can also come from a SOCKERLESS_* variable (SOCKERLESS_HOST,
// SOCKERLESS_DATA_ROOT, SOCKERLESS_BACKEND, SOCKERLESS_DOCKER_HOST, ...) and
// from the config file; flags win over variables, variables over the file.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sockerless/sockerless/internal/config"
	"github.com/sockerless/sockerless/internal/daemon"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "sockerless:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "sockerless",
		Short:         "A Docker Engine API daemon that runs containers on backends",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServe(), &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "sockerless %s (API %s, min %s)\n", daemon.Version, daemon.APIVersion, daemon.MinAPIVersion)
		},
	})
	return root
}

func newServe() *cobra.Command {
	cfg := config.Defaults()
	var configFile string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the Docker Engine API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			final := config.Defaults()
			if configFile != "" {
				if err := final.LoadFile(configFile); err != nil {
					return err
				}
			}
			if err := fromEnv(&final); err != nil {
				return err
			}
			fromFlags(cmd.Flags(), &cfg, &final)
			if err := final.Validate(); err != nil {
				return err
			}
			level, _ := final.Level() // validated above
			logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return daemon.Run(ctx, final, logger, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&cfg.Hosts, "host", "H", cfg.Hosts, "address to listen on: unix:///path or tcp://127.0.0.1:2375 (repeatable)")
	f.StringVar(&cfg.DataRoot, "data-root", cfg.DataRoot, "folder for the daemon's state")
	f.StringVar(&cfg.Backend, "backend", cfg.Backend, "where containers run: "+strings.Join(config.Backends, ", "))
	f.StringVar(&cfg.DockerHost, "docker-host", "", "the Docker engine of --backend docker: unix:///path or tcp://host:port")
	f.BoolVar(&cfg.TLSVerify, "tlsverify", false, "require client certificates signed by --tlscacert")
	f.StringVar(&cfg.TLSCACert, "tlscacert", "", "CA certificate that client certificates must chain to")
	f.StringVar(&cfg.TLSCert, "tlscert", "", "server certificate")
	f.StringVar(&cfg.TLSKey, "tlskey", "", "server key")
	f.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
	f.StringVar(&configFile, "config-file", os.Getenv("SOCKERLESS_CONFIG_FILE"), "JSON config file (keys as the flags: hosts, data-root, backend, ...)")
	return cmd
}

// fromEnv applies SOCKERLESS_* variables.
func fromEnv(c *config.Config) error {
	if v := os.Getenv("SOCKERLESS_HOST"); v != "" {
		c.Hosts = strings.Split(v, ",")
	}
	str := map[string]*string{
		"SOCKERLESS_DATA_ROOT": &c.DataRoot, "SOCKERLESS_BACKEND": &c.Backend, "SOCKERLESS_DOCKER_HOST": &c.DockerHost,
		"SOCKERLESS_TLSCACERT": &c.TLSCACert, "SOCKERLESS_TLSCERT": &c.TLSCert, "SOCKERLESS_TLSKEY": &c.TLSKey,
		"SOCKERLESS_LOG_LEVEL": &c.LogLevel,
	}
	for k, p := range str {
		if v := os.Getenv(k); v != "" {
			*p = v
		}
	}
	switch v := os.Getenv("SOCKERLESS_TLSVERIFY"); v {
	case "":
	case "1", "true":
		c.TLSVerify = true
	case "0", "false":
		c.TLSVerify = false
	default:
		return fmt.Errorf("SOCKERLESS_TLSVERIFY=%q: want 1, 0, true or false", v)
	}
	return nil
}

// fromFlags copies the flags the user set over the file and environment.
func fromFlags(f *pflag.FlagSet, flags, c *config.Config) {
	set := func(name string, apply func()) {
		if f.Changed(name) {
			apply()
		}
	}
	set("host", func() { c.Hosts = flags.Hosts })
	set("data-root", func() { c.DataRoot = flags.DataRoot })
	set("backend", func() { c.Backend = flags.Backend })
	set("docker-host", func() { c.DockerHost = flags.DockerHost })
	set("tlsverify", func() { c.TLSVerify = flags.TLSVerify })
	set("tlscacert", func() { c.TLSCACert = flags.TLSCACert })
	set("tlscert", func() { c.TLSCert = flags.TLSCert })
	set("tlskey", func() { c.TLSKey = flags.TLSKey })
	set("log-level", func() { c.LogLevel = flags.LogLevel })
}
