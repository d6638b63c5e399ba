// Package deps holds the test that keeps the architecture's boundaries:
// which packages may import which (docs/ARCHITECTURE.md). A boundary that
// only review memory enforces is soon crossed.
package deps

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/sockerless/sockerless/"

// forbidden lists, per package (a prefix match), the imports it must not
// have, direct or indirect.
var forbidden = map[string][]string{
	"internal/errdefs":         {module},
	"internal/sandbox/confine": {module + "internal/sandbox/", module + "internal/backend"},
	"internal/sandbox":         {module + "internal/engine", module + "internal/dockerapi", module + "internal/backend", module + "internal/store", "net/http"},
	"internal/dockerapi":       {module + "internal/engine", module + "internal/store", module + "internal/backend", module + "internal/sandbox", module + "internal/image"},
	"internal/engine":          {"net/http", module + "internal/dockerapi", module + "internal/backends/", module + "internal/sandbox"},
	"internal/backend":         {module + "internal/engine", module + "internal/dockerapi", module + "internal/store", module + "internal/backends/"},
	"internal/store":           {module + "internal/engine", module + "internal/dockerapi", module + "internal/backend"},
	"internal/image":           {module + "internal/engine", module + "internal/backend", module + "internal/dockerapi"},
	"internal/backends/memory": {module + "internal/engine", module + "internal/dockerapi", "net/http"},
	"internal/backends/docker": {module + "internal/engine", module + "internal/dockerapi", module + "internal/sandbox", module + "internal/image", module + "internal/store", module + "internal/backends/memory"},
}

func TestImportBoundaries(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps=false", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", module+"internal/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, deps := strings.TrimPrefix(fields[0], module), fields[1:]
		for owner, bans := range forbidden {
			if pkg != owner && !strings.HasPrefix(pkg, owner+"/") {
				continue
			}
			checked++
			for _, dep := range deps {
				for _, ban := range bans {
					if (dep == strings.TrimSuffix(ban, "/") || strings.HasPrefix(dep, ban)) && !slices.Contains([]string{module + pkg}, dep) && !strings.HasPrefix(dep, module+pkg+"/") {
						t.Errorf("%s imports %s (directly or not); the architecture forbids %s there", pkg, dep, ban)
					}
				}
			}
		}
	}
	if checked < len(forbidden) {
		t.Fatalf("checked %d packages, want at least %d: is go list seeing the module?", checked, len(forbidden))
	}
}
