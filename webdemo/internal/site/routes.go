package site

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"signaling-auth/webdemo/internal/config"
)

// addRoutes maps the whole surface of the site.
// sdk is the local copy of agora-rtm.js (nil: none), sdkURL where the page loads it from.
func addRoutes(mux *http.ServeMux, cfg config.Config, version string, reg *prometheus.Registry, sdk *asset, sdkURL string, draining func() bool) {
	assets := mustLoadAssets()
	mux.Handle("/{$}", serveAsset(assets, "index.html"))
	mux.Handle("/authentication_guide/{$}", serveAsset(assets, "authentication_guide/index.html"))
	// The original sample's guide links to the path without the slash.
	mux.Handle("/authentication_guide", http.RedirectHandler("/authentication_guide/", http.StatusMovedPermanently))
	mux.Handle("/token_doctor/{$}", serveAsset(assets, "token_doctor/index.html"))
	mux.Handle("/token_doctor", http.RedirectHandler("/token_doctor/", http.StatusMovedPermanently))
	mux.Handle("/assets/", serveAssets(assets))
	if sdk != nil {
		mux.Handle(localSDKPath, http.HandlerFunc(sdk.serve))
	}
	mux.Handle("/config.json", handleConfig(cfg, version, sdkURL))
	mux.Handle("/healthz", handleHealthz(version))
	mux.Handle("/readyz", handleReadyz(draining))
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", handleNotFound())
}

// pageConfig is what the page reads from /config.json. It holds nothing secret: the
// App ID is public (it is inside every token anyway).
type pageConfig struct {
	ProxyURL    string `json:"proxyUrl"`
	ServerURL   string `json:"serverUrl"`
	AppID       string `json:"appId"`
	TokenExpiry int64  `json:"tokenExpiry"`
	SDKURL      string `json:"sdkUrl"`
	// Mode is the token server's: "demo" (no App Certificate, Agora rejects its tokens;
	// the page shows a banner) or "live". It comes from the demo_mode key.
	Mode    string `json:"mode"`
	Version string `json:"version"`
}

func handleConfig(cfg config.Config, version, sdkURL string) http.Handler {
	mode := "live"
	if cfg.DemoMode {
		mode = "demo"
	}
	pc := pageConfig{
		ProxyURL:    cfg.ProxyURL,
		ServerURL:   cfg.ServerURL,
		AppID:       cfg.AppID,
		TokenExpiry: int64(cfg.TokenExpiry.Seconds()),
		SDKURL:      sdkURL,
		Mode:        mode,
		Version:     version,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, pc)
	})
}

func handleHealthz(version string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": version})
	})
}

// handleReadyz is ready as soon as it answers: the site has no dependency of its own
// (the token server and the proxy are the browser's business, not ours). Only while
// draining (shutting down on SIGTERM) it answers 503; draining may be nil.
func handleReadyz(draining func() bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if draining != nil && draining() {
			writeProblem(w, http.StatusServiceUnavailable, "not ready: shutting down")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

func handleNotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusNotFound, "No such page. The guides are listed at /.")
	})
}
