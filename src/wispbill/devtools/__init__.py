"""Tools for developing and measuring wispbill, shipped with it: the RouterOS API emulator
(tests, the demo, `wispbill routeros-emulator`) and the benchmark parts (`wispbill benchmark`).
It stands above the domain apps and below the adapters: the commands in `ops` use it, and no
domain app imports it (import-linter's layers)."""
