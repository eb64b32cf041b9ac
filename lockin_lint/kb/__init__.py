"""The knowledge base: rule files loaded, validated and compiled into the indexes the analyzers use."""
