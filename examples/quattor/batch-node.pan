@{
    Example: a batch node that stages one image from its parents in the
    distribution tree, falling back to the central mirror. Include it from
    a host profile; the same data as JSON is batch-node.json, which the
    prestaged tests render with metaconfig/prestaged/spec.tt and check
    with `prestaged validate`.
}
template site/prestaged/batch-node;

include 'metaconfig/prestaged/config';

"/software/packages/{prestaged}" = dict();

prefix "/software/components/metaconfig/services/{/etc/prestaged/spec.hcl}/contents";
"store" = "/var/lib/prestaged";
"peer" = dict(
    "listen", ":7946",
    "parents", list("lxb0012.example.org:7946", "lxb0013.example.org:7946"),
    "upload_limit", "900Mbit"
);
"mirrors" = list(
    dict("name", "central", "url", "https://images.example.org/vm/")
);
"trusts" = list(
    dict(
        "name", "cern",
        "list", "https://images.example.org/lists/cern.list",
        "ca_dir", "/etc/grid-security/certificates",
        "endorser_dn", "/DC=ch/DC=cern/OU=computers/CN=image-endorser",
        "endorser_ca", "/DC=ch/DC=cern/CN=CERN Grid Certification Authority"
    )
);
"images" = list(
    dict(
        "name", "slc6-batch",
        "sha256", "a5dc722d21dfba9bec3c8a1bd750a325c891e95314fd71611bb6c2f47bcb626f",
        "size", 10737418240,
        "path", "slc6-batch-20101130.img",
        "install", "/var/lib/libvirt/images/slc6-batch.img",
        "sources", list("parents", "mirror.central")
    ),
    dict(
        "name", "cernvm",
        "trust", "cern",
        "id", "a6d7b9e2-0a3c-4b5e-9f1d-2c3b4a5d6e7f",
        "install", "/var/lib/libvirt/images/cernvm.img"
    )
);
