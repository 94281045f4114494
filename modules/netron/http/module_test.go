package http_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/fx"

	titanconfig "github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
)

// listenWith serves the calculator on an http:// address of a Netron made
// with opts, whose log goes to the returned buffer.
func listenWith(t *testing.T, query string, opts ...netron.Option) (addr string, log *bytes.Buffer) {
	t.Helper()
	log = new(bytes.Buffer)
	n, err := netron.New(netron.Config{}, slog.New(slog.NewTextHandler(log, nil)), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	if err := n.Register("calculator", "1.0.0", &Calculator{}, httptransport.Path("/api/calculator")); err != nil {
		t.Fatal(err)
	}
	addr, err = n.Listen(context.Background(), "http://127.0.0.1:0"+query)
	if err != nil {
		t.Fatal(err)
	}
	return addr, log
}

// The gateway options of a Netron (WithGatewayOptions, which the http
// section gives in an app) apply to the gateways it listens on, with no
// warning; the same settings in the listen URL's query still apply and
// log one warning naming what replaces each parameter.
func TestGatewayOptions(t *testing.T) {
	opts, err := httptransport.Config{Prefix: "/gw", MaxBody: 64}.Options()
	if err != nil {
		t.Fatal(err)
	}
	viaOption, quiet := listenWith(t, "", httptransport.WithGatewayOptions(opts...))
	viaQuery, warned := listenWith(t, "?prefix=/gw&maxBody=64")
	c := client(t)
	for _, addr := range []string{viaOption, viaQuery} {
		if r := post(t, c, addr+"/gw/api/calculator/add", "[1,2]"); r.status != 200 || string(r.body) != "3" {
			t.Errorf("%s: POST /gw/api/calculator/add: %d %s", addr, r.status, r.body)
		}
		if r := post(t, c, addr+"/api/calculator/add", "["+strings.Repeat(" ", 64)+"1,2]"); r.status != 413 {
			t.Errorf("%s: a body over 64 bytes: %d %s, want 413", addr, r.status, r.body)
		}
	}
	if strings.Contains(quiet.String(), "deprecated") {
		t.Errorf("WithGatewayOptions logged: %s", quiet)
	}
	if n := strings.Count(warned.String(), "level=WARN"); n != 1 ||
		!strings.Contains(warned.String(), "prefix=… → http.prefix (WithPathPrefix)") ||
		!strings.Contains(warned.String(), "maxBody=… → http.maxBody (WithMaxBodySize)") {
		t.Errorf("the query form logged %d warnings, want one naming the replacements:\n%s", n, warned)
	}
}

// A bad value of the http section is an error naming its key.
func TestConfigErrors(t *testing.T) {
	_, err := httptransport.Config{MaxBody: -1, MaxBatch: -1, Timeout: -1, WriteTimeout: -1, StreamKeepAlive: -1, Cert: "a.pem", Prefix: "gw"}.Options()
	for _, want := range []string{"http.maxBody -1", "http.maxBatch -1", "http.timeout -1ns", "http.writeTimeout -1ns", "http.streamKeepAlive -1ns", "http.cert and http.key must be given together", `http.prefix "gw"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v, want it to contain %q", err, want)
		}
	}
	for _, p := range []string{"gw", "/gw/", "/"} {
		if _, err := (httptransport.Config{Prefix: p}).Options(); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("http.prefix %q: want a path that starts with '/'", p)) {
			t.Errorf("prefix %q: %v, want the key named", p, err)
		}
	}
	// Given in Go, the option names itself.
	opts := []httptransport.Option{httptransport.WithPathPrefix("gw")}
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if _, err := httptransport.NewHandler(n, opts...); err == nil || !strings.Contains(err.Error(), `WithPathPrefix("gw")`) {
		t.Errorf("prefix gw: %v, want the option named", err)
	}
}

// The certificate of the http section serves the https:// gateways only:
// an http:// listener of the same Netron stays plain and starts.
func TestSectionCertificateIsForHTTPS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	opts, err := httptransport.Config{Cert: certFile, Key: keyFile}.Options()
	if err != nil {
		t.Fatal(err)
	}
	n, err := netron.New(netron.Config{}, nil, httptransport.WithGatewayOptions(opts...))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("calculator", "1.0.0", &Calculator{}, httptransport.Path("/api/calculator")); err != nil {
		t.Fatal(err)
	}
	plain, err := n.Listen(context.Background(), "http://127.0.0.1:0")
	if err != nil {
		t.Fatalf("http:// with the section's certificate: %v", err)
	}
	secure, err := n.Listen(context.Background(), "https://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if r := post(t, client(t), plain+"/api/calculator/add", "[1,2]"); r.status != 200 || string(r.body) != "3" {
		t.Errorf("http://: %d %s", r.status, r.body)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	if r := post(t, &http.Client{Transport: tr}, secure+"/api/calculator/add", "[1,2]"); r.status != 200 || string(r.body) != "3" {
		t.Errorf("https://: %d %s", r.status, r.body)
	}
}

// The deprecated query form's errors name its parameters, not the
// section's keys.
func TestQueryErrorsNameTheParameters(t *testing.T) {
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	_, err = n.Listen(context.Background(), "https://127.0.0.1:0?cert=missing.pem&key=missing.key")
	if err == nil || !strings.Contains(err.Error(), `cert "missing.pem", key "missing.key"`) || strings.Contains(err.Error(), "http.cert") {
		t.Fatalf("%v, want an error naming the cert and key parameters", err)
	}
}

// Module gives the app's Netron the options of the http section; a bad
// section fails the app's start-up with the error of its keys, each with
// where its value came from.
func TestModuleErrorsNameTheSources(t *testing.T) {
	type options struct {
		fx.In
		Options []netron.Option `group:"titan.netron.options"`
	}
	app := func(sets ...string) (*fx.App, *[]netron.Option) {
		var got []netron.Option
		return fx.New(fx.NopLogger, titanconfig.Module, httptransport.Module,
			fx.Supply(titanconfig.Options{NoDefaultFile: true, Environ: []string{}, NoWatch: true, Sets: sets}),
			fx.Invoke(func(o options) { got = o.Options })), &got
	}
	good, got := app("http.prefix=/gw", "http.cors.origins=https://app.example", "http.cors.credentials=true")
	if err := good.Err(); err != nil || len(*got) != 1 {
		t.Fatalf("a good http section: %v, %d Netron options; want 1", err, len(*got))
	}
	bad, _ := app("http.cors.origins=*", "http.cors.credentials=true")
	err := bad.Err()
	for _, want := range []string{
		"http.cors.origins", "http.cors.credentials", "list the allowed origins",
		"from flag --set http.cors.origins", "from flag --set http.cors.credentials",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("http.cors.origins=* with http.cors.credentials=true: %v\nwant it to contain %q", err, want)
		}
	}
}
