#!/usr/bin/perl
# Renders an ncm-metaconfig Template Toolkit module the way ncm-metaconfig
# does, from a JSON file holding the service's `contents`, to preview or test
# a template without a Quattor profile:
#
#   perl examples/quattor/render.pl examples/quattor/metaconfig prestaged/spec contents.json
use strict;
use warnings;
use JSON::PP;
use Template;

@ARGV == 3 or die "usage: $0 INCLUDE_PATH MODULE CONTENTS.json\n";
my ($include, $module, $json) = @ARGV;
open(my $fh, '<', $json) or die "$json: $!\n";
my $contents = JSON::PP->new->decode(do { local $/; <$fh> });
close($fh);

my $tt = Template->new({INCLUDE_PATH => $include})
    or die Template->error(), "\n";
$tt->process("$module.tt", $contents) or die $tt->error(), "\n";
