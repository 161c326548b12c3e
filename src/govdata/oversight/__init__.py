"""Oversight (监督发现): the violation detectors that need facts of capabilities above supervision."""
