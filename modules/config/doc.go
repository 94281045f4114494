// Package config loads Titan's configuration and hands each module its typed
// section.
//
// # Sources
//
// Values come from four layers; a later layer overrides an earlier one, key
// by key:
//
//  1. defaults: the struct value each module registers with its section
//     ([NewSpec], [AsSection]), then the app's own defaults for some of its
//     keys ([Options.Defaults]: an app that listens on its own addresses
//     sets netron.listen there);
//  2. files: YAML (.yaml, .yml), JSON (.json) or TOML (.toml), in the order
//     given; when no file is given, the first of titan.yaml, titan.yml,
//     titan.json, titan.toml found in the working directory is used; a
//     YAML file holds one document (a second, after "---", is refused);
//  3. environment variables starting with the prefix (default "TITAN_");
//  4. command-line flags: --set key=value (repeatable) and --config path.
//
// # Environment variables
//
// After the prefix, a double underscore separates levels and each level is
// matched to a field of the section's schema ignoring case, "_" and "-". So
// TITAN_NETRON__REQUEST_TIMEOUT=10s sets netron.requestTimeout, and
// TITAN_LOGGER__LEVELS__NETRON=debug sets logger.levels.netron. A map key
// in a variable's name has lost its case: it sets the key that the
// defaults or a file already hold there, matched ignoring case, "_" and
// "-" (TITAN_LOGGER__LEVELS__MY_MODULE sets logger.levels.MyModule or
// logger.levels.my-module when titan.yaml names it), and is lowercased
// when none does; a key written in upper case after --set is read the same
// way. Values from the environment and from --set are strings; they
// are converted to the field's type before validation: integers, numbers and
// booleans are parsed, an array takes a JSON array or a comma-separated list,
// an object takes a JSON object. Durations stay strings ("5s") as in files.
//
// # Aliases
//
// [Options.Aliases] gives a key a second name, kept when a key is renamed:
// with "calculator.listen" an alias of "netron.listen", a value set at
// calculator.listen by a file, a variable (TITAN_CALCULATOR__LISTEN) or a
// flag is netron.listen's, and is reported with the alias's source. In a
// file or the environment it replaces what the same source set at
// netron.listen; among --set flags, which are read in order, the last one
// given wins, whichever of the two names it uses.
//
// # Validation
//
// Each section's JSON Schema is derived from its Go type (see
// internal/schema: `json` names, `jsonschema` tags for ranges, enums and
// formats; fields without omitempty are required; unknown keys are refused).
// Load validates every section and returns a [*ValidationError] listing every
// bad path with its reason and where the value came from: "titan.yaml:12",
// "env TITAN_NETRON__REQUEST_TIMEOUT", "flag --set netron.requestTimeout", or
// "default". Beyond the schema, a value must fit its Go type: an integer
// outside its type's range (10000000000000000000 for an int) and a
// duration beyond time.Duration's ("9999999999h") are problems too, never
// wrapped values. A string field tagged `config:"lowercase"` (or a map or
// slice of them) is validated lowercased, so an enum of lowercase names
// accepts any case; the module still receives the value as written.
// A top-level key that no module registered is not an error; it is
// reported by [Config.Warnings] and logged at start-up. The exception is
// `security` in an app that does not link the security module: it is a
// problem, naming the import, so that a file asking for authentication
// never runs an app without it.
//
// # Hot reload
//
// While the app runs, the files are watched. A valid change is published to
// the section's subscribers ([Config.Watch], [OnChange]); an invalid change
// is logged with every problem and the old values stay in force. Only
// sections with subscribers change while the app runs (Titan's own: the
// logger section); the changed keys of other sections are named in a
// warning, as they take effect only after a restart.
//
// # Secrets
//
// A field tagged `secret:"true"` (also in the elements of a list and the
// values of a map), and any key whose name looks secret
// (password, secret, token, apikey, private key, credential, authorization),
// is masked by [Config.Dump].
package config
