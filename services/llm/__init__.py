"""The language model: one client, its call records, and model management on Ollama."""
