// Package titan is an application framework for distributed services, built
// on go.uber.org/fx.
//
// An app is a set of constructors wired by type:
//
//	func main() {
//		titan.New(
//			titan.Provide(NewDatabase),
//			titan.Invoke(func(db *Database) {}),
//		).Run()
//	}
//
// [New] adds the default modules (configuration and logging) and whatever the
// options add. [App.Run] reads the configuration flags (--config, --set,
// --print-config) from the command line, starts the app, blocks until
// SIGINT or SIGTERM and stops it within the stop timeout; it exits non-zero
// when start-up or stop fails. [App.Start] and [App.Stop] do the same steps
// without touching os.Args or signals, for tests and embedding.
//
// Constructors may take *config.Config, *logger.Logger and *slog.Logger.
// Inside [Module] the *slog.Logger carries module=<name> and follows the
// level set for that module in logger.levels.
package titan
