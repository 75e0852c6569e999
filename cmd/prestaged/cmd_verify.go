package main

import "github.com/spf13/cobra"

func newVerifyCmd() *cobra.Command {
	var f applyFlags
	c := &cobra.Command{
		Use:   "verify [SPEC]",
		Short: "Rehash every installed image and blob, and repair what is wrong",
		Long: `Rehash every installed image and every blob in the store (apply trusts the
recorded size, mtime and inode instead), remove corrupt blobs, and repair
corrupt or missing images by fetching and installing them again.
Exit codes as apply.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return runApply(c, specArg(args), f, true)
		},
	}
	addApplyFlags(c, &f)
	return c
}
