package dockerapi

import (
	"log/slog"
	"net/http"
)

// Config is what a [Server] serves: the role backends (any may be nil), a
// logger, the backend name used in messages and the version information.
type Config struct {
	System     SystemBackend
	Containers ContainerBackend
	Archive    ArchiveBackend
	Exec       ExecBackend
	Images     ImageBackend
	Volumes    VolumeBackend
	Networks   NetworkBackend

	// Logger receives request logs at Debug and handler failures at Error;
	// nil means slog.Default().
	Logger *slog.Logger
	// BackendName names the backend in "not implemented" messages.
	BackendName string
	// ServerVersion is the engine version sent in the Server header,
	// e.g. "0.1.0" → "Server: Docker/0.1.0 (linux)".
	ServerVersion string
	// MinAPIVersion and MaxAPIVersion bound the accepted API versions;
	// empty means [MinAPIVersion] and [MaxAPIVersion]. MaxAPIVersion is also
	// the version of requests without a /vX.Y prefix.
	MinAPIVersion, MaxAPIVersion string
	// MaxJSONBody bounds JSON request bodies; 0 means [DefaultMaxJSONBody].
	// Tar bodies (archive PUT, image load) are not bounded.
	MaxJSONBody int64
}

// Supported API versions and body limit defaults.
const (
	MinAPIVersion      = "1.24"
	MaxAPIVersion      = "1.51"
	DefaultMaxJSONBody = 10 << 20
)

// Server routes Docker API requests to the backends of its [Config].
type Server struct {
	cfg Config
	log *slog.Logger
	mux *http.ServeMux
}

// apiFunc is a route handler: it writes a response or returns an error for
// the server to map with [FromError].
type apiFunc func(w http.ResponseWriter, r *http.Request) error

// New builds a server and its route table.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MinAPIVersion == "" {
		cfg.MinAPIVersion = MinAPIVersion
	}
	if cfg.MaxAPIVersion == "" {
		cfg.MaxAPIVersion = MaxAPIVersion
	}
	if cfg.MaxJSONBody <= 0 {
		cfg.MaxJSONBody = DefaultMaxJSONBody
	}
	if cfg.ServerVersion == "" {
		cfg.ServerVersion = "dev"
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "dockerapi"), mux: http.NewServeMux()}
	s.routes()
	return s
}

// Handler returns the HTTP handler: request logging, /vX.Y prefix
// stripping, then the route table.
func (s *Server) Handler() http.Handler {
	return s.logRequests(http.HandlerFunc(s.serveVersioned))
}

// handle registers one route; the pattern is a Go 1.22 ServeMux pattern
// ("METHOD /path/{wildcard}").
func (s *Server) handle(pattern string, h apiFunc) {
	s.mux.Handle(pattern, s.wrap(h))
}

// routes is the route table, one group per role.
func (s *Server) routes() {
	s.mux.HandleFunc("/", s.notFound)
	s.systemRoutes()
	s.containerRoutes()
	s.archiveRoutes()
	s.execRoutes()
	s.imageRoutes()
	s.volumeRoutes()
	s.networkRoutes()
	s.unsupportedRoutes()
}

// notFound answers unknown routes and methods as dockerd does (404 for a
// known path with another method too, where ServeMux would say 405).
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if err := writeJSONError(w, http.StatusNotFound, "page not found"); err != nil {
		s.log.Debug("error response not delivered", "path", r.URL.Path, "err", err)
	}
}
