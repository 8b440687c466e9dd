"""wispbill: the monthly money cycle of a wireless ISP."""
