package main

import "github.com/spf13/cobra"

func newVerifyCmd() *cobra.Command {
	c, _ := newApplyVerb("verify", "Rehash every installed image and blob, and repair what is wrong", true)
	c.Long = `Rehash every installed image and every blob in the store (apply trusts the
recorded size, mtime and inode instead), remove corrupt blobs, and repair
corrupt or missing images by fetching and installing them again.
Exit codes as apply.`
	return c
}
