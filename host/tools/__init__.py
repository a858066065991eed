"""The host side of the in-session tools: the options enforced, the customer asked."""
