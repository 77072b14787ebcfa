"""One module per figure; each ``measure(ctx, system)`` returns metric key → value for one run."""
