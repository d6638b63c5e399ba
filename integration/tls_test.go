package integration

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeCert makes a key pair signed by parent (self-signed when parent is
// nil) and writes NAME-cert.pem and NAME-key.pem.
func writeCert(t *testing.T, dir, name string, tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for file, block := range map[string]*pem.Block{
		name + "-cert.pem": {Type: "CERTIFICATE", Bytes: der},
		name + "-key.pem":  {Type: "EC PRIVATE KEY", Bytes: kb},
	} {
		if err := os.WriteFile(filepath.Join(dir, file), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return cert, key
}

// TestTLSClientCertificates serves the API over TCP with --tlsverify, as
// dockerd does: the docker CLI with a certificate from the CA gets in,
// without one it is refused.
func TestTLSClientCertificates(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	ca, caKey := writeCert(t, dir, "ca", &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, nil, nil)
	writeCert(t, dir, "server", &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, caKey)
	writeCert(t, dir, "client", &x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "client"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca, caKey)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	cmd := exec.Command(binary, "serve", "-H", "tcp://"+addr, "--data-root", t.TempDir(), "--tlsverify",
		"--tlscacert", filepath.Join(dir, "ca-cert.pem"), "--tlscert", filepath.Join(dir, "server-cert.pem"), "--tlskey", filepath.Join(dir, "server-key.pem"))
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Error(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Logf("daemon: %v\n%s", err, log.String())
		}
	})
	docker := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c := exec.CommandContext(ctx, dockerCLI(), append([]string{"-H", "tcp://" + addr}, args...)...)
		c.Env = append(os.Environ(), "DOCKER_CONFIG="+t.TempDir())
		out, err := c.CombinedOutput()
		return string(out), err
	}
	withCert := []string{"--tlsverify", "--tlscacert", filepath.Join(dir, "ca-cert.pem"),
		"--tlscert", filepath.Join(dir, "client-cert.pem"), "--tlskey", filepath.Join(dir, "client-key.pem")}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := docker(append(withCert, "run", "--rm", builtinImage, "sh", "-c", "echo $((6*7))")...)
		if err == nil {
			if out != "42\n" {
				t.Fatalf("run over TLS: %q", out)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("TLS with a client certificate: %v\n%s\ndaemon:\n%s", err, out, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	noCert := []string{"--tlsverify", "--tlscacert", filepath.Join(dir, "ca-cert.pem")}
	if out, err := docker(append(noCert, "version")...); err == nil || strings.Contains(out, "Server: Sockerless") {
		t.Fatalf("a client without a certificate got in: %v\n%s", err, out)
	}
	if out, err := docker("version"); err == nil || strings.Contains(out, "Server: Sockerless") {
		t.Fatalf("a plain-HTTP client got in: %v\n%s", err, out)
	}
}
