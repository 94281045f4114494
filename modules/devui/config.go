package devui

import (
	"fmt"
	"time"

	"github.com/titanframework/titan/internal/httpserve"
)

// Config is the `devui` configuration section.
type Config struct {
	// Enabled serves the development UI. Off (the default), nothing is
	// served and nothing runs.
	Enabled bool `json:"enabled" jsonschema:"description=Serve the development UI under /_titan/ (off by default)"`
	// Listen moves the UI to an HTTP server of its own on this address,
	// host:port (127.0.0.1:7090, :7090). Empty (the default), every
	// http:// and https:// listener of the app serves it under /_titan/.
	Listen string `json:"listen,omitempty" jsonschema:"description=Address (host:port) of an HTTP server of the UI's own; empty serves it under /_titan/ on every http:// listener"`
	// Timeout bounds each call and each stream the tester runs.
	Timeout time.Duration `json:"timeout" jsonschema:"description=How long one call or stream of the tester may run"`
	// MaxStreamItems bounds the items the tester shows of one stream; the
	// stream is stopped after them.
	MaxStreamItems int `json:"maxStreamItems" jsonschema:"minimum=1,maximum=100000,description=Items the tester shows of one stream before stopping it"`
}

// DefaultConfig returns the defaults: off, on the app's http:// listeners,
// calls and streams bounded to a minute, streams to 1,000 items.
func DefaultConfig() Config {
	return Config{Timeout: DefaultTimeout, MaxStreamItems: DefaultMaxStreamItems}
}

// The defaults of the limits of the tester.
const (
	DefaultTimeout        = time.Minute
	DefaultMaxStreamItems = 1000
)

// check reports the first invalid field, by its key.
func (c Config) check() (key string, err error) {
	if c.Listen != "" {
		if err := httpserve.CheckAddr(c.Listen); err != nil {
			return "devui.listen", err
		}
	}
	if c.Timeout <= 0 {
		return "devui.timeout", fmt.Errorf("want a positive duration, got %v", c.Timeout)
	}
	return "", nil
}
