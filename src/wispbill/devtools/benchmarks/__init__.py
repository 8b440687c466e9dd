"""The parts of `wispbill benchmark`: each builds on the large ISP the command made and
returns a dict of figures (medians, and ratios measured in the same run)."""
