"""Sign-in: password hashing and policy, server-side sessions, and each sign-in mode."""
