declaration template metaconfig/prestaged/schema;

@documentation{
    The contents of /etc/prestaged/spec.hcl, rendered by prestaged/spec.tt.
    Attribute names are the spec's; see the prestaged README for each.
}

type prestaged_absolute_path = string with match(SELF, '^/');

type prestaged_duration = string with match(SELF, '^([0-9.]+(ns|us|ms|s|m|h))+$');

@{what a published image is: a disk format or a compression}
type prestaged_format = choice('raw', 'qcow2', 'vmdk', 'ova', 'gz', 'xz', 'zst', 'bz2');

@{what lands at an image's install path}
type prestaged_install_format = choice('raw', 'qcow2', 'published');

@{a user or group: a name known on the host, or a numeric id}
type prestaged_owner = string with match(SELF, '^([0-9]+|[A-Za-z_][A-Za-z0-9_.@-]*[$]?)$');

@{octal permission bits, e.g. "0640"}
type prestaged_mode = string with match(SELF, '^[0-7]{3,4}$');

@{what apply does with an install a consumer changed}
type prestaged_on_change = choice('restore', 'keep');

type prestaged_peer = {
    @{address `prestaged serve` listens on, e.g. ":7946"}
    "listen" ? string
    @{parents in the distribution tree, "host:port", tried in order}
    "parents" ? string[]
    @{instead of parents: one host list shipped to every host, which computes the same tree}
    "hosts" ? string[]
    @{children per host in the computed tree (1 is a chain)}
    "fanout" ? long(1..)
    @{this host's entry in hosts}
    "self" ? string
    @{cap for serving children, e.g. "900Mbit"}
    "upload_limit" ? string
    "max_children" ? long(0..)
    "pipelined" ? boolean
} with {
    if (is_defined(SELF['parents']) && is_defined(SELF['hosts'])) {
        error('prestaged peer: set either parents or hosts, fanout and self, not both');
    };
    true;
};

type prestaged_torrent = {
    @{where the BitTorrent client listens, e.g. ":6881"}
    "listen" ? string
    @{announce URL: http, https or udp}
    "tracker" ? string with match(SELF, '^(https?|udp)://')
    @{dial the tree's hosts directly (needs a peer block)}
    "peers_from_tree" ? boolean
    @{the image's mirrors seed the swarm over HTTP (default true)}
    "web_seed" ? boolean
};

type prestaged_mirror = {
    "name" : string with match(SELF, '^[a-zA-Z][a-zA-Z0-9_-]*$')
    "url" : string with match(SELF, '^(https?|file)://')
};

@{the install attributes of a subscribing trust's images, as an image gives them}
type prestaged_defaults = {
    "format" ? prestaged_format
    "install_format" ? prestaged_install_format
    "owner" ? prestaged_owner
    "group" ? prestaged_owner
    "mode" ? prestaged_mode
    "on_change" ? prestaged_on_change
};

type prestaged_trust = {
    "name" : string with match(SELF, '^[a-zA-Z][a-zA-Z0-9_-]*$')
    "list" : string
    "ca_dir" : prestaged_absolute_path
    "endorser_dn" : string
    "endorser_ca" : string
    "list_id" ? string
    "on_revoke" ? choice('remove', 'keep')
    @{accept old lists signed with SHA-1}
    "allow_sha1" ? boolean
    @{CRLs in ca_dir: required (default), optional, or off for sites without fetch-crl}
    "crl" ? choice('required', 'optional', 'off')
    @{install every image of the list, each at <install_dir>/<dc:identifier>}
    "subscribe" ? boolean
    @{with subscribe: the directory the list's images land in}
    "install_dir" ? prestaged_absolute_path
    @{with subscribe: the install attributes of the list's images}
    "defaults" ? prestaged_defaults
} with {
    if (is_defined(SELF['subscribe']) && SELF['subscribe'] && !is_defined(SELF['install_dir'])) {
        error(format('prestaged trust %s: subscribe needs install_dir', SELF['name']));
    };
    if ((is_defined(SELF['install_dir']) || is_defined(SELF['defaults'])) &&
        !(is_defined(SELF['subscribe']) && SELF['subscribe'])) {
        error(format('prestaged trust %s: install_dir and defaults go with subscribe = true', SELF['name']));
    };
    true;
};

type prestaged_image = {
    "name" : string with match(SELF, '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$')
    "sha256" ? string with match(SELF, '^[0-9a-fA-F]{64}$')
    "sha512" ? string with match(SELF, '^[0-9a-fA-F]{128}$')
    "size" ? long(1..)
    "path" ? string
    "install" : prestaged_absolute_path
    "sources" ? string[]
    "trust" ? string
    "id" ? string
    @{the image's .torrent: http, https or file}
    "torrent_url" ? string
    @{the torrent's BitTorrent v1 info-hash}
    "infohash" ? string with match(SELF, '^[0-9a-fA-F]{40}$')
    @{what the published file is (default: the list's hv:format, else path's extension)}
    "format" ? prestaged_format
    @{what lands at install (default published, the bytes as published)}
    "install_format" ? prestaged_install_format
    "owner" ? prestaged_owner
    "group" ? prestaged_owner
    @{default "0644"}
    "mode" ? prestaged_mode
    @{default restore}
    "on_change" ? prestaged_on_change
} with {
    if (is_defined(SELF['trust']) && !is_defined(SELF['id']) ||
        !is_defined(SELF['trust']) && is_defined(SELF['id'])) {
        error(format('prestaged image %s: trust and id go together', SELF['name']));
    };
    if (is_defined(SELF['sha256']) && is_defined(SELF['sha512'])) {
        error(format('prestaged image %s: give sha256 or sha512, not both', SELF['name']));
    };
    if (!is_defined(SELF['trust']) && !((is_defined(SELF['sha256']) || is_defined(SELF['sha512'])) && is_defined(SELF['size']))) {
        error(format('prestaged image %s: needs sha256 or sha512 and size, or trust and id', SELF['name']));
    };
    true;
};

@{what a hook runs after}
type prestaged_event = choice('install', 'replace', 'remove');

@{a command run after an image is installed, replaced or removed}
type prestaged_hook = {
    "name" : string with match(SELF, '^[a-zA-Z][a-zA-Z0-9_-]*$')
    @{the program, by its absolute path, then its arguments}
    "command" : string[1..] with match(SELF[0], '^/')
    @{the events it runs after (default all three)}
    "on" ? prestaged_event[1..]
    @{a hook still running then is killed, default "60s"}
    "timeout" ? prestaged_duration
};

type prestaged_spec = {
    "store" : prestaged_absolute_path = '/var/lib/prestaged'
    @{less progress than 64 KiB in this long is a stall, e.g. "30s"}
    "stall_timeout" ? prestaged_duration
    @{images fetched at once}
    "parallel" ? long(1..)
    "peer" ? prestaged_peer
    "mirrors" ? prestaged_mirror[]
    "trusts" ? prestaged_trust[]
    "torrent" ? prestaged_torrent
    "images" ? prestaged_image[]
    @{run in this order}
    "hooks" ? prestaged_hook[]
};
