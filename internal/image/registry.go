package image

import (
	"errors"
	"net/http"
	"strings"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// classifyTransport gives a registry failure its class and Docker's wording.
// Anything that is not an answer from the registry (a refused connection,
// a name that does not resolve, a TLS failure) is Unavailable.
func classifyTransport(named reference.Named, err error) error {
	familiar := reference.FamiliarString(named)
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return errdefs.Unavailable("%w", err)
	}
	detail := diagnostics(terr)
	switch terr.StatusCode {
	case http.StatusNotFound:
		if hasCode(terr, transport.NameUnknownErrorCode) {
			return errdefs.NotFound("pull access denied for %s, repository does not exist or may require 'docker login': %s", reference.FamiliarName(named), detail)
		}
		return errdefs.NotFound("manifest for %s not found: %s", familiar, detail)
	case http.StatusUnauthorized:
		return errdefs.Unauthorized("pull access denied for %s, repository does not exist or may require 'docker login': %s", reference.FamiliarName(named), detail)
	case http.StatusForbidden:
		return errdefs.Forbidden("pull access denied for %s, repository does not exist or may require 'docker login': %s", reference.FamiliarName(named), detail)
	}
	return errdefs.Unavailable("%w", err)
}

// diagnostics formats the registry's error list as the distribution
// client does: "<code in words>: <message>".
func diagnostics(terr *transport.Error) string {
	var parts []string
	for _, d := range terr.Errors {
		code := strings.ToLower(strings.ReplaceAll(string(d.Code), "_", " "))
		parts = append(parts, code+": "+d.Message)
	}
	if len(parts) == 0 {
		return http.StatusText(terr.StatusCode)
	}
	return strings.Join(parts, ", ")
}

func hasCode(terr *transport.Error, code transport.ErrorCode) bool {
	for _, d := range terr.Errors {
		if d.Code == code {
			return true
		}
	}
	return false
}
