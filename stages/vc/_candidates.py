"""One candidate conversion of the `knn` backend: what it changes, and how it is written.

`method:strength` moves the envelope (`knn` frame selection or `stats` mapping) that far from
the dub's towards the mapping; `+ap:A` moves the voiced frames' WORLD-coded aperiodicity (one band
at 16 kHz) A times the way from the dub's towards the speaker's, below the level WORLD decodes
as noise only (how breathy the voice is: eSpeak through WORLD is far more periodic than a
recorded voice); `+range:R` widens the converted log-F0 spread by R
(eSpeak's intonation is flatter than speech). E.g. "stats:1.0+ap:1.5+range:1.4".
"""

from __future__ import annotations

from dataclasses import dataclass

from f2f.errors import ConfigError

METHODS = ("knn", "stats")


@dataclass(frozen=True)
class Candidate:
    method: str
    strength: float = 1.0
    aperiodicity: float = 0.0  # 0: the dub's own aperiodicity
    f0_range: float = 1.0  # 1: the speaker's log-F0 spread

    @classmethod
    def parse(cls, text: str) -> Candidate:
        """'knn:0.5' -> Candidate('knn', 0.5); 'stats:1.0+ap:1.5+range:1.4' adds the rest.
        A wrong name raises ConfigError naming it (checked when the Config is made)."""
        head, *options = text.split("+")
        method, _, strength = head.partition(":")
        if method not in METHODS:
            raise ConfigError(f"vc knn candidate {text!r}: unknown conversion method {method!r} "
                              f"(one of {', '.join(METHODS)}, e.g. 'stats:1.0+ap:1.5')")
        values = {"ap": 0.0, "range": 1.0}
        seen: set[str] = set()
        for option in options:
            key, _, value = option.partition(":")
            if key not in values or not value or key in seen:
                raise ConfigError(f"vc knn candidate {text!r}: unknown or repeated option "
                                  f"{option!r} (each of ap:A, range:R at most once)")
            seen.add(key)
            values[key] = _positive(value, text)
        return cls(method, _positive(strength, text) if strength else 1.0, values["ap"],
                   values["range"])

    @property
    def name(self) -> str:
        """The candidate written back as text ('stats:1+ap:1.5')."""
        return (f"{self.method}:{self.strength:g}"
                + (f"+ap:{self.aperiodicity:g}" if self.aperiodicity else "")
                + (f"+range:{self.f0_range:g}" if self.f0_range != 1.0 else ""))

    @property
    def envelope(self) -> tuple[str, float]:
        """What the spectral envelope depends on (candidates sharing it share its computation)."""
        return self.method, self.strength


def _positive(value: str, text: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not number > 0:  # also NaN
        raise ConfigError(f"vc knn candidate {text!r}: {value!r} is not a number > 0 "
                          "(e.g. 'stats:1.0+ap:1.5+range:1.4')")
    return number


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
