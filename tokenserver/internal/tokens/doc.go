// Package tokens is the token service: it mints, inspects and diagnoses
// AccessToken2 tokens for whichever door a request came in by. The HTTP
// routes (package api) and the command line both call it, so a rule lives in
// one place and the command line never links the web framework.
//
// It knows nothing of transports: a request is a Go value, every bad field
// comes back as an InvalidParam named as the JSON body names it, and the
// caller decides how to show it (a problem document, a flag name). It never
// returns or logs a certificate.
package tokens
