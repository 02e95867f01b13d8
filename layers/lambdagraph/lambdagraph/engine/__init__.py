"""The run executor: the one place that drives a compiled graph and emits protocol events."""
