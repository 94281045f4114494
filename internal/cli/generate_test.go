package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// serviceMain is a main.go in the shape titan new writes.
const serviceMain = `// Command shop serves things.
package main

import (
	"github.com/titanframework/titan"

	"example.com/shop/shop"
)

func main() {
	titan.New(
		titan.WithConfigDefault("netron.listen", []string{"tcp://127.0.0.1:7070"}),
		titan.Service(shop.Name, shop.Version, shop.New,
			titan.Method("greet", titan.Args("request")), // with a comment, (and a comma)
		),
		// the last option
	).Run()
}
`

// shopProject writes a project holding go.mod and main.go (main) in a
// temporary directory, makes it the working directory and returns it.
func shopProject(t *testing.T, main string) string {
	t.Helper()
	dir := isolate(t)
	writeFile(t, dir, "go.mod", "module example.com/shop\n\ngo 1.26\n\nrequire (\n\tgithub.com/titanframework/titan v0.1.0 // the framework\n)\n")
	writeFile(t, dir, "main.go", main)
	return dir
}

// TestGenerateService: the service's package is written and registered
// at the end of titan.New, and what changed is printed.
func TestGenerateService(t *testing.T) {
	dir := shopProject(t, serviceMain)
	code, stdout, stderr := run(t, "generate", "service", "order-items")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	want := "wrote orderitems/service.go\nwrote orderitems/service_test.go\n" +
		"changed main.go: imports example.com/shop/orderitems and registers titan.Service(orderitems.Name, orderitems.Version, orderitems.New)\n"
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
	main, err := os.ReadFile(filepath.Join(dir, "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	wantMain := strings.Replace(serviceMain, "\t\"example.com/shop/shop\"\n", "\t\"example.com/shop/orderitems\"\n\t\"example.com/shop/shop\"\n", 1)
	wantMain = strings.Replace(wantMain, "\t\t// the last option\n", "\t\t// the last option\n\t\ttitan.Service(orderitems.Name, orderitems.Version, orderitems.New),\n", 1)
	if string(main) != wantMain {
		t.Errorf("main.go:\n%s\nwant:\n%s", main, wantMain)
	}
	svc, err := os.ReadFile(filepath.Join(dir, "orderitems", "service.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"package orderitems\n", `Name    = "order-items"`,
		"func (s *Service) Create(_ context.Context, req CreateRequest) (Item, error)",
		"func (s *Service) Get(_ context.Context, req GetRequest) (Item, error)",
		"func (s *Service) Update(_ context.Context, req UpdateRequest) (Item, error)",
		"func (s *Service) Delete(_ context.Context, req DeleteRequest) error",
		"func (s *Service) List(ctx context.Context, req ListRequest) iter.Seq2[Item, error]",
		"Title string `json:\"title\" jsonschema:\"minLength=1,maxLength=200\"`",
	} {
		if !strings.Contains(string(svc), w) {
			t.Errorf("service.go lacks %q", w)
		}
	}
	test, err := os.ReadFile(filepath.Join(dir, "orderitems", "service_test.go"))
	if err != nil || !strings.Contains(string(test), `"example.com/shop/orderitems"`) || !strings.Contains(string(test), `"order-items@^1"`) {
		t.Errorf("service_test.go (%v):\n%s", err, test)
	}

	// From a directory below the project's root, paths are printed from
	// there.
	t.Chdir(filepath.Join(dir, "orderitems"))
	code, stdout, stderr = run(t, "generate", "service", "payments")
	if code != 0 || !strings.Contains(stdout, "wrote ../payments/service.go") || !strings.Contains(stdout, "changed ../main.go") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// snapshot returns the files under dir and their contents.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		files[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// wantUnchanged fails the test when the files under dir differ from
// before.
func wantUnchanged(t *testing.T, dir string, before map[string]string) {
	t.Helper()
	after := snapshot(t, dir)
	if len(after) != len(before) {
		t.Errorf("files %d, want %d: %v", len(after), len(before), after)
	}
	for p, body := range before {
		if after[p] != body {
			t.Errorf("%s changed:\n%s", p, after[p])
		}
	}
}

// TestGenerateServiceTwice: the same name again is a usage error, and
// nothing changes.
func TestGenerateServiceTwice(t *testing.T) {
	dir := shopProject(t, serviceMain)
	if code, _, stderr := run(t, "generate", "service", "orders"); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	before := snapshot(t, dir)
	code, _, stderr := run(t, "generate", "service", "orders")
	wantUsageError(t, code, stderr, "service orders exists already: orders/ is there")
	wantUnchanged(t, dir, before)

	// A package directory of that name, with no registration: refused
	// the same.
	if err := os.Mkdir(filepath.Join(dir, "billing"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = run(t, "generate", "service", "billing")
	wantUsageError(t, code, stderr, "service billing exists already")
}

// TestGenerateServiceBadName: a name that is not a valid service and
// package name is a usage error, and nothing changes.
func TestGenerateServiceBadName(t *testing.T) {
	dir := shopProject(t, serviceMain)
	before := snapshot(t, dir)
	for _, name := range []string{"Orders", "or.ders", "or_ders", "orders-", "1orders", "func", "init", "testdata", "test-data", "vendor", "titan", "netron"} {
		code, _, stderr := run(t, "generate", "service", name)
		wantUsageError(t, code, stderr, "invalid service name")
	}
	for _, args := range [][]string{{"generate"}, {"generate", "service"}, {"generate", "service", "a", "b"}, {"generate", "nonsense"}} {
		if code, _, stderr := run(t, args...); code != 2 {
			t.Errorf("%q: exit %d, stderr:\n%s", args, code, stderr)
		}
	}
	wantUnchanged(t, dir, before)
}

// TestGenerateServiceOutsideAProject: without a go.mod requiring Titan
// above the working directory, nothing is written.
func TestGenerateServiceOutsideAProject(t *testing.T) {
	dir := isolate(t)
	code, _, stderr := run(t, "generate", "service", "orders")
	wantUsageError(t, code, stderr, "no go.mod in")
	writeFile(t, dir, "go.mod", "module example.com/other\n\ngo 1.26\n\nrequire github.com/titanframework/titanic v1.0.0\n")
	code, _, stderr = run(t, "generate", "service", "orders")
	wantUsageError(t, code, stderr, "does not require github.com/titanframework/titan")
	writeFile(t, dir, "go.mod", "module github.com/titanframework/titan\n\ngo 1.26\n")
	code, _, stderr = run(t, "generate", "service", "orders")
	wantUsageError(t, code, stderr, "is Titan itself")
	wantNothingWritten(t, dir, "go.mod")
}

// TestGenerateServiceMainShapes: the main.go shapes the registration
// handles, and those it refuses with a reason, writing nothing.
func TestGenerateServiceMainShapes(t *testing.T) {
	const reg = "titan.Service(orders.Name, orders.Version, orders.New)"
	for _, tc := range []struct {
		name, main string
		want       string // in main.go after, or in the error with err set
		err        bool
	}{
		{
			name: "one line",
			main: "package main\n\nimport \"github.com/titanframework/titan\"\n\nfunc main() { titan.New(titan.Listen(\"tcp://:1\")).Run() }\n",
			want: "titan.New(titan.Listen(\"tcp://:1\"), " + reg + ").Run()",
		},
		{
			name: "no options, single import",
			main: "package main\n\nimport \"github.com/titanframework/titan\"\n\nfunc main() {\n\ttitan.New().Run()\n}\n",
			want: "import \"github.com/titanframework/titan\"\n\nimport \"example.com/shop/orders\"\n\nfunc main() {\n\ttitan.New(" + reg + ").Run()\n}\n",
		},
		{
			name: "renamed import, app kept in a variable",
			main: "package main\n\nimport (\n\tt \"github.com/titanframework/titan\"\n)\n\nfunc main() {\n\tapp := t.New(\n\t\tt.Listen(\"tcp://:1\"),\n\t)\n\tapp.Run()\n}\n",
			want: "\tapp := t.New(\n\t\tt.Listen(\"tcp://:1\"),\n\t\tt.Service(orders.Name, orders.Version, orders.New),\n\t)\n",
		},
		{
			name: "no titan import",
			main: "package main\n\nfunc main() {}\n",
			want: "main.go does not import github.com/titanframework/titan", err: true,
		},
		{
			name: "blank import",
			main: "package main\n\nimport _ \"github.com/titanframework/titan\"\n\nfunc main() {}\n",
			want: "imports github.com/titanframework/titan as _", err: true,
		},
		{
			name: "no New call",
			main: "package main\n\nimport \"github.com/titanframework/titan\"\n\nvar _ = titan.Listen\n\nfunc main() {}\n",
			want: "main.go has no titan.New( call", err: true,
		},
		{
			name: "two New calls",
			main: "package main\n\nimport \"github.com/titanframework/titan\"\n\nfunc main() {\n\ttitan.New()\n\ttitan.New().Run()\n}\n",
			want: "main.go calls titan.New 2 times", err: true,
		},
		{
			name: "options in a slice",
			main: "package main\n\nimport \"github.com/titanframework/titan\"\n\nfunc main() {\n\topts := []titan.Option{}\n\ttitan.New(opts...).Run()\n}\n",
			want: "passes a list to titan.New", err: true,
		},
		{
			name: "last option and closing parenthesis on one line",
			main: "package main\n\nimport \"github.com/titanframework/titan\"\n\nfunc main() {\n\ttitan.New(\n\t\ttitan.Listen(\"tcp://:1\"),\n\t\ttitan.Listen(\"tcp://:2\")).Run()\n}\n",
			want: "titan.Listen(\"tcp://:2\"), " + reg + ").Run()",
		},
		{
			name: "closing parenthesis after other code",
			main: "package main\n\nimport \"github.com/titanframework/titan\"\n\nfunc main() {\n\ttitan.New(\n\t\ttitan.Listen(\"tcp://:1\"),\n\t/* end */ ).Run()\n}\n",
			want: "shares its line with other code", err: true,
		},
		{
			name: "a package named orders imported already",
			main: "package main\n\nimport (\n\t\"github.com/titanframework/titan\"\n\n\t\"example.com/lib/orders\"\n)\n\nvar _ = orders.X\n\nfunc main() { titan.New().Run() }\n",
			want: "imports example.com/lib/orders as orders already", err: true,
		},
		{
			name: "not Go",
			main: "package main\n\nfunc main() {\n",
			want: "main.go does not parse", err: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := shopProject(t, tc.main)
			before := snapshot(t, dir)
			code, _, stderr := run(t, "generate", "service", "orders")
			if tc.err {
				lines := strings.Split(strings.TrimSpace(stderr), "\n")
				if code != 1 || len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
					t.Fatalf("exit %d, stderr:\n%s\nwant 1 and one line with %q", code, stderr, tc.want)
				}
				wantUnchanged(t, dir, before)
				return
			}
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			main, err := os.ReadFile(filepath.Join(dir, "main.go"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(main), tc.want) || !strings.Contains(string(main), "orders.New)") || !strings.Contains(string(main), `"example.com/shop/orders"`) {
				t.Fatalf("main.go:\n%s\nwant it to hold %q, the import and the registration", main, tc.want)
			}
		})
	}
}

// TestGenerateServiceImportedUnderItsPackageName: an import whose path
// ends with a major version (/v2, gopkg.in's .v3) or a go- prefix brings
// the package under its name, not the path's last element; a service of
// that name would be imported under the same name, and main.go would not
// build, so it is refused as any other import of the name is.
func TestGenerateServiceImportedUnderItsPackageName(t *testing.T) {
	for _, tc := range []struct{ path, service string }{
		{"example.com/lib/orders/v2", "orders"},
		{"gopkg.in/orders.v3", "orders"},
		{"github.com/redis/go-redis/v9", "redis"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			main := "package main\n\nimport (\n\t\"github.com/titanframework/titan\"\n\n\t\"" + tc.path + "\"\n)\n\nvar _ = " + tc.service + ".X\n\nfunc main() { titan.New().Run() }\n"
			dir := shopProject(t, main)
			before := snapshot(t, dir)
			code, _, stderr := run(t, "generate", "service", tc.service)
			want := "imports " + tc.path + " as " + tc.service + " already"
			if code != 1 || !strings.Contains(stderr, want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant 1 saying %q", code, stderr, want)
			}
			wantUnchanged(t, dir, before)
		})
	}
}
