"""Validation against known chemistry: a reference table (:mod:`.references`), the
calculations behind each item (:mod:`.checks`), a runner that judges them (:mod:`.suite`) and
a parity plot (:mod:`.plot`). ``superatom validate --level quick|full`` drives it."""
