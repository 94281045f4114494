package titan

// DevUI turns on the development UI (modules/devui): a page to explore
// and call the app's services, watch its events and see its peers and
// metrics, served under /_titan/ on every http:// listener of the app (or
// on its own server at devui.listen). It sets the app's default for
// devui.enabled, as WithConfigDefault does: a configuration file,
// TITAN_DEVUI__ENABLED or --set devui.enabled=false still turns it off. It
// is an app-level option. Without it the UI is off unless devui.enabled
// says otherwise.
func DevUI() Option { return configDefault("DevUI()", "devui.enabled", true) }
