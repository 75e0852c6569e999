declaration template metaconfig/prestaged/schema;

@documentation{
    The contents of /etc/prestaged/spec.hcl, rendered by prestaged/spec.tt.
    Attribute names are the spec's; see the prestaged README for each.
}

type prestaged_absolute_path = string with match(SELF, '^/');

type prestaged_peer = {
    @{address `prestaged serve` listens on, e.g. ":7946"}
    "listen" ? string
    @{parents in the distribution tree, "host:port", tried in order}
    "parents" ? string[]
    @{cap for serving children, e.g. "900Mbit"}
    "upload_limit" ? string
    "max_children" ? long(0..)
    "pipelined" ? boolean
};

type prestaged_mirror = {
    "name" : string with match(SELF, '^[a-zA-Z][a-zA-Z0-9_-]*$')
    "url" : string with match(SELF, '^(https?|file)://')
};

type prestaged_trust = {
    "name" : string with match(SELF, '^[a-zA-Z][a-zA-Z0-9_-]*$')
    "list" : string
    "ca_dir" : prestaged_absolute_path
    "endorser_dn" : string
    "endorser_ca" : string
    "list_id" ? string
    "on_revoke" ? choice('remove', 'keep')
    @{CRLs in ca_dir: required (default), optional, or off for sites without fetch-crl}
    "crl" ? choice('required', 'optional', 'off')
};

type prestaged_image = {
    "name" : string with match(SELF, '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$')
    "sha256" ? string with match(SELF, '^[0-9a-f]{64}$')
    "size" ? long(0..)
    "path" ? string
    "install" : prestaged_absolute_path
    "sources" ? string[]
    "trust" ? string
    "id" ? string
} with {
    if (is_defined(SELF['trust']) && !is_defined(SELF['id']) ||
        !is_defined(SELF['trust']) && is_defined(SELF['id'])) {
        error(format('prestaged image %s: trust and id go together', SELF['name']));
    };
    if (!is_defined(SELF['trust']) && !(is_defined(SELF['sha256']) && is_defined(SELF['size']))) {
        error(format('prestaged image %s: needs sha256 and size, or trust and id', SELF['name']));
    };
    true;
};

type prestaged_spec = {
    "store" : prestaged_absolute_path = '/var/lib/prestaged'
    "peer" ? prestaged_peer
    "mirrors" ? prestaged_mirror[]
    "trusts" ? prestaged_trust[]
    "images" ? prestaged_image[]
};
