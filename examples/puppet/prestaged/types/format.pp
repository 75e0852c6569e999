# What a published image is (`format`): a disk format or a compression.
type Prestaged::Format = Enum['raw', 'qcow2', 'vmdk', 'ova', 'gz', 'xz', 'zst', 'bz2']
