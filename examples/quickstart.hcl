# Quickstart: install one small image from a mirror in this checkout.
#
#   prestaged plan  examples/quickstart.hcl
#   prestaged apply examples/quickstart.hcl
#
# Relative paths resolve against this file's directory, so the spec works
# from any checkout and working directory. Everything it writes lands in
# .quickstart/ at the top of the checkout (ignored by git): remove that
# directory to start again.

store = "../.quickstart/store"

mirror "local" {
  # A directory path becomes a file:// URL: examples/mirror/.
  url = "mirror/"
}

image "demo" {
  # mirror/demo.img is 2 MiB of a repeated line, made once with
  #   yes "prestaged demo image" | head -c 2097152 > examples/mirror/demo.img
  # and checked against this digest and size by examples_test.go.
  sha256  = "a5dc722d21dfba9bec3c8a1bd750a325c891e95314fd71611bb6c2f47bcb626f"
  size    = 2097152
  path    = "demo.img"
  install = "../.quickstart/images/demo.img"
}
