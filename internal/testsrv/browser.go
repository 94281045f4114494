package testsrv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Browser is a tab of a headless Chromium (Debian's chromium, which
// .ci/run installs) driven by a test. The page's JavaScript errors fail
// the test when it ends: uncaught exceptions, console.error, and the
// errors the browser logs about the page (a refused resource, a
// Content-Security-Policy violation) other than answers with an error
// status, which a page may well show.
type Browser struct {
	t     *testing.T
	ctx   context.Context
	shots string // the folder of the screenshots, under t.TempDir()

	mu       sync.Mutex
	problems []string
}

// NewBrowser starts Chromium for the test, within two minutes, and stops
// it when the test ends. Without Chromium the test is skipped with a loud
// message, and fails under CI=true.
func NewBrowser(t *testing.T) *Browser {
	t.Helper()
	chrome := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			chrome = p
			break
		}
	}
	if chrome == "" {
		unreachable(t, "BROWSER", "Chromium is not installed, and the browser tests need it: apt-get install -y chromium (.ci/run installs it)")
	}
	b := &Browser{t: t, shots: t.TempDir()}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.WindowSize(1280, 800), chromedp.Flag("disable-gpu", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithListener(b.note))
	ctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	b.ctx = ctx
	t.Cleanup(func() {
		b.check()
		cancel()
		cancelBrowser()
		cancelAlloc()
	})
	return b
}

// note records the page's errors. It is a chromedp listener: it runs on
// the loop that reads the browser's messages, so it only records.
func (b *Browser) note(ev any) {
	var p string
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		p = fmt.Sprintf("exception: %s (%s:%d)", d.Text, d.URL, d.LineNumber+1)
		if d.Exception != nil && d.Exception.Description != "" {
			p += ": " + d.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if e.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		var args []string
		for _, a := range e.Args {
			if a.Description != "" {
				args = append(args, a.Description)
			} else {
				args = append(args, string(a.Value))
			}
		}
		p = "console.error: " + strings.Join(args, " ")
	case *cdplog.EventEntryAdded:
		if e.Entry.Level != cdplog.EntryLevelError || e.Entry.Source == cdplog.EntrySourceNetwork {
			return
		}
		p = fmt.Sprintf("%s error: %s (%s)", e.Entry.Source, e.Entry.Text, e.Entry.URL)
	default:
		return
	}
	b.mu.Lock()
	b.problems = append(b.problems, p)
	b.mu.Unlock()
}

// check fails the test with each error of the page.
func (b *Browser) check() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("the page: %s", p)
	}
	b.problems = nil
}

// Do runs the actions of one step, failing the test with the step's name
// when one fails.
func (b *Browser) Do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

// Text returns the text of the element that the CSS selector sel finds.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("the text of %s: %v", sel, err)
	}
	return s
}

// Shot saves a screenshot of the whole page as name.png in the test's
// temporary folder, and returns the file's path.
func (b *Browser) Shot(name string) string {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", file)
	return file
}
