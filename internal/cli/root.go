package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// groups order the command list of `titan help`.
var groups = []*cobra.Group{
	{ID: "project", Title: "Projects:"},
	{ID: "services", Title: "Services:"},
	{ID: "other", Title: "Other commands:"},
}

type entry struct {
	group string
	new   func() *cobra.Command
}

var commands []entry

// register adds a command constructor under a group of [groups]. It panics
// on an unknown group, which is a programming error found at start-up.
func register(group string, newCmd func() *cobra.Command) {
	if !slices.ContainsFunc(groups, func(g *cobra.Group) bool { return g.ID == group }) {
		panic(fmt.Sprintf("cli: unknown command group %q", group))
	}
	commands = append(commands, entry{group, newCmd})
}

// exitError carries a specific exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Root builds the titan command tree writing to stdout and stderr.
func Root(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "titan",
		Short:         "Titan: build, run and call distributed Go services",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.SetOut(stdout)
	root.SetErr(stderr)
	for _, g := range groups {
		if slices.ContainsFunc(commands, func(e entry) bool { return e.group == g.ID }) {
			root.AddGroup(g)
		}
	}
	root.SetHelpCommand(newHelp())
	root.SetHelpCommandGroupID("other")
	root.SetCompletionCommandGroupID("other")
	for _, e := range commands {
		c := e.new()
		c.GroupID = e.group
		root.AddCommand(c)
	}
	return root
}

// newHelp is cobra's help command, except that an unknown topic is bad
// usage (exit 2), not a help page and success.
func newHelp() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help provides help for any command in the application.\nSimply type titan help [path to command] for full details.",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			cmd, _, err := c.Root().Find(args)
			if err != nil || cmd == nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []cobra.Completion
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					names = append(names, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd, _, err := c.Root().Find(args)
			if cmd == nil || err != nil {
				return &usageError{fmt.Errorf("unknown help topic %q", strings.Join(args, " "))}
			}
			cmd.InitDefaultHelpFlag()
			return cmd.Help()
		},
	}
}

// Main runs the titan command with args (without the program name) and
// returns the process exit code: 0 on success, 1 when the command failed,
// 2 for bad usage.
func Main(args []string, stdout, stderr io.Writer) int {
	root := Root(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "titan: %v\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if cmd == root || isUsageError(err) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return 2
	}
	return 1
}

// isUsageError tells cobra's flag and argument errors from failures.
func isUsageError(err error) bool {
	var ue *usageError
	return errors.As(err, &ue)
}

// usageError marks errors in how a command was called.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usage wraps cobra's argument validators so their errors count as usage
// errors.
func usage(args cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := args(cmd, a); err != nil {
			return &usageError{err}
		}
		return nil
	}
}
