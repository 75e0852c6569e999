//go:build tools

// Package tools pins dependencies that later parts of prestaged build on, so
// that parallel work never has to edit go.mod at the same time.
package tools

import (
	_ "github.com/anacrolix/torrent"
	_ "github.com/cenkalti/backoff/v5"
	_ "github.com/coreos/go-systemd/v22/daemon"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/google/renameio/v2"
	_ "github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb"
	_ "github.com/goreleaser/nfpm/v2/rpm"
	_ "github.com/hashicorp/hcl/v2"
	_ "github.com/minio/sha256-simd"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/smallstep/pkcs7"
	_ "github.com/spf13/cobra"
	_ "github.com/vbauerster/mpb/v8"
	_ "github.com/zclconf/go-cty/cty"
	_ "golang.org/x/time/rate"
)
