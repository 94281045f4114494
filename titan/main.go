// Command titan creates, inspects and calls Titan services.
//
// Run `titan help` for the commands.
package main

import (
	"os"

	"github.com/titanframework/titan/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
