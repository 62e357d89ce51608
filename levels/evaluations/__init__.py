"""好差评 (ratings of a case, and the rectification a bad one opens) and 投诉."""
