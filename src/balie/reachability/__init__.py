"""Where and when a shop can be reached: the public reachability endpoint for the widget."""
