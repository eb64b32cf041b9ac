"""What concerns a whole project run: discovery, configuration, baselines and the cross-file passes."""
