"""One candidate conversion of the `knn` backend: what it changes, and how it is written.

`method:strength` moves the envelope (`knn` frame selection or `stats` mapping) that far from
the dub's towards the mapping; `+ap:A` moves the voiced frames' band aperiodicity A times the
way from the dub's towards the speaker's (how breathy or noisy the voice is: eSpeak through WORLD
is far more periodic than a recorded voice); `+range:R` widens the converted log-F0 spread by R
(eSpeak's intonation is flatter than speech). E.g. "stats:1.0+ap:1.5+range:1.4".
"""

from __future__ import annotations

from dataclasses import dataclass

METHODS = ("knn", "stats")


@dataclass(frozen=True)
class Candidate:
    method: str
    strength: float = 1.0
    aperiodicity: float = 0.0  # 0: the dub's own aperiodicity
    f0_range: float = 1.0  # 1: the speaker's log-F0 spread

    @classmethod
    def parse(cls, text: str) -> Candidate:
        """'knn:0.5' -> Candidate('knn', 0.5); 'stats:1.0+ap:1.5+range:1.4' adds the rest."""
        head, *options = text.split("+")
        method, _, strength = head.partition(":")
        if method not in METHODS:
            raise ValueError(f"unknown conversion method {method!r} in candidate {text!r} "
                             f"(one of {', '.join(METHODS)})")
        values = {"ap": 0.0, "range": 1.0}
        for option in options:
            key, _, value = option.partition(":")
            if key not in values or not value:
                raise ValueError(f"unknown candidate option {option!r} in {text!r} "
                                 "(ap:A, range:R)")
            values[key] = float(value)
        return cls(method, float(strength or 1.0), values["ap"], values["range"])

    @property
    def envelope(self) -> tuple[str, float]:
        """What the spectral envelope depends on (candidates sharing it share its computation)."""
        return self.method, self.strength


def grid(envelopes: tuple[str, ...], aperiodicity: tuple[float, ...],
         f0_range: tuple[float, ...]) -> tuple[str, ...]:
    """Every combination, as candidate names (the plain envelope ones first)."""
    names = []
    for a in aperiodicity:
        for r in f0_range:
            for envelope in envelopes:
                name = envelope + (f"+ap:{a:g}" if a else "") + (
                    f"+range:{r:g}" if r != 1.0 else "")
                names.append(name)
    return tuple(names)
