package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Flags are the configuration flags an app accepts on its command line.
type Flags struct {
	// Files come from --config (repeatable).
	Files []string
	// Sets come from --set key=value (repeatable).
	Sets []string
	// PrintConfig is --print-config: print the effective configuration and
	// exit. Like a boolean flag of package flag, it takes a value only in
	// the --print-config=value form, one strconv.ParseBool reads (false, 0,
	// true, ...).
	PrintConfig bool
}

// ParseFlags picks --config, --set and --print-config (also in the
// --flag=value form) out of args and ignores everything else, so an app can
// keep flags of its own. Parsing stops at "--".
func ParseFlags(args []string) (Flags, error) {
	var f Flags
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		name, val, hasVal := strings.Cut(a, "=")
		switch name {
		case "--config", "-config", "--set", "-set":
			if !hasVal {
				if i+1 >= len(args) || strings.HasPrefix(args[i+1], "-") {
					return f, fmt.Errorf("flag %s needs a value", name)
				}
				i++
				val = args[i]
			}
			if strings.TrimLeft(name, "-") == "config" {
				if val == "" {
					return f, fmt.Errorf("flag %s needs a file path", name)
				}
				f.Files = append(f.Files, val)
			} else {
				if !strings.Contains(val, "=") {
					return f, fmt.Errorf("flag %s %q: want key=value", name, val)
				}
				f.Sets = append(f.Sets, val)
			}
		case "--print-config", "-print-config":
			if !hasVal {
				f.PrintConfig = true
				break
			}
			b, err := strconv.ParseBool(val) // as the flag package reads a boolean flag
			if err != nil {
				return f, fmt.Errorf("flag %s=%s: want true or false, or no value", name, val)
			}
			f.PrintConfig = b
		}
	}
	return f, nil
}
