# What lands at an image's install path (`install_format`).
type Prestaged::InstallFormat = Enum['raw', 'qcow2', 'published']
