package dockerapi

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"time"
)

// Listen opens a Docker API listener for addr, "unix:///path/docker.sock"
// or "tcp://host:port", wrapped in TLS when tlsConfig is not nil.
//
// For a unix socket, a leftover socket file nobody answers on is removed;
// a live socket or a file that is not a socket is an error. The socket is
// made 0660, as dockerd's.
func Listen(addr string, tlsConfig *tls.Config) (net.Listener, error) {
	var (
		l   net.Listener
		err error
	)
	switch {
	case strings.HasPrefix(addr, "unix://"):
		l, err = listenUnix(strings.TrimPrefix(addr, "unix://"))
	case strings.HasPrefix(addr, "tcp://"):
		l, err = net.Listen("tcp", strings.TrimPrefix(addr, "tcp://"))
	default:
		return nil, fmt.Errorf("listen %q: address must start with unix:// or tcp://", addr)
	}
	if err != nil {
		return nil, err
	}
	if tlsConfig != nil {
		l = tls.NewListener(l, tlsConfig)
	}
	return l, nil
}

// listenUnix listens on path after clearing a stale socket.
func listenUnix(path string) (net.Listener, error) {
	if path == "" {
		return nil, errors.New("listen unix://: empty socket path")
	}
	if err := removeStaleSocket(path); err != nil {
		return nil, err
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o660); err != nil {
		return nil, errors.Join(fmt.Errorf("chmod %s: %w", path, err), l.Close())
	}
	return l, nil
}

// removeStaleSocket removes path if it is a socket nothing answers on.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("listen unix://%s: the path exists and is not a socket", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		return errors.Join(fmt.Errorf("listen unix://%s: another daemon is listening on it", path), c.Close())
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove stale socket: %w", err)
	}
	return nil
}

// TLSOptions are dockerd's --tlsverify, --tlscacert, --tlscert, --tlskey.
type TLSOptions struct {
	Verify                    bool
	CAFile, CertFile, KeyFile string
}

// TLSConfig builds the server TLS configuration. With Verify, clients must
// present a certificate signed by the CA; without it, a CA (if given)
// verifies the certificates clients choose to send.
func TLSConfig(o TLSOptions) (*tls.Config, error) {
	if o.CertFile == "" || o.KeyFile == "" {
		return nil, errors.New("tls: both --tlscert and --tlskey are required")
	}
	cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: load certificate and key: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if o.CAFile == "" {
		if o.Verify {
			return nil, errors.New("tls: --tlsverify needs --tlscacert")
		}
		return cfg, nil
	}
	pem, err := os.ReadFile(o.CAFile)
	if err != nil {
		return nil, fmt.Errorf("tls: read CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls: no certificate found in %s", o.CAFile)
	}
	cfg.ClientCAs = pool
	cfg.ClientAuth = tls.VerifyClientCertIfGiven
	if o.Verify {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}
