package spec

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
)

type rawTrust struct {
	Name       string      `hcl:"name,label"`
	NameAt     hcl.Range   `hcl:"name,label_range"`
	List       string      `hcl:"list"`
	CADir      string      `hcl:"ca_dir"`
	EndorserDN string      `hcl:"endorser_dn"`
	EndorserCA string      `hcl:"endorser_ca"`
	ListID     string      `hcl:"list_id,optional"`
	OnRevoke   string      `hcl:"on_revoke,optional"`
	AllowSHA1  bool        `hcl:"allow_sha1,optional"`
	CRL        string      `hcl:"crl,optional"`
	Subscribe  bool        `hcl:"subscribe,optional"`
	InstallDir string      `hcl:"install_dir,optional"`
	Defaults   *rawInstall `hcl:"defaults,block"`
	Body       hcl.Body    `hcl:",body"`
	DefRange   hcl.Range   `hcl:",def_range"`
}

// What happens to an installed image its trust list no longer endorses.
const (
	OnRevokeRemove = "remove"
	OnRevokeKeep   = "keep"
)

// How a trust block checks certificates against the CRLs in its ca_dir.
const (
	CRLRequired = "required" // every CA of the chain needs a current CRL (default)
	CRLOptional = "optional" // a CA without a CRL is accepted; an expired or revoking CRL still refuses
	CRLOff      = "off"      // no revocation check, for sites without fetch-crl
)

// CRLModes are the values of a trust block's crl attribute.
var CRLModes = []string{CRLRequired, CRLOptional, CRLOff}

// listSchemes are where a signed image list may be fetched from.
var listSchemes = []string{"http", "https", "file"}

func (v *validator) trusts(raws []*rawTrust) []*Trust {
	return namedBlocks(v, "trust", raws, func(r *rawTrust) (string, hcl.Range) { return r.Name, r.NameAt }, v.trust)
}

func (v *validator) trust(raw *rawTrust) *Trust {
	t := &Trust{
		Name: raw.Name, EndorserDN: raw.EndorserDN, EndorserCA: raw.EndorserCA,
		ListID: raw.ListID, OnRevoke: OnRevokeRemove, AllowSHA1: raw.AllowSHA1, CRL: CRLRequired, Range: raw.DefRange,
	}
	t.List = v.locationAt(at(raw.Body, "list"), raw.List, listSchemes, false,
		"Invalid image list URL", fmt.Sprintf("The list of trust %q", raw.Name))
	if where := at(raw.Body, "ca_dir"); present(where) {
		if raw.CADir == "" {
			v.errorf(where, "Empty ca_dir", "Trust %q needs the directory of CA certificates and CRLs that signatures must chain to.", raw.Name)
		} else {
			t.CADir = v.path(raw.CADir)
		}
	}
	for _, at := range []struct {
		value, attr string
		at          hcl.Range
	}{{raw.EndorserDN, "endorser_dn", at(raw.Body, "endorser_dn")}, {raw.EndorserCA, "endorser_ca", at(raw.Body, "endorser_ca")}} {
		if present(at.at) && at.value == "" {
			v.errorf(at.at, "Empty "+at.attr, "Trust %q must name whom its list is signed by; an empty %s would match nothing.", raw.Name, at.attr)
		}
	}
	if where := at(raw.Body, "on_revoke"); present(where) {
		switch raw.OnRevoke {
		case OnRevokeRemove, OnRevokeKeep:
			t.OnRevoke = raw.OnRevoke
		default:
			v.errorf(where, "Invalid on_revoke", "on_revoke must be %q or %q, got %q.%s",
				OnRevokeRemove, OnRevokeKeep, raw.OnRevoke, suggest(raw.OnRevoke, []string{OnRevokeRemove, OnRevokeKeep}))
		}
	}
	v.subscription(raw, t)
	if where := at(raw.Body, "crl"); present(where) {
		if slices.Contains(CRLModes, raw.CRL) {
			t.CRL = raw.CRL
		} else {
			v.errorf(where, "Invalid crl", "crl must be %q, %q or %q, got %q.%s",
				CRLRequired, CRLOptional, CRLOff, raw.CRL, suggest(raw.CRL, CRLModes))
		}
	}
	return t
}

// subscription checks subscribe, install_dir and the defaults block.
func (v *validator) subscription(raw *rawTrust, t *Trust) {
	t.Subscribe, t.Defaults = raw.Subscribe, defaultInstall
	if raw.Defaults != nil {
		t.Defaults = v.installOptions(*raw.Defaults, raw.Defaults.Body, fmt.Sprintf("trust %q defaults", raw.Name), defaultInstall)
	}
	where := at(raw.Body, "install_dir")
	switch {
	case raw.Subscribe && !present(where):
		v.errorf(raw.DefRange, "Missing install_dir", "Trust %q subscribes to its whole list and needs install_dir, where each image lands as <install_dir>/<dc:identifier>.", raw.Name)
	case present(where) && raw.InstallDir == "":
		v.errorf(where, "Empty install_dir", "install_dir of trust %q must be a directory.", raw.Name)
	case present(where) && !raw.Subscribe:
		v.errorf(where, "install_dir without subscribe", "install_dir of trust %q is where a subscription installs; add subscribe = true or remove it.", raw.Name)
	case present(where):
		t.InstallDir = v.path(raw.InstallDir)
	}
	if raw.Defaults != nil && !raw.Subscribe {
		v.errorf(raw.Defaults.Body.MissingItemRange(), "defaults without subscribe", "The defaults of trust %q apply to the images of a subscription; add subscribe = true or remove them.", raw.Name)
	}
}
