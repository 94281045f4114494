package devui

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sync"

	"github.com/titanframework/titan/modules/netron"
)

// The page: plain HTML, CSS and JavaScript, no build step, nothing
// fetched from elsewhere (TestAssetsHaveNoExternalURLs).
//
//go:embed assets
var assetFiles embed.FS

// asset is an embedded file as it is served.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// assets reads the embedded files once, by their path under assets/.
var assets = sync.OnceValue(func() map[string]asset {
	out := map[string]asset{}
	_ = fs.WalkDir(assetFiles, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := assetFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		out[p] = asset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	return out
})

// contentSecurityPolicy lets the page load and connect to its own origin
// only: it works offline, and nothing it shows can run a script.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// serveAsset serves the page ("" or "index.html") or a file under
// assets/.
func serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	if name == "" {
		name = "index.html"
	}
	if name == "index.html" {
		name = "assets/index.html"
	}
	a, ok := assets()[name]
	if !ok {
		writeError(w, netron.Errorf(netron.CodeNotFound, "the development UI has no file %s", name))
		return
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("Content-Type", a.contentType)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", a.etag)
	if r.Header.Get("If-None-Match") == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(a.body)
}
