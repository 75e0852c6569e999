package main

import "github.com/spf13/cobra"

func newVerifyCmd() *cobra.Command {
	var f applyFlags
	c := newSpecVerb("verify", "Rehash every installed image and blob, and repair what is wrong", func(c *cobra.Command, path string) error {
		return runApply(c, path, f, true)
	})
	c.Long = `Rehash every installed image and every blob in the store (apply trusts the
recorded size, mtime and inode instead), remove corrupt blobs, and repair
corrupt or missing images by fetching and installing them again.
Exit codes as apply.`
	addApplyFlags(c, &f)
	return c
}
