package devui

import (
	"strings"
	"testing"
	"time"
)

// The checks the module makes of its section beyond its schema, each
// naming the key. (An app whose start-up they fail is not built here:
// the constructors that ran before would leave their goroutines behind.)
func TestConfigCheck(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		edit func(*Config)
		key  string
		want string
	}{
		{func(c *Config) { c.Listen = "127.0.0.1" }, "devui.listen", "want host:port"},
		{func(c *Config) { c.Listen = "http://127.0.0.1:7090" }, "devui.listen", "want host:port"},
		{func(c *Config) { c.Timeout = 0 }, "devui.timeout", "positive"},
		{func(c *Config) { c.Timeout = -time.Second }, "devui.timeout", "positive"},
		{func(c *Config) { c.AllowedHosts = []string{"devui.example.com", ""} }, "devui.allowedHosts", "want a host name"},
		{func(c *Config) { c.AllowedHosts = []string{"devui.example.com:8080"} }, "devui.allowedHosts", "without scheme, port"},
		{func(c *Config) { c.AllowedHosts = []string{"https://devui.example.com"} }, "devui.allowedHosts", "without scheme"},
		{func(c *Config) { c.AllowedHosts = []string{"*.example.com"} }, "devui.allowedHosts", "wildcard"},
		{func(c *Config) { c.AllowedOrigins = []string{"devui.example.com"} }, "devui.allowedOrigins", "want an origin"},
		{func(c *Config) { c.AllowedOrigins = []string{"https://devui.example.com/_titan/"} }, "devui.allowedOrigins", "without path"},
		{func(c *Config) { c.AllowedOrigins = []string{"https://*.example.com"} }, "devui.allowedOrigins", "wildcard"},
		{func(c *Config) { c.AllowedOrigins = []string{"ftp://devui.example.com"} }, "devui.allowedOrigins", "scheme, host and port only"},
		{func(c *Config) { c.AllowedOrigins = []string{"https://user@devui.example.com"} }, "devui.allowedOrigins", "want an origin"},
	} {
		c := DefaultConfig()
		tt.edit(&c)
		key, err := c.check()
		if key != tt.key || err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %s %v, want %s saying %q", c, key, err, tt.key, tt.want)
		}
	}
	for _, listen := range []string{"", ":7090", "127.0.0.1:7090", "[::1]:0"} {
		c := DefaultConfig()
		c.Listen = listen
		if key, err := c.check(); err != nil {
			t.Errorf("listen %q: %s %v", listen, key, err)
		}
	}
	c := DefaultConfig()
	c.AllowedHosts = []string{"devui.example.com", "DevUI.Example.com.", "10.0.0.1", "::1", "[fe80::1]"}
	if key, err := c.check(); err != nil {
		t.Errorf("allowedHosts %q: %s %v", c.AllowedHosts, key, err)
	}
	c = DefaultConfig()
	c.AllowedOrigins = []string{"https://devui.example.com", "http://10.0.0.1:8080", "HTTPS://DevUI.example.com:443/", "http://[::1]:7090"}
	if key, err := c.check(); err != nil {
		t.Errorf("allowedOrigins %q: %s %v", c.AllowedOrigins, key, err)
	}
}
