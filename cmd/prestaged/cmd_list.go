package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/prestaged/prestaged/engine/trust"
	"github.com/prestaged/prestaged/spec"
)

// newListCmd is the endorser's side of HEPiX image lists, and `verify` for
// anyone who wants to see why a list is accepted or refused.
func newListCmd() *cobra.Command {
	c := newGroup("list", "Make, sign and verify HEPiX image lists (endorsers)",
		newListNewCmd(), newListAddImageCmd(), newListSignCmd(), newListVerifyCmd())
	c.Long = `An endorser publishes a signed HEPiX image list; hosts with a trust block
install only what it endorses.

  prestaged list new --title "CERN batch images" --uri https://x/cern.list > cern.json
  prestaged list add-image cern.json slc6-batch.img --id slc6-batch --title "SLC6 batch"
  prestaged list sign cern.json --cert endorser.pem --key endorser.key > cern.list
  prestaged list verify cern.list --ca-dir /etc/grid-security/certificates`
	return c
}

func newListNewCmd() *cobra.Command {
	var o trust.NewListOptions
	c := newVerb("new", "Print a new, empty, unsigned image list", cobra.NoArgs, func(c *cobra.Command, _ []string) error {
		b, err := trust.NewList(o).MarshalIndent()
		if err != nil {
			return err
		}
		_, err = c.OutOrStdout().Write(b)
		return err
	})
	f := c.Flags()
	f.StringVar(&o.ID, "id", "", "the list's dc:identifier (default: a new UUID)")
	f.StringVar(&o.Title, "title", "", "dc:title")
	f.StringVar(&o.Description, "description", "", "dc:description")
	f.StringVar(&o.Source, "source", "", "dc:source, e.g. the endorsing site")
	f.StringVar(&o.URI, "uri", "", "hv:uri: the URL subscribers fetch the list from")
	f.StringVar(&o.Creator, "creator", "", "the endorser's name (default: the signing certificate's CN)")
	f.StringVar(&o.Email, "email", "", "the endorser's e-mail address")
	return c
}

func newListAddImageCmd() *cobra.Command {
	var o trust.ImageOptions
	c := newVerb("add-image LIST IMAGEFILE", "Hash an image (size, sha512 and sha256 in one pass) and add it to a list", cobra.ExactArgs(2), func(c *cobra.Command, args []string) error {
		return runListAddImage(c, args[0], args[1], o)
	})
	c.Long = `Hash IMAGEFILE once for its size, sha512 (what every subscriber checks) and
sha256 (what prestaged addresses blobs by), and add or replace the image with
that identifier in LIST, which is rewritten in place. Sign the list afterwards.`
	f := c.Flags()
	f.StringVar(&o.ID, "id", "", "the image's dc:identifier (required; reuse it for new versions of the image)")
	f.StringVar(&o.Title, "title", "", "dc:title (required)")
	f.StringVar(&o.Description, "description", "", "dc:description")
	f.StringVar(&o.URI, "uri", "", "hv:uri: where subscribers download the image")
	f.StringVar(&o.Version, "version", "", `hv:version (default "1", bumped when the file changes)`)
	f.StringVar(&o.Arch, "arch", "", "sl:arch, e.g. x86_64")
	f.StringVar(&o.OS, "os", "", "sl:os, e.g. Linux")
	f.StringVar(&o.OSVersion, "osversion", "", "sl:osversion")
	f.StringVar(&o.Comments, "comments", "", "sl:comments")
	f.StringVar(&o.Hypervisor, "hypervisor", "", "hv:hypervisor, e.g. kvm")
	_ = c.MarkFlagRequired("id")
	_ = c.MarkFlagRequired("title")
	return c
}

func runListAddImage(c *cobra.Command, path, image string, o trust.ImageOptions) error {
	l, err := trust.ReadListFile(path)
	if err != nil {
		return err
	}
	im, err := trust.AddImage(c.Context(), l, image, o)
	if err != nil {
		return err
	}
	if err := trust.WriteListFile(path, l); err != nil {
		return err
	}
	fmt.Fprintf(c.OutOrStdout(), "%s: image %s version %s, %s, sha512:%.12s sha256:%.12s\n",
		path, im.ID, im.Version, spec.FormatBytes(im.Size), im.SHA512, im.SHA256)
	return nil
}

func newListSignCmd() *cobra.Command {
	var certPath, keyPath string
	var days int
	c := newVerb("sign LIST --cert CERT --key KEY > LIST.smime", "Bump the version, date and sign a list as S/MIME", cobra.ExactArgs(1), func(c *cobra.Command, args []string) error {
		return runListSign(c, args[0], certPath, keyPath, days)
	})
	c.Long = `Raise LIST's hv:version, set dc:date:created to now and dc:date:expires --days
later, name the certificate's subject and issuer as the endorser, and print the
list signed as detached S/MIME (SHA-256), which 'openssl smime -verify' accepts.
LIST is rewritten with the new version and dates, so the next sign raises it again.`
	c.Flags().StringVar(&certPath, "cert", "", "the endorser's PEM certificate (required)")
	c.Flags().StringVar(&keyPath, "key", "", "its unencrypted PEM private key (required)")
	c.Flags().IntVar(&days, "days", 30, "days until the list expires; hosts drop its images after that")
	_ = c.MarkFlagRequired("cert")
	_ = c.MarkFlagRequired("key")
	return c
}

func runListSign(c *cobra.Command, path, certPath, keyPath string, days int) error {
	l, signed, err := trust.SignFile(path, certPath, keyPath, time.Duration(days)*24*time.Hour, time.Now())
	if err != nil {
		return err
	}
	if _, err := c.OutOrStdout().Write(signed); err != nil {
		return err
	}
	fmt.Fprintf(c.ErrOrStderr(), "%s: signed hv:version %s by %s, expires %s\n",
		path, l.Version, l.Endorser.DN, l.Expires.Format(time.RFC3339))
	return nil
}

// listVerifyJSON is the stable --json object of `list verify`.
type listVerifyJSON struct {
	File     string        `json:"file"`
	Accepted bool          `json:"accepted"` // no check failed (skipped ones aside)
	Format   string        `json:"format,omitempty"`
	Signer   string        `json:"signer,omitempty"`
	Issuer   string        `json:"issuer,omitempty"`
	Checks   []trust.Check `json:"checks"`
	List     *trust.List   `json:"list,omitempty"` // the hv:imagelist document as read
}

func newListVerifyCmd() *cobra.Command {
	var pol trust.Policy
	var asJSON bool
	c := newVerb("verify FILE", "Check a signed list and print the verdict of every check", cobra.ExactArgs(1), func(c *cobra.Command, args []string) error {
		return runListVerify(c, args[0], pol, asJSON)
	})
	c.Long = `Read a signed list (S/MIME detached or opaque, PKCS#7 DER or PEM; "-" for
standard input), print it, its signer and each check's verdict. Without
--ca-dir the chain and CRL checks are skipped, not failed. Every certificate
of the chain is checked against its issuer's CRL in --ca-dir (--crl as a trust
block's crl attribute). Exits 1 when a check failed.`
	f := c.Flags()
	f.StringVar(&pol.CADir, "ca-dir", "", "OpenSSL hashed CA directory, e.g. /etc/grid-security/certificates")
	f.StringVar(&pol.EndorserDN, "endorser-dn", "", "required signer subject, e.g. /C=CH/O=CERN/CN=image-endorser")
	f.StringVar(&pol.EndorserCA, "endorser-ca", "", "required signer issuer")
	f.StringVar(&pol.ListID, "list-id", "", "required dc:identifier of the list")
	f.BoolVar(&pol.AllowSHA1, "allow-sha1", false, "accept SHA-1 signatures (old lists)")
	f.StringVar(&pol.CRL, "crl", spec.CRLRequired, `CRLs in --ca-dir: "required" (every CA's, current), "optional" (a CA may have none) or "off"`)
	addJSONFlag(c, &asJSON)
	return c
}

func runListVerify(c *cobra.Command, file string, pol trust.Policy, asJSON bool) error {
	if !slices.Contains(spec.CRLModes, pol.CRL) {
		return fmt.Errorf("list verify: --crl must be %s, got %q", strings.Join(spec.CRLModes, ", "), pol.CRL)
	}
	raw, err := readFileOrStdin(c, file)
	if err != nil {
		return err
	}
	pol.ListURL = file
	r := trust.Inspect(raw, pol, time.Now())
	if asJSON {
		err = writeJSON(c.OutOrStdout(), listVerifyJSON{File: file, Accepted: r.Accepted(),
			Format: string(r.Format), Signer: r.SignerDN, Issuer: r.IssuerDN, Checks: r.Checks, List: r.List})
	} else {
		err = printReport(c.OutOrStdout(), r)
	}
	if err != nil {
		return err
	}
	if !r.Accepted() {
		return &exitError{code: 1}
	}
	return nil
}

func readFileOrStdin(c *cobra.Command, path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(c.InOrStdin())
	}
	return os.ReadFile(path)
}

func printReport(w io.Writer, r *trust.Report) error {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	if l := r.List; l != nil {
		p("List:    %q  dc:identifier %s  hv:version %s\n", l.Title, l.ID, l.Version)
		p("         created %s, expires %s\n", l.Created.Format(time.RFC3339), l.Expires.Format(time.RFC3339))
	}
	if r.Signer != nil {
		p("Signer:  %s\nIssuer:  %s\n", r.SignerDN, r.IssuerDN)
	}
	p("\nChecks:\n")
	var failed, skipped []string
	for _, ch := range r.Checks {
		verdict := "ok"
		switch {
		case ch.Skipped:
			verdict, skipped = "skip", append(skipped, ch.Name)
		case !ch.OK:
			verdict, failed = "FAIL", append(failed, ch.Name)
		}
		p("  %-4s  %-20s  %s\n", verdict, ch.Name, ch.Detail)
	}
	if l := r.List; l != nil {
		p("\nImages (%d):\n", len(l.Images))
		for _, im := range l.Images {
			p("  %-38s  %9s  sha512:%.12s  v%s  %s\n", im.ID, spec.FormatBytes(im.Size), im.SHA512, im.Version, im.Title)
		}
	}
	switch {
	case len(failed) > 0:
		p("\nRefused: %d check(s) failed: %s.\n", len(failed), strings.Join(failed, ", "))
	case len(skipped) > 0:
		p("\nNo check failed; not checked: %s (give --ca-dir).\n", strings.Join(skipped, ", "))
	default:
		p("\nAccepted: every check passed.\n")
	}
	return nil
}
