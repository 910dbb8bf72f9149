package site

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"signaling-auth/webdemo/internal/config"
)

// static holds the pages as plain HTML, CSS and ES modules: what is in the repository
// is exactly what the browser runs, with no build step in between.
//
//go:embed static
var static embed.FS

// contentTypes is fixed here rather than taken from mime.TypeByExtension, which reads
// the host's mime.types and could serve our ES modules under another name.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// mustLoadAssets reads the embedded files once, with a content hash as ETag so that
// browsers revalidate cheaply (embedded files have no modification time).
func mustLoadAssets() map[string]asset {
	assets := map[string]asset{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ctype, ok := contentTypes[path.Ext(p)]
		if !ok {
			ctype = "application/octet-stream"
		}
		assets[strings.TrimPrefix(p, "static/")] = asset{
			body:        body,
			contentType: ctype,
			etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
		}
		return nil
	})
	if err != nil {
		panic("site: embedded files unreadable: " + err.Error()) // only a broken build gets here
	}
	return assets
}

// localSDKPath is where the page finds agora-rtm.js when webdemo serves it itself.
const localSDKPath = "/sdk/" + config.SDKFile

// maxSDKSize bounds the file read into memory; agora-rtm.js 2.x is about 1.5 MB.
const maxSDKSize = 16 << 20

// loadLocalSDK reads agora-rtm.js from dir once, at start. It returns nil and no error
// when dir is "" (turned off); an error says why a configured dir has no usable copy.
func loadLocalSDK(dir string) (*asset, error) {
	if dir == "" {
		return nil, nil
	}
	name := filepath.Join(dir, config.SDKFile)
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, maxSDKSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(body) > maxSDKSize {
		return nil, fmt.Errorf("%s: larger than %d MB, not agora-rtm.js 2.x", name, maxSDKSize>>20)
	}
	sum := sha256.Sum256(body)
	return &asset{body: body, contentType: contentTypes[".js"], etag: `"` + hex.EncodeToString(sum[:12]) + `"`}, nil
}

func (a asset) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("ETag", a.etag)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

func serveAsset(assets map[string]asset, name string) http.Handler {
	a, ok := assets[name]
	if !ok {
		panic("site: no embedded file " + name)
	}
	return http.HandlerFunc(a.serve)
}

// serveAssets serves static/assets/ by exact name: no directory listings, and the
// ServeMux has already cleaned the path of dot segments.
func serveAssets(assets map[string]asset) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		a, ok := assets[name]
		if !ok || !strings.HasPrefix(name, "assets/") {
			writeProblem(w, http.StatusNotFound, "No such file.")
			return
		}
		a.serve(w, r)
	})
}
