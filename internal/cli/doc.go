// Package cli is the command library behind the titan command.
//
// Each command lives in a file of its own and registers a constructor with
// [register] in an init function, under one of the groups of [groups]; the
// titan main package only calls [Main]. Later commands (new, generate, call,
// inspect, services) are added the same way.
package cli
