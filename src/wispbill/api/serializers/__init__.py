"""Thin adapters: they shape JSON and hand the values to the services, one module per
sub-domain."""
