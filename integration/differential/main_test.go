// Package differential runs the same corpus of Docker API interactions
// against the current Docker engine (hack/engine.sh) and against Sockerless
// (memory backend), and compares what came back: status codes, headers,
// the JSON shape of every body (field names, types, null vs {} vs [],
// omitted vs empty) after normalizing IDs, timestamps and addresses, error
// messages, and stream framing (multiplexed or raw, TTY, half-close, exit
// codes). Requests go out as raw HTTP and through the official Go client,
// both asking for API version 1.51 explicitly.
//
// Every difference must be listed, with its reason, in
// docs/fidelity-differences.md: per interaction, or as a field left out of
// every comparison (a containerd descriptor, masked /proc paths). The test
// fails on any other difference, on a listed difference that no longer
// occurs, and when fewer than minFidelity of the interactions match. It prints the fidelity figure (matching
// interactions / total) and writes the full report to
// $SOCKERLESS_FIDELITY_REPORT when that is set.
//
//	make engine   # builds (once, cached) and starts the engine, loads the test images
//	eval "$(hack/engine.sh env)" && go test -v -run Differential ./integration/differential/
package differential

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/sockerless/sockerless/internal/testenv"
)

var sockerlessBinary string

func TestMain(m *testing.M) {
	var cleanup func() error
	var err error
	if sockerlessBinary, cleanup, err = testenv.BuildDaemon(true); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := cleanup(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// caseTimeout bounds one case on one target.
const caseTimeout = 2 * time.Minute

// testCase is a named sequence of interactions; only labelled requests are
// recorded and compared.
type testCase struct {
	name string
	run  func(s *session)
}

func allCases() []testCase {
	var all []testCase
	for _, area := range [][]testCase{
		systemCases(), containerCases(), execCases(), attachCases(), logsCases(),
		archiveCases(), imageCases(), networkCases(), volumeCases(), eventCases(), clientCases(),
	} {
		all = append(all, area...)
	}
	return all
}

func TestDifferential(t *testing.T) {
	engineHost := testenv.EngineHost(t)
	tarball := testenv.ImageTarball(t, "busybox-image.tar")
	ref := newTarget(t, "engine", engineHost)
	requireImage(t, ref.cli, image)
	backend, serveArgs := backendUnderTest(t, engineHost)
	acc, rules, err := readAccepted(acceptedFile, backend)
	if err != nil {
		t.Fatal(err)
	}

	d := startSockerless(t, serveArgs...)
	sut := newTarget(t, "sockerless", d.host)
	loadImage(t, sut.cli, tarball)

	ctx := context.Background()
	for _, tg := range []*target{ref, sut} {
		if err := cleanup(ctx, tg.cli); err != nil {
			t.Fatalf("%s: cleaning up before the run: %v", tg.name, err)
		}
	}
	var verdicts []verdict
	total := 0
	for _, tc := range allCases() {
		refOut := runCase(ref, tc)
		sutOut := runCase(sut, tc)
		vs, err := compare(tc.name, ref, sut, refOut, sutOut, rules)
		if err != nil {
			t.Fatal(err)
		}
		verdicts = append(verdicts, vs...)
		total += len(vs)
	}
	report, matched, strict, problems := judge(verdicts, acc, rules)
	fidelity := float64(matched) / float64(total)
	summary := fmt.Sprintf("fidelity of the %s backend vs the current Docker engine (API %s): %d/%d interactions match (%.1f %%); "+
		"%d identical before the %d field rules; %d differ, each listed in %s",
		backend, ref.maxAPI, matched, total, 100*fidelity, strict, len(rules), total-matched, acceptedFile)
	report += summary + "\n"
	if path := os.Getenv("SOCKERLESS_FIDELITY_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
			t.Error(err)
		}
	}
	t.Log("\n" + report)
	fmt.Println(summary)
	for _, p := range problems {
		t.Error(p)
	}
	if min := minFidelity[backend]; fidelity < min {
		t.Errorf("fidelity %.1f %% is below %.0f %%", 100*fidelity, 100*min)
	}
}

// backendEnv chooses the backend of the Sockerless under test: unset or
// "memory", or "docker" for the docker backend on the engine under test
// itself (cases run one at a time, the engine's first, and clean up after
// themselves, so the two never see each other's objects).
const backendEnv = "SOCKERLESS_TEST_BACKEND"

// backendUnderTest returns the backend's name and its serve flags.
func backendUnderTest(t *testing.T, engineHost string) (string, []string) {
	switch b := os.Getenv(backendEnv); b {
	case "", "memory":
		return "memory", nil
	case "docker":
		return "docker", []string{"--backend", "docker", "--docker-host", engineHost}
	default:
		t.Fatalf("%s=%q: want memory or docker", backendEnv, b)
		return "", nil
	}
}

// runCase runs one case on one target and returns what it recorded. A case
// stops at its first failed set-up step, which is recorded too.
func runCase(tg *target, tc testCase) []*interaction {
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	tg.rec.out = nil
	s := &session{tg: tg, cli: tg.cli, ctx: ctx}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(setupFailed); !ok {
					panic(r)
				}
			}
		}()
		tc.run(s)
	}()
	if err := cleanup(ctx, tg.cli); err != nil {
		tg.rec.add(&interaction{label: "clean-up", transportErr: err.Error()})
	}
	return tg.rec.out
}

func requireImage(t *testing.T, cli *client.Client, ref string) {
	t.Helper()
	if _, err := cli.ImageInspect(context.Background(), ref); err != nil {
		t.Fatalf("%v: load the test images into the engine (DOCKER_HOST=... hack/testimages.sh)", err)
	}
}

// loadImage loads a `docker save` tarball into Sockerless.
func loadImage(t *testing.T, cli *client.Client, tarball string) {
	t.Helper()
	f, err := os.Open(tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read-only
	res, err := cli.ImageLoad(context.Background(), f, client.ImageLoadWithQuiet(true))
	if err != nil {
		t.Fatalf("loading %s: %v", tarball, err)
	}
	defer func() { _ = res.Close() }() // read to the end below
	if _, err := io.Copy(io.Discard, res); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.ImageInspect(context.Background(), image); err != nil {
		t.Fatalf("after loading %s: %v", tarball, err)
	}
}
