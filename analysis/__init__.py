"""wps-evidence: survey and interview data to policy briefs with fixed provenance."""

__version__ = "0.1.0"
