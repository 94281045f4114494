// Package titantest is the testing kit of Titan: it starts apps and
// services in tests and connects clients to them, with cleanup registered
// on the test, drives time-keeping features with a fake clock, and checks
// that nothing is left running.
//
// Calls made through it go through the codec, the contracts and the
// interceptors, as in production; the in-process mem:// transport carries
// encoded bytes.
//
// # Apps
//
// [StartApp] starts an app of titan options (titan.Service, titan.Provide,
// ...) the way titan.New(...).Run() would, kept apart from the machine's
// titan.yaml and TITAN_ variables ([WithSettings] gives settings), logging
// to the test's log, and stops it when the test ends:
//
//	app := titantest.StartApp(t, titan.Service("shop", "1.0.0", NewShop))
//	p := app.Dial(t) // over mem://
//	price, err := netron.CallUnary[Price](ctx, p, "shop@^1", "price", PriceRequest{Item: "tea"})
//
// [App.Addr] gives the address of a real transport the app listens on
// (netron.listen=tcp://127.0.0.1:0 through WithSettings), for [Dial] or an
// HTTP client.
//
// # Services without an app
//
// [Serve] and [ServeAt] serve services on a bare Netron with the
// interceptors an app has ([AppFeatures]); [Server.Dial] and [Dial]
// connect to them.
//
// # Time
//
// A [Clock] moves only when the test says: give Clock.Now to
// titan.WithClock and the app's response cache and in-process rate
// limiter keep time by it, so that a test sees a result expire or a rate
// limit reopen without waiting.
//
// # Leaks
//
// [VerifyNoLeaks] fails a test that leaves goroutines running after its
// cleanups; [VerifyTestMain] does the same for a whole package, from
// TestMain.
package titantest
