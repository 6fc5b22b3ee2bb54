"""The committed benchmark: the gateway against a hand-written receiver and the bare HTTP stack."""
