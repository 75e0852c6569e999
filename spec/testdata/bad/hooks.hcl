# A hook runs a program by its absolute path, on known events, for a while.
mirror "central" { url = "https://images.example.org/vm/" }

hook "relative" {
  command = ["register-image"]
  on      = ["install", "delete"]
  timeout = "forever"
}

hook "relative" {
  command = ["/bin/true"]
}
