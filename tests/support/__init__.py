"""Helpers shared by test modules: data builders, servers, constants. Test modules import from
here (or from a fixture in a conftest), never from one another."""
