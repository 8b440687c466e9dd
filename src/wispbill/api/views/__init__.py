"""HTTP adapters over the services and selectors, one module per sub-domain."""
