// Command sandbox-run runs one command in the memory backend's sandbox, the
// way the daemon will run a container process: a root folder (a fresh empty
// one unless --root is given), binds, the BusyBox userland, confined paths.
//
//	sandbox-run [--root DIR] [-v HOST:GUEST[:ro]]... [-w DIR] [-e K=V]... -- CMD [ARG]...
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sockerless/sockerless/internal/sandbox"
	"github.com/sockerless/sockerless/internal/sandbox/confine"
)

func main() {
	os.Exit(run())
}

func run() int {
	var (
		root, workdir string
		volumes, env  []string
		status        int
	)
	cmd := &cobra.Command{
		Use:          "sandbox-run [flags] -- COMMAND [ARG...]",
		Short:        "Run a command in the memory backend's WASM sandbox",
		Args:         cobra.MinimumNArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			status, err = runCommand(cmd.Context(), root, workdir, volumes, env, args)
			return err
		},
	}
	cmd.Flags().StringVar(&root, "root", "", "container root folder (default: a new empty folder, removed afterwards)")
	cmd.Flags().StringVarP(&workdir, "workdir", "w", "/", "working folder inside the container")
	cmd.Flags().StringArrayVarP(&volumes, "volume", "v", nil, "bind HOST:GUEST[:ro]")
	cmd.Flags().StringArrayVarP(&env, "env", "e", nil, "environment K=V")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.ExecuteContext(ctx); err != nil {
		return 125 // docker run's status for errors of its own
	}
	return status
}

func runCommand(ctx context.Context, root, workdir string, volumes, env, args []string) (int, error) {
	if root == "" {
		dir, err := os.MkdirTemp("", "sandbox-root-")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(dir)
		for _, d := range []string{"tmp", "root", "etc"} {
			if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
				return 0, err
			}
		}
		root = dir
	}
	var mounts []confine.Mount
	for _, v := range volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || len(parts) > 3 || (len(parts) == 3 && parts[2] != "ro" && parts[2] != "rw") {
			return 0, fmt.Errorf("--volume %q: want HOST:GUEST[:ro]", v)
		}
		host, err := filepath.Abs(parts[0])
		if err != nil {
			return 0, err
		}
		mounts = append(mounts, confine.Mount{Source: host, Target: parts[1], ReadOnly: len(parts) == 3 && parts[2] == "ro"})
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return 0, err
	}
	engine, err := sandbox.New(ctx, sandbox.Config{CacheDir: filepath.Join(cache, "sockerless", "wasm")})
	if err != nil {
		return 0, err
	}
	defer engine.Close(context.WithoutCancel(ctx))
	c, err := engine.NewContainer(sandbox.ContainerConfig{Root: root, Mounts: mounts, Hostname: "sandbox"})
	if err != nil {
		return 0, err
	}
	p, err := c.Start(ctx, sandbox.ProcessSpec{
		Args: args, Env: env, Dir: workdir,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
	})
	if err != nil {
		return 0, errors.Join(err, c.Close())
	}
	select {
	case <-p.Done():
	case <-ctx.Done():
		if err := p.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, sandbox.ErrProcessDone) {
			return 0, err
		}
	}
	st, err := p.Wait(context.WithoutCancel(ctx))
	return st, errors.Join(err, c.Close())
}
