package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Healthcheck GETs /healthz of the server listening on listen (host:port) on
// this machine and returns the first 4 KiB of the answer, or an error unless
// it answers 200 within 3 seconds. A wildcard or empty host is asked on
// loopback. It is the healthcheck subcommand Docker's HEALTHCHECK runs, as
// the images have no curl. Errors do not name the program; callers prefix it.
func Healthcheck(ctx context.Context, listen string) ([]byte, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, err
	}
	if port == "0" {
		return nil, fmt.Errorf("listen %s has no fixed port to check", listen)
	}
	switch ip := net.ParseIP(host); {
	case ip != nil && ip.IsUnspecified() && ip.To4() == nil:
		host = "::1"
	case host == "", host == "localhost", ip != nil && ip.IsUnspecified():
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, port) + "/healthz"
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	// No proxy from the environment: the server is on this machine.
	res, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		if u := errors.Unwrap(err); u != nil {
			err = u // *url.Error would repeat the method and URL in quotes
		}
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", url, res.Status)
	}
	return body, nil
}
