mirror "central" {
  url = "https://images.example.org/vm/
}
