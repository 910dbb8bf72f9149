package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"signaling-auth/webdemo/internal/config"
)

// healthcheck is for Docker's HEALTHCHECK, where there is no curl: it asks the server
// this config would start whether it is up.
func healthcheck(ctx context.Context, cfg config.Config) error {
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return fmt.Errorf("%s healthcheck: %w", name, err)
	}
	if port == "0" {
		return fmt.Errorf("%s healthcheck: listen port is 0, so there is no fixed port to check", name)
	}
	// A wildcard listen address answers on loopback; a specific one only on itself.
	if ip := net.ParseIP(host); host == "" || host == "localhost" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, port) + "/healthz"

	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%s healthcheck: %w", name, err)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s healthcheck: %w", name, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s healthcheck: GET %s: %s", name, url, res.Status)
	}
	return nil
}
