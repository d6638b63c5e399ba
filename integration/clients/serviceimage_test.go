package clients

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// serviceImage is the busybox image with a command of its own, for service
// containers (GitHub services take no command): it writes a computed line
// to /data/ready, then idles. Neither engine can commit or import here, so
// the image is made as a `docker save` tarball and loaded.
const serviceImage = "sockerless-test/service:latest"

var serviceCmd = []string{"sh", "-c", `mkdir -p /data && echo "svc-$ROLE-$((6 * 7))" > /data/ready && exec tail -f /dev/null`}

// writeServiceImage rewrites busybox-image.tar (a docker save archive)
// with serviceCmd as CMD and serviceImage as its tag, into dir.
func writeServiceImage(tb testing.TB, busyboxTar, dir string) string {
	tb.Helper()
	f, err := os.Open(busyboxTar)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	var order []*tar.Header
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatalf("%s: %v", busyboxTar, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			tb.Fatalf("%s: %v", busyboxTar, err)
		}
		files[h.Name] = b
		order = append(order, h)
	}
	var manifest []map[string]any
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		tb.Fatalf("%s: manifest.json: %v (%d images)", busyboxTar, err, len(manifest))
	}
	configName, _ := manifest[0]["Config"].(string)
	var config map[string]any
	if err := json.Unmarshal(files[configName], &config); err != nil {
		tb.Fatalf("%s: %s: %v", busyboxTar, configName, err)
	}
	cc, ok := config["config"].(map[string]any)
	if !ok {
		tb.Fatalf("%s: %s has no config", busyboxTar, configName)
	}
	cc["Cmd"] = serviceCmd
	newConfig, err := json.Marshal(config)
	if err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(newConfig)
	newName := hex.EncodeToString(sum[:]) + ".json"
	manifest[0]["Config"] = newName
	manifest[0]["RepoTags"] = []string{serviceImage}
	newManifest, err := json.Marshal(manifest)
	if err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for _, h := range order {
		name, data := h.Name, files[h.Name]
		switch name {
		case configName:
			name, data = newName, newConfig
		case "manifest.json":
			data = newManifest
		case "repositories":
			continue // optional; it names the old tag
		}
		hdr := *h
		hdr.Name, hdr.Size = name, int64(len(data))
		if err := tw.WriteHeader(&hdr); err != nil {
			tb.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(dir, "service-image.tar")
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		tb.Fatal(fmt.Errorf("service image: %w", err))
	}
	return p
}
