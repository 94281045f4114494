package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/titanframework/titan"
)

func init() { register("other", newVersion) }

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the Titan version",
		Args:  usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "titan %s %s %s/%s\n", titan.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
