"""The pure core: manifest view, findings, fixes and the engine. No I/O, no Flask, no click."""
