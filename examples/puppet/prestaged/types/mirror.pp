# A mirror block of the spec: the directory images are fetched from
# (http, https, file, or a directory relative to the spec).
type Prestaged::Mirror = Struct[{
  url => String[1],
}]
