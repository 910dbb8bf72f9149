// Package api is tokenserver's HTTP surface: the routes existing Agora token
// servers expose (so their clients work unchanged), the native /v1 API,
// health, readiness, metrics and the OpenAPI document. It turns requests into
// calls on an accesstoken.Minter and every failure into RFC 9457 problem JSON.
// It does not build tokens itself and never reads configuration or the
// environment: New gets everything it needs.
package api
