// Package dockerapi is the HTTP layer of the Docker Engine API: routing
// (every route with and without a /vX.Y prefix), API-version negotiation,
// decoding requests into the official github.com/moby/moby/api types,
// hijacking connections for attach and exec, stdout/stderr framing, and the
// one mapping from error classes to HTTP statuses ([FromError]).
//
// It holds no Docker semantics. Handlers parse the wire and call the role
// interfaces declared in backend.go; the engine implements them. A role left
// nil in [Config] makes every route of that role answer 501 with a message
// naming the backend and what is missing.
//
// Wire behaviour follows dockerd (moby daemon/server); where it differs on
// purpose, the code says why next to the difference.
package dockerapi
