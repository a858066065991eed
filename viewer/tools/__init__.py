"""The viewer side of the in-session tools: Qt panels over the GUI-free cores."""
