// Package cli is the command library behind the titan command.
//
// Each command lives in a file of its own and registers a constructor with
// [register] in an init function, under one of the groups of [groups]; the
// titan main package only calls [Main].
//
// # Projects
//
//	titan new NAME [--module PATH] [--template service|gateway|worker] [--titan DIR]
//
// writes a project from the templates of package templates (the files of
// _base and of the template) and completes its go.mod and go.sum with the
// go command (go mod tidy -e, then go list over every package and test),
// so that go run . and go test ./... work at once; a checkout of Titan
// (the one titan was built from, or --titan) is a replace in go.mod.
//
//	titan generate service NAME
//
// adds a package with a create/get/update/delete service to the project
// of the working directory (the nearest go.mod requiring Titan) and
// registers it in main.go: the import, and titan.Service(pkg.Name,
// pkg.Version, pkg.New) as the last argument of the one titan.New call,
// found with go/parser and inserted at its offsets, then gofmt-ed.
//
// # Talking to a running process
//
// call and inspect dial a Netron process at an address given as a URL
// (tcp://127.0.0.1:7070, unix:///run/app.sock; a bare host:port means tcp)
// with a client Netron of their own that does not reconnect; --timeout
// (default 10s, 0 for none) bounds connecting and each request; running
// out of it is "titan: deadline_exceeded: no answer within 10s (--timeout)".
//
//	titan call ADDRESS SERVICE METHOD [JSON-ARG...]
//
// looks METHOD up in SERVICE's definition (one query_interface; SERVICE is
// name@version, name@range or a bare name), then calls it with one
// positional argument per JSON-ARG and prints the result as compact JSON
// (--pretty indents), or one JSON value per line for a stream method, as
// the items arrive; a void method prints nothing. A JSON-ARG that is not
// valid JSON and does not start with {, [ or " is a string (hello is
// "hello"); one that starts with them must be valid JSON. Arguments that
// start with '-' (negative numbers) go after --.
//
//	titan inspect ADDRESS [SERVICE] [--schemas] [--json]
//
// prints every service the process lists (list_services, a Titan
// extension), or SERVICE alone, with one signature line per method derived
// from its JSON Schema contracts ("add(number, number) -> number",
// "count(integer) -> stream of integer"); --schemas adds the schemas,
// --json prints {"address", "services": [{"name", "version", "id",
// "transports", "methods": [{"name", "signature", "stream", "inputSchema",
// "outputSchema"}]}]}.
//
//	titan dev ADDRESS [--listen 127.0.0.1:7090]
//
// serves the development UI (modules/devui) of the process on this
// machine until Ctrl-C, through a client Netron of its own that reconnects
// when the process restarts: the page explores and calls its services and
// shows the events it sends.
//
// Errors of a remote operation are printed as "titan: CODE: message" with
// the Netron error code (titan: invalid_argument: division by zero). A
// server that checks callers shows each only what it may call, so a lookup
// that finds nothing says so when no --token was sent.
//
// # Minting tokens
//
//	titan token --sub SUBJECT [--roles ROLE,...] [--permissions PERM,...] [--key FILE] [--ttl 1h]
//
// prints a JWT alone on the last line of stdout, for --token. It signs
// with --key (a PEM private key, the algorithm following the key, or an
// HMAC secret file: HS256), else with the secret, secretFile or
// privateKeyFile of security.jwt in the configuration (titan.yaml or
// --config files, TITAN_* variables), else with a new HS256 secret that it
// prints on stderr, never on stdout. --ttl must be positive.
//
// # Exit codes
//
// [Main] returns 0 on success, 1 when the command failed (a call that
// returned an error, an unreachable address), 2 for bad usage (unknown
// flags, wrong argument counts, a JSON-ARG that is not valid JSON, an
// address of an unknown transport, a --registry of an unknown scheme) and
// 130 when call or inspect was interrupted by SIGINT or SIGTERM.
package cli
