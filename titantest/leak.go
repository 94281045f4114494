package titantest

import (
	"testing"

	"go.uber.org/goleak"
)

// Titan needs no goleak ignore list: a stopped app, its listeners (tcp,
// ws, http, nats, mem), the peers dialled to it and the NATS server of
// package embedded leave no goroutine behind (TestAppLeavesNothing and
// TestAppOverNATSLeavesNothing check it), so the helpers below pass the
// caller's options alone.

// VerifyNoLeaks fails the test when goroutines that started during it are
// still running once its cleanups have run: call it first in the test,
// before [StartApp], [Serve] or [Dial], so that its check runs after they
// have stopped. Goroutines running when it is called are not counted.
// goleak waits a little for goroutines that are ending. It sees every
// goroutine of the process, so it does not suit tests that run in
// parallel with others (t.Parallel); use [VerifyTestMain] there.
func VerifyNoLeaks(tb testing.TB, opts ...goleak.Option) {
	tb.Helper()
	all := append([]goleak.Option{goleak.IgnoreCurrent()}, opts...)
	tb.Cleanup(func() {
		if err := goleak.Find(all...); err != nil {
			tb.Errorf("titantest: goroutines left running after the test: %v", err)
		}
	})
}

// VerifyTestMain runs the package's tests and then fails the run when
// goroutines are left running:
//
//	func TestMain(m *testing.M) { titantest.VerifyTestMain(m) }
//
// It exits the process. opts add goleak options, such as
// goleak.IgnoreTopFunction for a library of the app's own that keeps a
// goroutine for the life of the process.
func VerifyTestMain(m *testing.M, opts ...goleak.Option) {
	goleak.VerifyTestMain(m, opts...)
}
