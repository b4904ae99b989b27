"""Set-based SQL reports over the whole book."""
