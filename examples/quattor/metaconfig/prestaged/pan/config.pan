unique template metaconfig/prestaged/config;

include 'metaconfig/prestaged/schema';

bind "/software/components/metaconfig/services/{/etc/prestaged/spec.hcl}/contents" = prestaged_spec;

prefix "/software/components/metaconfig/services/{/etc/prestaged/spec.hcl}";
"module" = "prestaged/spec";
"mode" = 0644;
"owner" = "root";
"group" = "root";
# serve re-reads the spec on SIGHUP. prestaged-apply.timer converges the
# host; add "prestaged-apply" = "restart" to converge on every change, at
# the cost of ncm-ncd waiting for the images to arrive.
"daemons/prestaged" = "reload";
