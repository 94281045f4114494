package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/titanframework/titan/modules/config"
)

func init() { register("other", newConfig) }

func newConfig() *cobra.Command {
	var (
		opts   config.Options
		format string
	)
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print the configuration that titan.yaml and TITAN_* variables give",
		Long: `Print the configuration that the current directory's titan.yaml (or the
files given with --config), the TITAN_* environment variables and --set
values give, merged, as an app started here would read them. Module defaults
are not included (an app prints those with --print-config). Values of
secret-looking keys (password, secret, token, ...) are masked.`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "yaml" && format != "json" {
				return &usageError{fmt.Errorf("--format %q: use yaml or json", format)}
			}
			for _, kv := range opts.Sets {
				if key, _, ok := strings.Cut(kv, "="); !ok || strings.TrimSpace(key) == "" {
					return &usageError{fmt.Errorf("--set %q: want key=value", kv)}
				}
			}
			opts.NoWatch = true
			c, err := config.Load(opts)
			if err != nil {
				return err
			}
			return c.Dump(cmd.OutOrStdout(), format)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.Files, "config", nil, "configuration file to read instead of titan.yaml (repeatable)")
	f.StringArrayVar(&opts.Sets, "set", nil, "set a value, key=value (repeatable)")
	f.StringVar(&opts.EnvPrefix, "env-prefix", config.DefaultEnvPrefix, "prefix of the environment variables to read")
	f.StringVar(&format, "format", "yaml", "output format: yaml or json")
	return cmd
}
