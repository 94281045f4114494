package titan_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/fx"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/logger"
)

type Store struct{}
type Cache struct{}
type Users struct{}
type Orders struct{}

type UsersClient struct {
	Get func(ctx context.Context, id int) (string, error)
}

func (*Users) Get(_ context.Context, id int) (string, error)  { return "", nil }
func (*Orders) Get(_ context.Context, id int) (string, error) { return "", nil }

func NewUsers(*Store) *Users                    { return &Users{} }
func NewUsersCached(*Store, *Cache) *Users      { return &Users{} }
func NewStoreAgain() *Store                     { return &Store{} }
func NewStore(*DB) *Store                       { return &Store{} }
func NewOrders(*Store, UsersClient) *Orders     { return &Orders{} }
func NewOrdersByPtr(*UsersClient) *Orders       { return &Orders{} }
func NewFailingUsers() (*Users, error)          { return nil, fmt.Errorf("users table: %w", os.ErrNotExist) }
func NewServiceNeedsStore(*Store) *Service      { return &Service{} }
func NewServiceNeedsClient(UsersClient) *Orders { return &Orders{} }

var position = regexp.MustCompile(`\((\w+_test\.go):\d+\)`)

// TestStartupErrorMessage pins the error of an app that cannot be built,
// one line: what is missing, who needs it, for which service.
func TestStartupErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []titan.Option
		want string
	}{
		{"service constructor", []titan.Option{titan.Service("users", "1.0.0", NewUsers)},
			"titan: start-up failed: service users@1.0.0: titan_test.NewUsers (startup_test.go:N) needs *titan_test.Store, which nothing provides"},
		{"service constructor, two types", []titan.Option{titan.Service("users", "1.0.0", NewUsersCached)},
			"titan: start-up failed: service users@1.0.0: titan_test.NewUsersCached (startup_test.go:N) needs *titan_test.Store and *titan_test.Cache, which nothing provides"},
		{"what a service needs", []titan.Option{titan.Provide(NewStore), titan.Module("users", titan.Service("users", "1.0.0", NewUsers))},
			"titan: start-up failed: service users@1.0.0: titan_test.NewStore (startup_test.go:N) needs *titan_test.DB, which nothing provides"},
		{"service constructor error", []titan.Option{titan.Service("users", "1.0.0", NewFailingUsers)},
			"titan: start-up failed: service users@1.0.0: titan_test.NewFailingUsers (startup_test.go:N): users table: file does not exist"},
		{"annotated constructor error", []titan.Option{titan.Provide(fx.Annotate(NewFailingUsers, fx.ResultTags(`name:"u"`))),
			titan.Invoke(fx.Annotate(func(*Users) {}, fx.ParamTags(`name:"u"`)))},
			"titan: start-up failed: users table: file does not exist"},
		{"titan.Provide", []titan.Option{titan.Provide(NewServiceNeedsStore), titan.Invoke(func(*Service) {})},
			"titan: start-up failed: titan_test.NewServiceNeedsStore (startup_test.go:N) needs *titan_test.Store, which nothing provides"},
		{"remote client not declared", []titan.Option{titan.Provide(NewServiceNeedsClient), titan.Invoke(func(*Orders) {})},
			"titan: start-up failed: titan_test.NewServiceNeedsClient (startup_test.go:N) needs titan_test.UsersClient, which nothing provides (to call a remote service with it, add titan.Remote[titan_test.UsersClient](target))"},
		{"remote client in a service", []titan.Option{titan.Supply(&Store{}), titan.Service("orders", "1.0.0", NewOrders)},
			"titan: start-up failed: service orders@1.0.0: titan_test.NewOrders (startup_test.go:N) needs titan_test.UsersClient, which nothing provides (to call a remote service with it, add titan.Remote[titan_test.UsersClient](target))"},
		{"remote client by pointer", []titan.Option{
			titan.Remote[UsersClient]("users@^1", titan.At("tcp://127.0.0.1:1")),
			titan.Service("orders", "1.0.0", NewOrdersByPtr)},
			"titan: start-up failed: service orders@1.0.0: titan_test.NewOrdersByPtr (startup_test.go:N) needs *titan_test.UsersClient, which nothing provides (*titan_test.UsersClient: did you mean titan_test.UsersClient?)"},
		{"provided twice", []titan.Option{titan.Provide(NewStore, NewStoreAgain)},
			"titan: start-up failed: cannot provide function titan_test.NewStoreAgain (startup_test.go:N): cannot provide *titan_test.Store from [0]: already provided by titan_test.NewStore (startup_test.go:N)"},
		{"not a function", []titan.Option{titan.Provide(42)},
			"titan: start-up failed: must provide constructor function, got 42 (type int)"},
		{"bad configuration", []titan.Option{titan.WithConfig(quiet("netron.maxDepth=3"))},
			"titan: start-up failed: config: invalid value: netron.maxDepth: want at least 8, got 3 (from flag --set netron.maxDepth)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := &testsrv.LogBuffer{}
			opts := append([]titan.Option{
				titan.WithConfig(quiet("logger.format=json")),
				titan.WithLogger(logger.WithWriter(buf)),
			}, tt.opts...)
			err := titan.New(opts...).Err()
			if err == nil {
				t.Fatal("the app was built")
			}
			if got := position.ReplaceAllString(err.Error(), "($1:N)"); got != tt.want {
				t.Errorf("error:\n got %s\nwant %s", got, tt.want)
			}
			if tt.name == "service constructor error" && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("errors.Is(%v, os.ErrNotExist) = false", err)
			}
			if recs := logRecords(t, buf); len(recs) != 0 {
				t.Errorf("logged at the default level: %v", recs)
			}
		})
	}
}

// TestStartupErrorDetailAtDebug: fx's own account of the failure (the chain
// of what was being built) is logged at debug level only.
func TestStartupErrorDetailAtDebug(t *testing.T) {
	t.Parallel()
	buf := &testsrv.LogBuffer{}
	err := titan.New(
		titan.WithConfig(quiet("logger.format=json", "logger.levels.fx=debug")),
		titan.WithLogger(logger.WithWriter(buf)),
		titan.Service("users", "1.0.0", NewUsers),
	).Err()
	if err == nil {
		t.Fatal("the app was built")
	}
	var detail string
	for _, r := range logRecords(t, buf) {
		if e, _ := r["error"].(string); r["level"] == "DEBUG" && strings.Contains(e, "could not build value group") {
			detail = e
		}
	}
	if !strings.Contains(detail, "missing type: *titan_test.Store") {
		t.Fatalf("no debug record with fx's chain; the last: %q", detail)
	}
}

// TestStartupErrorKeepsTheConstructorsMessage: the error a constructor
// returned is carried as it is; only the names dig gives functions and
// files are shortened, not quoted paths or names in the constructor's
// own message.
func TestStartupErrorKeepsTheConstructorsMessage(t *testing.T) {
	t.Parallel()
	for _, msg := range []string{
		`read "/etc/app/db.yaml". Check the file`,
		`table "public"."users" does not exist`,
		`driver "github.com/lib/pq".Open failed`,
		`dial (/srv/app/handler.go:12) failed`,
	} {
		err := titan.New(titan.WithConfig(quiet()),
			titan.Provide(func() (*Store, error) { return nil, errors.New(msg) }),
			titan.Invoke(func(*Store) {}),
		).Err()
		if err == nil || !strings.HasSuffix(err.Error(), ": "+msg) {
			t.Errorf("error %v; want it to end with the constructor's %q", err, msg)
		}
		err = titan.New(titan.WithConfig(quiet()), titan.Invoke(func() error { return errors.New(msg) })).Err()
		if err == nil || !strings.HasSuffix(err.Error(), ": "+msg) {
			t.Errorf("error %v; want it to end with the invoked function's %q", err, msg)
		}
	}
}
